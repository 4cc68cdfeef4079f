"""The scikit-learn-style front door: :class:`Forecaster`.

``frames`` and ``timestamps`` turn pandas/polars frames (wide or long) into an aligned table
and back; ``params`` maps the estimator's parameters onto the Hydra run config; ``fitting``
trains through the shared pipeline; ``inference`` forecasts outside the Trainer;
``cross_validation``, ``persistence`` and ``search`` add rolling-origin evaluation,
save/load and Optuna tuning.
"""

from tsfm.estimator.cross_validation import CrossValidation
from tsfm.estimator.forecaster import Forecaster

__all__ = ["CrossValidation", "Forecaster"]
