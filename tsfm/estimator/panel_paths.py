"""Sample paths of a ``mode="independent"`` panel: :meth:`Forecaster.sample_paths` after the
end of every series of a long frame (or of the fitted data), as ``predict`` forecasts it.

The method is the joint case's (:mod:`tsfm.estimator.sample_paths`), per series: a panel's
calibration keeps the signed residual vector (every horizon step, in the series' own scaled
space, or normalised) of the last ``k`` validation windows of every series, all in one pool
of ``n = k * S`` windows, from which ``predict``'s intervals read one radius for every series
(:mod:`tsfm.training.conformal`, ``pooled_series``). A path of series ``s`` draws one window
of the pool (with replacement) and a random sign, and adds the whole vector, times the
series' scale (and its look-back spread with ``conformal_normalize``), to the series' point
forecast. So each step's spread is the interval's, up to one score (the central ``L`` % of
the paths is the ``L`` % quantile of the ``n`` scores, the interval the ``ceil((n + 1) L /
100)``-th), and a path moves over the horizon as the model's errors of one window did.

Several targets per series (``targets=[...]``): a window's vector holds every target, and a
path adds the whole of it, so the targets of a series move together as the model's errors
of one window did; each target on its series' own scale, each target's spread its own
interval's (per target with ``n >= 19`` pooled windows; below that ``predict`` pools the
targets' scores too, and a path shifts the targets cyclically within the drawn window, as
a joint model's series, :func:`~tsfm.estimator.sample_paths.draw`). The frame holds one
column per target, named as ``predict``'s.

Across series the paths are independent: every calibration window is one series' own (at its
own dates), so the pool holds no error vector over several series; a total over series drawn
from these paths ignores how the series' errors move together (fit them with
``mode="joint"`` for that, where a window holds every series).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import torch

from tsfm.data.frames import time_series
from tsfm.data.frames.write import id_series
from tsfm.estimator.accuracy import in_library
from tsfm.estimator.floors import floored_columns
from tsfm.estimator.panel_predict import panel_forecast, panel_inputs
from tsfm.estimator.sample_paths import check_size, draw, path_names
from tsfm.training.nonnegative import floor
from tsfm.training.scoring import lookback_spread


def panel_paths(
    est: Any, df: Any, count: int, residuals: np.ndarray, seed: int | None, future_df: Any
) -> Any:
    """``count`` paths of every series of ``df`` (or of the fitted data, ``df`` None; its
    static covariates joined already), drawn from the pooled calibration ``residuals``
    ``[n, H, N]`` (``N`` targets per series): rows (series, sample, timestamp), a column per
    target, as the module docstring says."""
    inputs = panel_inputs(est, df, True, "sample_paths")  # paths in the library of df
    targets = [str(t) for t in est.columns_]
    _, time_col, target_col = path_names(inputs.layout, targets)
    names = targets if len(targets) > 1 else [target_col]  # predict's target columns
    n_series, horizon, n = len(inputs.ids), est.horizon, len(targets)
    check_size(count, horizon, n_series * n)
    looks: list[torch.Tensor] = []
    # [S, H, N]; the model's own forecasts (nonnegative floors the paths, below)
    horizons, point, _ = panel_forecast(est, inputs, future_df, looks=looks, floored=False)
    conformal = est.module_.conformal
    rng = np.random.default_rng(seed)
    # one window (and sign, and shift where the targets' scores are pooled) per path, every
    # target of it: [S * count, H, N]
    drawn = draw(residuals, conformal.per_series, n, count * n_series, rng)
    paths = drawn.reshape(n_series, count, horizon, n)
    scale = inputs.std[:, :n].astype(np.float64)  # each series' and target's own scale: [S, N]
    if conformal.normalized:  # each forecast's own look-back spread, as its interval
        scale = scale * lookback_spread(torch.cat(looks)).double().numpy()[:, 0, :n]
    values = point[:, None] + paths * scale[:, None, None, :]  # [S, count, H, N]
    values = floor(values, floored_columns(est, targets))  # per target, all series or none
    times = np.broadcast_to(horizons[:, None, :], values.shape[:3]).reshape(-1)
    frame = pl.DataFrame(
        [
            id_series(inputs.layout, inputs.ids, count * horizon),
            time_series(time_col, times, inputs.layout.time_type),
            pl.Series("sample", np.tile(np.repeat(np.arange(count), horizon), n_series)),
            *(pl.Series(name, values[..., k].reshape(-1)) for k, name in enumerate(names)),
        ]
    )
    return in_library(frame, inputs.layout)
