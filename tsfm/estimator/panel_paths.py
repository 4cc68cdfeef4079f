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
from tsfm.errors import InputError
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
    ``[n, H, 1]``: rows (series, sample, timestamp), as the module docstring says."""
    if len(est.columns_) > 1:
        first, others = est.columns_[0], list(est.columns_[1:])
        raise InputError(
            f"sample paths of a panel whose series have several targets ({est.columns_}) are "
            "not available: fit one Forecaster per target for their paths, on the frame "
            f"without the other targets' columns (targets=[{first!r}] on "
            f"df.drop(columns={others})), or with them as covariates where they help forecast "
            f"it (targets=[{first!r}], past_covariates={others}); or use predict(level=...) "
            "for each target's intervals"
        )
    inputs = panel_inputs(est, df)  # the paths come back in the frame library of df
    _, time_col, target_col = path_names(inputs.layout)
    n_series, horizon = len(inputs.ids), est.horizon
    check_size(count, horizon, n_series)
    looks: list[torch.Tensor] = []
    # [S, H] each; the model's own forecasts (nonnegative floors the paths, below)
    horizons, point, _ = panel_forecast(est, inputs, future_df, looks=looks, floored=False)
    point = point[..., 0]  # [S, H]: one target
    conformal = est.module_.conformal
    rng = np.random.default_rng(seed)
    drawn = draw(residuals, conformal.per_series, 1, count * n_series, rng)  # [S * count, H, 1]
    paths = drawn[..., 0].reshape(n_series, count, horizon)
    scale = inputs.std[:, 0].astype(np.float64)  # each series' own scale: [S]
    if conformal.normalized:  # each forecast's own look-back spread, as its interval
        scale = scale * lookback_spread(torch.cat(looks)).double().numpy()[:, 0, 0]
    values = point[:, None, :] + paths * scale[:, None, None]  # [S, count, H]
    floored = floored_columns(est, list(est.columns_))  # one target: all series or none
    values = floor(values[..., None], floored)[..., 0]
    times = np.broadcast_to(horizons[:, None, :], values.shape).reshape(-1)
    frame = pl.DataFrame(
        [
            id_series(inputs.layout, inputs.ids, count * horizon),
            time_series(time_col, times, inputs.layout.time_type),
            pl.Series("sample", np.tile(np.repeat(np.arange(count), horizon), n_series)),
            pl.Series(target_col, values.reshape(-1)),
        ]
    )
    return in_library(frame, inputs.layout)
