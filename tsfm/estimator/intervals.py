"""Intervals and quantiles of a fitted Forecaster's forecasts: the columns ``predict(level=...,
quantiles=...)`` adds, and the quantile levels a backtest's windows need. Their scores
(``evaluate``, ``cross_validate``) are :mod:`tsfm.estimator.interval_scores`, which imports
the metrics (torchmetrics); ``predict`` after ``Forecaster.load`` never does.

Columns follow neuralforecast's names: ``<name>-lo-<L>`` and ``<name>-hi-<L>`` for the ``L`` %
interval and ``<name>-q-<tau>`` for a quantile, where ``<name>`` is the variate's column in a
wide frame and the target column (``y``) in a long one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.errors import InputError
from tsfm.estimator.interval_requests import (
    available_quantiles,
    requested_levels,
    requested_quantiles,
)
from tsfm.training.scoring import (
    check_levels,
    check_quantiles,
    grid_taus,
    index_of,
    level_bounds,
    level_name,
)


def require_intervals(est: Any) -> None:
    if not est.module_.has_intervals:
        raise InputError(
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
    cfg = est.config_  # the taus of the interval metrics (IntervalMetrics), checked as there
    return grid_taus(check_quantiles(cfg.quantiles), check_levels(cfg.levels))
