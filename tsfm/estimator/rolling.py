"""Forecasts of every window of a frame with a fitted Forecaster (:func:`backtest`), and their
point errors (:func:`error_metrics`); evaluate, cross-validation, calibration and interval
scores read the :class:`Backtest` it returns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsfm.data.frames import SeriesTable
from tsfm.estimator.fitted_record import fitted_targets
from tsfm.estimator.inference import (
    Windows,
    check_interval_variates,
    finite,
    forward,
    prepare,
    unscale,
    unscale_quantiles,
)
from tsfm.training.adaptive_conformal import adaptive_quantiles
from tsfm.training.scoring import lookback_spread


@dataclass
class Backtest:
    """Forecasts of every window: ``origins[w]`` is the row of window ``w``'s first target."""

    origins: np.ndarray
    forecast: np.ndarray  # [W, H, N] original scale, caller's column order
    actual: np.ndarray  # NaN where the target is missing
    forecast_scaled: np.ndarray
    actual_scaled: np.ndarray
    quantiles: np.ndarray | None = None  # [W, H, N, Q] at the taus asked for
    quantiles_scaled: np.ndarray | None = None
    lookback_scaled: np.ndarray | None = None  # [W, L, N] (MSIS's scale, normalised scores)
    lookback: np.ndarray | None = None  # [W, L, N] original scale, as the model saw it (filled)
    lookback_observed: np.ndarray | None = None  # [W, L, N]: observed (not filled, not padding)
    scale: np.ndarray | None = None  # [W, N] MASE/MSIS scale, original units (mase_scale="history")


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def backtest(
    est: Any,
    table: SeriesTable,
    stride: int = 1,
    taus: Sequence[float] = (),
    starts: np.ndarray | None = None,
    lookbacks: bool = False,
) -> Backtest:
    """Forecast every window of ``lookback + horizon`` rows in ``table`` (``stride`` rows
    apart, or those whose look-back starts at the rows ``starts``), with quantiles at
    ``taus``; ``lookbacks`` (implied by ``taus``) keeps the scaled look-backs."""
    lookback, horizon = est.lookback, est.horizon
    span = lookback + horizon
    if len(table) < span:
        raise ValueError(
            f"the frame has {len(table)} rows; scoring needs at least lookback + horizon = {span}"
        )
    prepared = prepare(est, table, lookback)  # new variates: scaler from the first look-back
    if taus:
        check_interval_variates(est, prepared)
    windows = Windows(est, prepared, prepared.table.times)
    if starts is None:
        starts = np.arange(0, len(table) - span + 1, stride)
    parts = [
        forward(est, windows.batch(starts[part]), taus)
        for part in _batches(len(starts), est.config_.data.eval_batch_size)
    ]
    forecast_scaled = finite(np.concatenate([point for point, _ in parts]), "the forecasts")
    actual_scaled = windows.actual(starts)
    restore = prepared.restore if prepared.restore is not None else slice(None)
    n = prepared.n_targets
    result = Backtest(
        origins=starts + lookback,
        forecast=unscale(prepared.scaler, forecast_scaled, n)[..., restore],
        actual=unscale(prepared.scaler, actual_scaled, n)[..., restore],
        forecast_scaled=forecast_scaled[..., restore],
        actual_scaled=actual_scaled[..., restore],
    )
    if taus:
        scaled = np.concatenate([quantiles for _, quantiles in parts])
        conformal = est.module_.conformal
        if conformal is not None and conformal.adaptive_rate:
            look = windows.scaled[starts[:, None] + np.arange(lookback)][..., :n]
            targets = starts[:, None] + lookback + np.arange(horizon)
            columns = list(prepared.table.columns[:n])
            fitted = fitted_targets(est, prepared.table.times, targets, columns)
            scaled = adaptive_backtest(
                conformal, forecast_scaled, actual_scaled, look, starts, taus, fitted
            )
        result.quantiles = unscale_quantiles(prepared.scaler, scaled, n)[..., restore, :]
        result.quantiles_scaled = scaled[..., restore, :]
    if taus or lookbacks:
        look = windows.scaled[starts[:, None] + np.arange(lookback)][..., :n]
        result.lookback_scaled = look[..., restore]
        result.lookback = unscale(prepared.scaler, look, n)[..., restore]
        if windows.mask is not None:  # MASE's and MSIS's scale: steps between observed rows
            seen = windows.mask[starts[:, None] + np.arange(lookback)][..., :n]
            result.lookback_observed = seen[..., restore].astype(bool)
    return result


def adaptive_backtest(
    conformal: Any,
    forecast: np.ndarray,
    actual: np.ndarray,
    lookback: np.ndarray,
    starts: np.ndarray,
    taus: Sequence[float],
    fitted: np.ndarray | None = None,
) -> np.ndarray:
    """Quantiles ``[W, H, N, Q]`` (scaled) of the windows under adaptive conformal, in the
    order the windows' targets become known (:mod:`tsfm.training.adaptive_conformal`).
    ``fitted [W, H, N]``: targets the model was fitted on, whose outcomes move no level (as
    missing ones): the windows after them read the level their own history gives."""
    observed = ~np.isnan(actual)
    if fitted is not None:
        observed &= ~fitted
    quantiles = adaptive_quantiles(
        conformal,
        torch.from_numpy(forecast),
        torch.from_numpy(np.nan_to_num(actual)),
        taus,
        torch.from_numpy(np.asarray(starts, dtype=np.int64)),
        observed=torch.from_numpy(observed),
        spread=lookback_spread(torch.from_numpy(np.nan_to_num(lookback))),
    )
    return quantiles.numpy()


def error_metrics(result: Backtest) -> dict[str, float]:
    """MSE/MAE/RMSE over every observed forecast value, scaled (papers) and original scale
    (interval metrics: :func:`tsfm.estimator.intervals.interval_metrics`; NaN when no target
    is observed), and ``windows``: the windows with at least one observed target."""
    metrics: dict[str, float] = {}
    observed = ~np.isnan(result.actual)
    for suffix, forecast, actual in (
        ("", result.forecast_scaled, result.actual_scaled),
        ("_original", result.forecast, result.actual),
    ):
        if not observed.any():  # every target missing or left out: nothing to score
            metrics.update({f"{k}{suffix}": float("nan") for k in ("mse", "mae", "rmse")})
            continue
        error = forecast - actual
        with np.errstate(over="ignore"):
            mse = float(np.nanmean(error**2))
            mae = float(np.nanmean(np.abs(error)))
        if not np.isfinite([mse, mae]).all():
            raise RuntimeError(
                f"the errors{suffix or ' (scaled)'} overflow float64 (MSE {mse}); the data's "
                "values are too large to score: rescale them"
            )
        metrics.update({f"mse{suffix}": mse, f"mae{suffix}": mae, f"rmse{suffix}": mse**0.5})
    metrics["windows"] = int(observed.any(axis=(1, 2)).sum())  # with an observed target
    return metrics
