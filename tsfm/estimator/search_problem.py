"""What a ``Forecaster.tune`` study's trial values mean, recorded with the study so that a
resumed study refuses another problem (:mod:`tsfm.tuning.problem`)."""

from __future__ import annotations

from typing import Any

from tsfm.estimator.params import MANAGED, config_key, set_value
from tsfm.estimator.preset_config import compose_for
from tsfm.tuning.problem import plain
from tsfm.tuning.problem import study_problem as config_problem

# Forecaster arguments that change what a trial trains on (the data's reading is in its digest)
TRAINING_ARGUMENTS = (
    "model", "mode", "lookback", "horizon", "freq", "targets", "future_covariates",
    "past_covariates", "static_covariates", "missing", "id_col", "time_col", "target_col",
    "date_col",
)  # fmt: skip


def study_problem(
    est: Any, space: dict[str, Any], metric: str, size: float | int, digest: str, static_df: Any
) -> dict[str, Any]:
    """What the study's trial values mean (:func:`tsfm.tuning.problem.study_problem`): the
    space, the metric, the validation share, the data and every setting left unsearched."""
    cfg = compose_for(est.model, est.experiment, est.overrides)
    for name, value in est.extra_params().items():
        set_value(cfg, config_key(est.model, name), plain(value), f"parameter '{name}'")
    problem = {k: v for k, v in config_problem(cfg, space, metric).items() if k not in MANAGED}
    params = est.get_params()
    problem.update({name: plain(params[name]) for name in TRAINING_ARGUMENTS})
    if "data.seq_len" in space:  # searched
        del problem["lookback"]
    problem.update(val_size=plain(size), data_sha256=digest)
    if static_df is not None:
        problem["static_df_sha256"] = _frame_digest(static_df)
    return problem


def _frame_digest(frame: Any) -> str:
    import hashlib

    import pandas as pd

    frame = frame.to_pandas() if hasattr(frame, "to_pandas") else pd.DataFrame(frame)
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    names = str([str(c) for c in frame.columns]).encode()
    return hashlib.sha256(names + hashed.tobytes()).hexdigest()
