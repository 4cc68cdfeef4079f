"""The scikit-learn-style front door: :class:`Forecaster`.

``frames`` and ``timestamps`` turn pandas/polars frames (wide or long) into an aligned table
and back; ``params`` maps the estimator's parameters onto the Hydra run config; ``fitting``
trains through the shared pipeline; ``inference`` forecasts outside the Trainer;
``cross_validation``, ``persistence`` and ``search`` add rolling-origin evaluation,
save/load and Optuna tuning.
"""

from typing import Any

__all__ = ["CrossValidation", "Forecaster"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the Forecaster's module imports torch and Lightning lazily too.
    if name == "Forecaster":
        from tsfm.estimator.forecaster import Forecaster

        return Forecaster
    if name == "CrossValidation":
        from tsfm.estimator.cross_validation import CrossValidation

        return CrossValidation
    raise AttributeError(f"module 'tsfm.estimator' has no attribute {name!r}")
