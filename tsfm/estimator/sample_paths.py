"""Sample paths of a forecast: ``Forecaster.sample_paths(df, n_samples=..., seed=...)``.

A sample path is one possible future of every horizon step (and series) at once, so the
distribution of anything computed from a whole path (a weekly total, a peak, the step of the
peak) can be read off the paths; the intervals of ``predict(level=...)`` give each step's
marginal only.

Method (a symmetrised residual-path bootstrap over the conformal calibration windows): the
calibration of ``conformal_windows=k`` keeps, for each of its ``k`` windows, the signed
residual ``y - y_hat`` of every horizon step and series (in the scaled space, or divided by
the window's look-back spread with ``conformal_normalize``); the conformal intervals are read
from their absolute values. A path draws one calibration window (with replacement) and one
random sign, and adds the whole residual vector of that window, times the sign, to the point
forecast (times the forecast's look-back spread when normalised, and on the data's scale).
So

* the residuals of one window stay together: the dependence across horizon steps (and
  series) of the model's real errors is kept: an error that persists over the horizon makes
  paths that stay above or below the forecast, and a total's spread reflects it;
* each step's marginal is the symmetric distribution of the scores the interval is read
  from: the paths' central ``L`` % band is the interval's up to one calibration score (the
  interval reads the ``ceil((n + 1) L / 100)``-th smallest of ``n`` scores, the finite-sample
  correction; the paths' band the ``L`` % quantile of those ``n``);
* where the interval pools the series' scores (fewer than 19 windows and several series),
  a path also draws a shift ``c``: series ``j`` takes the residuals of series ``j + c``
  (cyclically) of the drawn window, so each series' marginal is the pooled scores' and the
  window's residuals still move together;
* a residual missing in the drawn window (a missing target, ``missing='mask'``) is drawn
  from that step's observed residuals of the same series (of the pool, when pooled).

Assumptions and limits: the future window's errors are exchangeable with the calibration
windows' (as for the conformal intervals; no drift between them), and ``k`` windows give at
most ``2 k`` distinct paths per series, so the tails of a path statistic are as coarse as
``k`` is small. This is no model-based generative sampling: the paths are the point forecast
plus past errors of the model, not draws of a probabilistic model. With
``conformal_adaptive_rate`` the paths follow the split (calibration) scores, as ``predict()``
without ``df`` does; adaptive conformal moves a level, which no whole path can follow.
``mode="independent"`` panels draw per series from their pooled windows
(:mod:`tsfm.estimator.panel_paths`).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import polars as pl

from tsfm.errors import InputError
from tsfm.training.nonnegative import floor
from tsfm.training.scoring import lookback_spread

MAX_VALUES = 50_000_000  # ~400 MB of float64 values in one frame


def check_request(n_samples: Any, seed: Any) -> int:
    """``n_samples`` as a whole number >= 1, and ``seed`` None or a whole number >= 0."""
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, (bool, np.bool_)):
        raise InputError(
            f"n_samples takes a whole number >= 1, e.g. n_samples=200; got {n_samples!r}"
        )
    if n_samples < 1:
        raise InputError(
            f"n_samples takes a whole number >= 1, e.g. n_samples=200; got {n_samples}"
        )
    if seed is not None and (
        not isinstance(seed, numbers.Integral) or isinstance(seed, (bool, np.bool_)) or seed < 0
    ):
        raise InputError(
            f"seed takes a whole number >= 0 (the same seed, the same paths) or None (fresh "
            f"paths each call); got {seed!r}"
        )
    return int(n_samples)


def check_size(count: int, horizon: int, n: int) -> None:
    """Refuses ``count`` paths of ``horizon`` steps of ``n`` series too many to hold."""
    if count * horizon * n > MAX_VALUES:
        raise InputError(
            f"{count} paths of {horizon} steps of {n} series would hold {count * horizon * n:,} "
            f"values (more than {MAX_VALUES:,}); ask for fewer n_samples, or forecast fewer "
            "series per call"
        )


def path_names(layout: Any, targets: list[str] | None = None) -> tuple[str, str, str]:
    """The id, time and target columns of the paths frame (with ``sample`` among them);
    ``targets``: a panel's several targets, each a column of the frame too."""
    from tsfm.estimator.accuracy import series_names

    id_col, time_col, target_col = series_names(layout)
    if "sample" in (id_col, time_col, target_col):
        raise InputError(
            "the paths frame has a column 'sample', and the frame names its id, time or "
            "target column 'sample' too: rename that column (Forecaster(id_col=..., "
            "time_col=..., target_col=...))"
        )
    if targets is not None and len(targets) > 1 and "sample" in targets:
        raise InputError(
            f"the paths frame has a column 'sample', and targets={targets} names a target "
            "'sample' too: rename that column in the frame (and in targets=[...])"
        )
    return id_col, time_col, target_col


