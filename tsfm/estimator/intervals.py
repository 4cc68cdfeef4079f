"""Intervals and quantiles of a fitted Forecaster: the columns ``predict(level=...,
quantiles=...)`` adds, and the interval metrics of ``evaluate`` and ``cross_validate``.

Columns follow neuralforecast's names: ``<name>-lo-<L>`` and ``<name>-hi-<L>`` for the ``L`` %
interval and ``<name>-q-<tau>`` for a quantile, where ``<name>`` is the variate's column in a
wide frame and the target column (``y``) in a long one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tsfm.estimator.accuracy import Scores, reported, window_scales
from tsfm.estimator.interval_requests import (
    available_quantiles,
    requested_levels,
    requested_quantiles,
)
from tsfm.estimator.rolling import Backtest, error_metrics
from tsfm.training.interval_metrics import IntervalMetrics
from tsfm.training.scoring import (
    MSIS_LEVEL,
    check_levels,
    index_of,
    level_bounds,
    level_name,
)


def pooled_result(est: Any, scored: Backtest, scores: Scores) -> dict[str, float]:
    """``evaluate``'s pooled dict: errors, interval metrics, scale-free metrics and
    baselines (the defined ones) and the season length."""
    out = {**error_metrics(scored), **reported(interval_metrics(est, scored))}
    out.update(reported(scores.pooled()))
    out["season_length"] = scores.lag
    return out


def require_intervals(est: Any) -> None:
    if not est.module_.has_intervals:
        raise ValueError(
            f"this Forecaster forecasts points only (loss={est.config_.loss!r}); for intervals "
            "fit it with loss='quantile', 'normal' or 'student_t', or with conformal_windows=k "
            "(k calibration windows; 19 or more for a 95 % interval per series)"
        )


def column_request(
    est: Any, level: Sequence[float] | None, quantiles: bool | Sequence[float] = False
) -> tuple[tuple[float, ...], list[tuple[str, float]]]:
    """The quantile levels a ``predict`` call needs, and ``(suffix, tau)`` per new column in
    neuralforecast's order (``-lo-95, -lo-80, -hi-80, -hi-95``, then the quantiles, ascending):
    ``quantiles=True`` the fitted grid, a list those levels (see
    :mod:`tsfm.estimator.interval_requests`)."""
    asked = requested_quantiles(quantiles)
    levels = requested_levels(level) if level is not None else ()
    if level is None and asked is None:
        return (), []
    require_intervals(est)
    taus_asked = tuple(float(q) for q in est.config_.quantiles) if asked is True else asked or ()
    available_quantiles(est, taus_asked)
    columns = [(f"-lo-{level_name(v)}", level_bounds(v)[0]) for v in reversed(levels)]
    columns += [(f"-hi-{level_name(v)}", level_bounds(v)[1]) for v in levels]
    columns += [(f"-q-{q:g}", q) for q in taus_asked]
    taus = tuple(sorted({round(tau, 12) for _, tau in columns}))
    return taus, columns


def band_values(
    columns: list[tuple[str, float]], taus: Sequence[float], quantiles: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """``(suffix, values [H, N])`` per new column from quantiles ``[H, N, Q]`` at ``taus``."""
    return [(suffix, quantiles[..., index_of(taus, tau)]) for suffix, tau in columns]


def metric_taus(est: Any) -> tuple[float, ...]:
    """The quantile levels the interval metrics need (the CRPS grid and every level's bounds),
    or none for a point model."""
    if not est.module_.has_intervals:
        return ()
    return IntervalMetrics(est.config_.quantiles, est.config_.levels).taus


def interval_names(est: Any) -> list[str]:
    """The interval metrics the model's ``levels`` give, in their order: ``crps``,
    ``coverage_<L>`` and ``width_<L>`` per level, ``msis`` when 95 is one of them. Every set
    of windows reports each of them (NaN where undefined), so folds concatenate."""
    levels = check_levels(est.config_.levels)
    names = ["crps"]
    for level in levels:
        names += [f"coverage_{level_name(level)}", f"width_{level_name(level)}"]
    if MSIS_LEVEL in levels:
        names.append("msis")
    return names


def _every(est: Any, values: dict[str, Any], missing: Any) -> dict[str, Any]:
    """``values`` with every one of :func:`interval_names`, in that order (``missing`` where
    the windows leave one undefined: MSIS without a usable scale)."""
    return {name: values.get(name, missing) for name in interval_names(est)}


def interval_metrics(est: Any, result: Backtest) -> dict[str, float]:
    """CRPS, coverage and width per level (scaled, and ``crps_original``, ``width_*_original``)
    and MSIS of every window of a backtest run with :func:`metric_taus` (MSIS on the original
    scale, over :func:`~tsfm.estimator.accuracy.window_scales`: a ratio, the same on both; NaN
    where undefined)."""
    if result.quantiles is None:
        return {}
    cfg = est.config_
    scaled, original = (IntervalMetrics(cfg.quantiles, cfg.levels) for _ in range(2))
    observed = torch.from_numpy(~np.isnan(result.actual_scaled))  # missing targets left out
    scaled.update(
        torch.from_numpy(result.quantiles_scaled),
        torch.from_numpy(np.nan_to_num(result.actual_scaled)),
        mask=observed,
    )
    original.update(
        torch.from_numpy(result.quantiles),
        torch.from_numpy(np.nan_to_num(result.actual)),
        torch.from_numpy(window_scales(est, result)),
        observed,
    )
    computed = {name: float(value) for name, value in scaled.compute().items()}
    on_original = original.compute()
    if "msis" in on_original:
        computed["msis"] = float(on_original["msis"])
    metrics = _every(est, computed, float("nan"))
    for name, value in on_original.items():
        if name.startswith(("crps", "width")):
            metrics[f"{name}_original"] = float(value)
    return metrics


def series_interval_metrics(
    est: Any, result: Backtest, series: np.ndarray | None = None, n_series: int | None = None
) -> dict[str, np.ndarray]:
    """:func:`interval_metrics` of each series, in its own units (``crps``, ``coverage_<L>``,
    ``width_<L>``, ``msis``): series ``j`` is column ``j`` of a joint backtest, or with
    ``series`` (each window's, of ``n_series``) the windows of a panel."""
    if result.quantiles is None:
        return {}
    cfg = est.config_
    actual = result.actual
    observed = torch.from_numpy(~np.isnan(actual))
    if series is None:
        n_series = actual.shape[2]
        group = torch.arange(n_series).expand(*actual.shape)
    else:
        group = torch.from_numpy(np.asarray(series, np.int64))[:, None, None].expand(*actual.shape)
    scale = None
    if result.lookback is not None or result.scale is not None:
        scale = torch.from_numpy(window_scales(est, result))
    grouped = IntervalMetrics(cfg.quantiles, cfg.levels).grouped(
        group,
        int(n_series),
        torch.from_numpy(result.quantiles),
        torch.from_numpy(np.nan_to_num(actual)),
        scale,
        observed,
    )
    values = {name: value.numpy() for name, value in grouped.items()}
    return _every(est, values, np.full(int(n_series), np.nan))
