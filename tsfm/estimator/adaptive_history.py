"""The adaptive-conformal level ``predict(df, level=...)`` reads its intervals at.

The rule is ``evaluate``'s (:func:`tsfm.estimator.rolling.backtest` under
``conformal_adaptive_rate``), so ``predict(df.iloc[:c])`` gives the intervals of the window of
``evaluate(df)`` whose look-back ends at row ``c - 1``. Adaptive conformal runs along every
window whose look-back ``df`` holds, in origin order, and an outcome moves the level once it
is observed: step ``h`` of the window whose first target is row ``o`` counts for the forecasts
from the rows after ``o + h`` on, so the windows whose horizon runs past ``df``'s end count
with the steps ``df`` holds (as they would in a rolling deployment, where those forecasts were
made and their first outcomes have arrived).

Outcomes at rows the model was fitted on (its training and validation rows, the windows its
conformal scores came from among them; by timestamp, over every fit a warm fit went through)
move nothing: a model hits the data it was fitted on more often than new data, and the split
level already comes from its calibration windows. So the intervals do not depend on how much
fitted history ``df`` holds, and a ``df`` of fitted rows only gives the split intervals, as
``predict()`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tsfm.data.frames import SeriesTable
from tsfm.estimator.fitted_record import fitted_targets
from tsfm.estimator.future import future_rows
from tsfm.estimator.inference import prepare
from tsfm.estimator.intervals import metric_taus
from tsfm.estimator.model_outputs import RadiusOf
from tsfm.estimator.rolling import backtest
from tsfm.training.adaptive_conformal import aci_radii, interval_levels, window_scores
from tsfm.training.scoring import lookback_spread


def teaching_windows(est: Any, table: SeriesTable) -> tuple[np.ndarray, np.ndarray]:
    """The origins (rows of the first targets) of ``table``'s windows with an outcome to
    teach, the forecast to come (origin ``len(table)``) last, and ``[W, H, N]`` which of their
    targets (in the model's order) do: held by ``table`` and not fitted on. Windows with none
    would move nothing and are left out."""
    n, horizon = len(table), est.horizon
    prepared = prepare(est, table, est.lookback_)
    columns = list(prepared.table.columns[: prepared.n_targets])
    origins = np.arange(est.lookback_, n + 1)
    targets = origins[:, None] + np.arange(horizon)
    held = targets < n
    fitted = fitted_targets(est, table.times, np.where(held, targets, 0), columns)
    known = held[..., None] & ~fitted
    keep = known.any(axis=(1, 2))
    keep[-1] = True
    return origins[keep], known[keep]


def adapted_radius(
    est: Any, table: SeriesTable, taus: Sequence[float], future_df: Any = None
) -> RadiusOf | None:
    """With ``conformal_adaptive_rate``, the radii the forecast after ``table`` reads its
    levels at (see the module docstring; ``future_df``: the future covariates of the horizon,
    which the windows whose horizon runs past ``table``'s end read too). None without a rate,
    without conformal scores or without an outcome to adapt to (the split radii then)."""
    conformal = est.module_.conformal
    if conformal is None or not conformal.adaptive_rate or not taus:
        return None
    origins, known = teaching_windows(est, table)
    if len(origins) == 1:
        return None
    joined, _ = future_rows(est, table, future_df)  # the horizon rows: never targets here
    result = backtest(est, joined, starts=origins - est.lookback_, lookbacks=True)
    restore = prepare(est, table, est.lookback_).restore
    order = np.argsort(restore) if restore is not None else slice(None)  # the model's order
    forecast, actual, look = (
        torch.from_numpy(values[..., order])
        for values in (result.forecast_scaled, result.actual_scaled, result.lookback_scaled)
    )
    observed = torch.from_numpy(known)
    spread = lookback_spread(torch.nan_to_num(look))
    scores, observed, _ = window_scores(conformal, forecast, actual, observed, spread)
    # nested over evaluate's levels too, so a level's bounds do not depend on the others asked
    levels = interval_levels([*taus, *metric_taus(est)])
    radii = aci_radii(
        conformal.sorted_scores,
        scores,
        torch.from_numpy(origins.astype(np.int64)),
        levels,
        conformal.adaptive_rate,
        observed,
        counts=conformal.counts,
    )[-1]
    return lambda level: radii[levels.index(level)].float() if level else radii[0] * 0