def residual_source(est: Any) -> np.ndarray:
    """The signed calibration residuals ``[k, H, C]`` paths are drawn from, or the refusal
    of a model without them naming how to get them."""
    module, cfg = est.module_, est.config_
    fix = (
        "fit a point model with calibration windows: Forecaster(..., conformal_windows=k) "
        "(loss='mse' or another point loss; k >= 19 keeps each series' own residuals, and "
        "val_size=... or fit(df, val_df) calibrates on the validation rows)"
    )
    if est.mode_ == "independent":  # calibrated on every series' last validation windows
        fix = (
            "fit a point model with calibration windows: Forecaster(..., mode='independent', "
            "val_size=..., conformal_windows=k) (loss='mse' or another point loss; the last k "
            "validation windows of every series are pooled)"
        )
    if module.head.probabilistic:
        raise InputError(
            f"sample paths are drawn from conformal calibration residuals; this model "
            f"forecasts each step's distribution (loss={cfg.loss!r}), which says nothing of "
            f"how the steps move together, so it has no paths: {fix}"
        )
    conformal = module.conformal
    if conformal is None:
        raise InputError(
            f"sample paths are drawn from conformal calibration residuals, and this model was "
            f"fitted without calibration windows (conformal_windows=0): {fix}"
        )
    if conformal.residuals is None:
        raise InputError(
            "this model's conformal scores were saved without the residuals' signs (by a tsfm "
            "before sample paths), so their paths cannot be drawn: fit it again (the same "
            "settings) and save it again"
        )
    return conformal.residuals.double().numpy()


def draw(
    residuals: np.ndarray, per_series: bool, n_series: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Residual paths ``[count, H, n_series]`` (scaled or normalised, the model's series
    order): one calibration window and sign per path, whole vectors (module docstring)."""
    k, _, owners = residuals.shape
    window = rng.integers(k, size=count)
    shift = np.zeros(count, dtype=int) if per_series else rng.integers(owners, size=count)
    source = (np.arange(n_series)[None, :] + shift[:, None]) % owners  # [count, N]
    paths = np.moveaxis(residuals[window[:, None], :, source], 2, 1)  # [count, H, N]
    missing = np.isnan(paths)
    if missing.any():  # a missing target: that step's observed residuals of the same source
        for step, series in {(h, j) for _, h, j in zip(*np.nonzero(missing), strict=True)}:
            at = missing[:, step, series]
            owner = source[at, series]
            for c in np.unique(owner):
                pool = residuals[:, step, c] if per_series else residuals[:, step, :].ravel()
                pool = pool[~np.isnan(pool)]
                rows = np.flatnonzero(at)[owner == c]
                paths[rows, step, series] = rng.choice(pool, size=len(rows))
    sign = rng.choice(np.array([-1.0, 1.0]), size=count)
    return paths * sign[:, None, None]


def sample_paths(
    est: Any, df: Any, n_samples: int, seed: int | None, future_df: Any, static_df: Any
) -> Any:
    """The paths frame of :meth:`Forecaster.sample_paths`."""
    from tsfm.estimator.accuracy import in_library
    from tsfm.estimator.floors import floored_columns
    from tsfm.estimator.inference import next_window, one_window, table_to_forecast_from
    from tsfm.estimator.interval_requests import check_interval_variates
    from tsfm.estimator.static_inputs import with_static_df

    count = check_request(n_samples, seed)
    residuals = residual_source(est)
    df = with_static_df(est, df, static_df)
    if est.mode_ == "independent":
        from tsfm.estimator.panel_paths import panel_paths

        return panel_paths(est, df, count, residuals, seed, future_df)
    table = table_to_forecast_from(est, df)
    prepared, windows, times = next_window(est, table, future_df)
    check_interval_variates(est, prepared)
    n, horizon = prepared.n_targets, est.horizon
    check_size(count, horizon, n)
    # [H, N], the caller's order; the model's own (nonnegative floors the paths, below)
    point, _ = one_window(est, prepared, windows, (), floored=False)
    conformal = est.module_.conformal
    paths = draw(residuals, conformal.per_series, n, count, np.random.default_rng(seed))
    if conformal.normalized:  # the forecast's own look-back spread, as its interval
        x = windows.batch(np.array([0]))["x"]
        paths = paths * lookback_spread(x)[0].double().numpy()
    if prepared.scaler is not None:  # scaled differences -> the data's units
        paths = paths * prepared.scaler.std[:n]
    if prepared.restore is not None:
        paths = paths[..., prepared.restore]
    columns = est.output_columns(table)
    values = floor(point[None] + paths, floored_columns(est, columns))  # [count, H, N]
    id_col, time_col, target_col = path_names(table.layout)
    from tsfm.data.frames import time_series

    horizon_times = times[est.lookback_ :]
    frame = pl.DataFrame(
        [
            pl.Series(id_col, [c for c in columns for _ in range(count * horizon)]),
            time_series(time_col, np.tile(horizon_times, n * count), table.layout.time_type),
            pl.Series("sample", np.tile(np.repeat(np.arange(count), horizon), n)),
            pl.Series(target_col, values.transpose(2, 0, 1).reshape(-1)),
        ]
    )
    return in_library(frame, table.layout)
