"""Hyperparameter search with Optuna, shared by ``python -m tsfm.tune`` and ``Forecaster.tune``.

``space`` parses search spaces written in Hydra's sweeper grammar, ``study`` opens (or
resumes) a study and runs trials (``storage``: where the study is kept), ``outputs`` writes
the best overrides, the results table and the plots. Optuna is imported only when a study runs.
"""

from tsfm.tuning.config import TuneConfig

__all__ = ["TuneConfig"]
