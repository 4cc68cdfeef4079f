"""A fitted Forecaster's ``nonnegative`` setting applied to its outputs
(:mod:`tsfm.training.nonnegative`): which columns it floors, the floored forecasts of a
:class:`~tsfm.estimator.rolling.Backtest` that ``evaluate``/``backtest`` score, and the refusal
of marked targets whose training values go below zero."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.training.nonnegative import (
    check_targets,
    floor,
    floor_scaled,
    marked,
    refuse_negative,
    setting_of,
)


def _long_target(layout: Any, mode: str) -> str | None:
    """A joint long frame's target column, whose name marks every series (its columns are
    the series, whatever their ids: one may be the target column's name); None where the
    columns are the targets themselves (wide frames, and ``mode="independent"`` panels, whose
    several targets' first is the layout's target_col)."""
    if layout is None or layout.kind != "long" or mode == "independent":
        return None
    return layout.target_col


def floored_columns(est: Any, columns: Sequence) -> np.ndarray:
    """Which of the forecast's ``columns`` (targets; a long frame's series) ``est`` floors."""
    value = setting_of(getattr(est, "config_", None))
    layout, mode = getattr(est, "layout_", None), getattr(est, "mode_", "joint")
    return marked(value, columns, _long_target(layout, mode))


def floor_result(result: Any, mask: np.ndarray, mean: Any, std: Any) -> Any:
    """``result`` (a Backtest, columns in ``mask``'s order) with its forecasts and quantiles
    floored, the scaled ones following (``mean``, ``std``: the scaling, broadcast as the
    values; None without); unchanged when nothing is marked."""
    if not mask.any():
        return result
    zero = 0.0 if mean is None else -np.asarray(mean) / np.asarray(std)
    forecast = floor(result.forecast, mask)
    result.forecast_scaled = floor_scaled(result.forecast_scaled, result.forecast, forecast, zero)
    result.forecast = forecast
    if result.quantiles is not None:
        quantiles = floor(result.quantiles, mask, quantiles=True)
        zero_q = zero if np.ndim(zero) == 0 else np.asarray(zero)[..., None]
        if result.quantiles_scaled is not None:
            result.quantiles_scaled = floor_scaled(
                result.quantiles_scaled, result.quantiles, quantiles, zero_q
            )
        result.quantiles = quantiles
    return result


def check_fit_values(
    cfg: Any,
    values: np.ndarray,
    columns: Sequence,
    targets: Sequence,
    times: Any,
    layout: Any,
    mode: str,
    series: Any = None,
) -> None:
    """Before training: the listed names are targets, and no marked target of ``values``
    (the rows a fit of ``mode`` trains and validates on, columns ``columns``; of the panel
    series ``series``) is below zero."""
    value = setting_of(cfg)
    if not value:
        return
    long_target = _long_target(layout, mode)
    check_targets(value, targets, long_target)
    wanted = {str(t) for t in targets}
    is_target = np.array([str(c) in wanted for c in columns], dtype=bool)
    mask = marked(value, columns, long_target) & is_target
    refuse_negative(values, columns, times, mask, series)
