"""Intervals and quantiles of a fitted Forecaster's forecasts: the columns ``predict(level=...,
quantiles=...)`` adds, and the quantile levels a backtest's windows need. Their scores
(``evaluate``, ``cross_validate``) are :mod:`tsfm.estimator.interval_scores`, which imports
the metrics (torchmetrics); ``predict`` after ``Forecaster.load`` never does.

Columns follow neuralforecast's names: ``<name>-lo-<L>`` and ``<name>-hi-<L>`` for the ``L`` %
interval and ``<name>-q-<tau>`` for a quantile, where ``<name>`` is the variate's column in a
wide frame and the target column (``y``) in a long one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.errors import InputError
from tsfm.estimator.interval_requests import (
    available_quantiles,
    requested_levels,
    requested_quantiles,
)
from tsfm.training.conformal import TooFewScores, supports
from tsfm.training.scoring import (
    check_levels,
    check_quantiles,
    default_levels,
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
    return grid_taus(check_quantiles(cfg.quantiles), scored_levels(est))


def scored_levels(est: Any) -> tuple[float, ...]:
    """The interval levels ``evaluate``, ``backtest``, ``cross_validate`` (a fold that is not
    refitted) and ``plot(level="auto")`` use: the fit's (``config_.levels``; where ``levels``
    was unset, those the fit chose), or after ``set_params(levels=...)`` those (unset again:
    the defaults the fitted model gives), refused where the fitted model cannot give them
    (:func:`check_model_levels`). Levels do not shape a model: a conformal model reads any
    level off its scores, a quantile head off its grid."""
    cfg = est.config_
    asked = est.extra_params().get("levels")
    fitted = (getattr(est, "fitted_params_", None) or {}).get("levels")
    if asked is None and fitted is None:
        return check_levels(cfg.levels or ())
    if asked is None:  # unset since the fit: the defaults, as a fit would choose them
        levels = default_levels(cfg.loss, cfg.quantiles)
        conformal = est.module_.conformal
        if conformal is not None:
            n = int(conformal.counts.min())
            levels = tuple(v for v in levels if supports(n, v)) or levels  # none: refused
    else:
        levels = check_levels(asked)
    if est.module_.has_intervals:
        check_model_levels(est, levels)
    return levels


def check_model_levels(est: Any, levels: Sequence[float]) -> None:
    """Refuses levels the fitted model cannot give: a quantile head's those its grid does not
    bound, conformal scores' those wider than they support (:class:`TooFewScores`)."""
    module = est.module_
    if module.head.name == "quantile":
        grid = [float(q) for q in module.head.levels]
        needed = [b for v in levels for b in level_bounds(v) if not _among(b, grid)]
        if needed:
            lacking = [
                level_name(v) for v in levels if not all(_among(b, grid) for b in level_bounds(v))
            ]
            shown = ", ".join(level_name(v) for v in default_levels("quantile", grid))
            raise InputError(
                f"levels has {', '.join(lacking)}: this model (loss='quantile') was fitted on "
                f"the quantiles {grid}, which lack {sorted(set(needed))}; ask for levels the "
                f"grid bounds (set_params(levels=[{shown}]), or levels=None for the defaults), "
                "or refit with quantiles holding those bounds"
            )
    elif module.conformal is not None:
        for level in levels:
            try:
                module.conformal.radius(float(level))
            except TooFewScores as err:
                raise TooFewScores(f"levels has {level_name(level)}: {err}", err.scores) from None


def _among(tau: float, grid: Sequence[float]) -> bool:
    return any(math.isclose(tau, q, abs_tol=1e-9) for q in grid)
