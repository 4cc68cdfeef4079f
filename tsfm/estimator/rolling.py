"""Forecasts of every window of a frame with a fitted Forecaster (:func:`backtest`, or a chunk
of windows at a time: :func:`backtest_chunks`), and their point errors (:func:`error_metrics`,
summed over chunks by :class:`PointErrors`); evaluate, cross-validation, calibration and
interval scores read the :class:`Backtest` it returns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsfm.data.frames import SeriesTable
from tsfm.errors import InputError
from tsfm.estimator.fitted_record import fitted_targets
from tsfm.estimator.floors import floor_result, floored_columns
from tsfm.estimator.inference import Prepared, Windows, prepare
from tsfm.estimator.interval_requests import check_interval_variates
from tsfm.estimator.model_outputs import finite, forward, unscale, unscale_quantiles
from tsfm.estimator.window_chunks import chunk_size, spans
from tsfm.training.adaptive_conformal import adaptive_quantiles
from tsfm.training.scoring import lookback_spread


@dataclass
class Backtest:
    """Forecasts of every window: ``origins[w]`` is the row of window ``w``'s first target."""

    origins: np.ndarray
    forecast: np.ndarray  # [W, H, N] original scale, caller's column order
    actual: np.ndarray  # as read (never scaled and back), NaN where the target is missing
    forecast_scaled: np.ndarray
    actual_scaled: np.ndarray
    quantiles: np.ndarray | None = None  # [W, H, N, Q] at the taus asked for
    quantiles_scaled: np.ndarray | None = None
    lookback_scaled: np.ndarray | None = None  # [W, L, N] (MSIS's scale, normalised scores)
    lookback: np.ndarray | None = None  # [W, L, N] as read, filled as the model saw it
    lookback_observed: np.ndarray | None = None  # [W, L, N]: observed (not filled, not padding)
    scale: np.ndarray | None = None  # [W, N] MASE/MSIS scale, original units (mase_scale="history")


def _windows(est: Any, table: SeriesTable, taus: Sequence[float]) -> tuple[Prepared, Windows]:
    """``table`` prepared for the model (new variates: scaler from the first look-back) and
    cut into windows, checked."""
    span = est.lookback_ + est.horizon
    if len(table) < span:
        raise InputError(
            f"the frame has {len(table)} rows; scoring needs at least lookback + horizon = {span}"
        )
    prepared = prepare(est, table, est.lookback_)
    if taus:
        check_interval_variates(est, prepared)
    return prepared, Windows(est, prepared, prepared.table.times)


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
    prepared, windows = _windows(est, table, taus)
    if starts is None:
        starts = np.arange(0, len(table) - est.lookback_ - est.horizon + 1, stride)
    return _forecasts(est, prepared, windows, starts, taus, lookbacks)


def backtest_chunks(est: Any, table: SeriesTable, taus: Sequence[float] = ()) -> Iterator[Backtest]:
    """:func:`backtest` of every window (``lookbacks=True``) a chunk of windows at a time
    (:mod:`tsfm.estimator.window_chunks`), so that memory holds one chunk; in one chunk under
    adaptive conformal, whose intervals depend on every window before. The forecasts of
    ``nonnegative`` targets are floored (what evaluate and backtest score); :func:`backtest`'s
    are the model's own (calibration's residuals)."""
    prepared, windows = _windows(est, table, taus)
    starts = np.arange(0, len(table) - est.lookback_ - est.horizon + 1)
    size = chunk_size(est, prepared.table.values.shape[1], len(taus))
    conformal = est.module_.conformal
    if taus and conformal is not None and conformal.adaptive_rate:
        size = len(starts)
    n = prepared.n_targets
    restore = prepared.restore if prepared.restore is not None else slice(None)
    mask = floored_columns(est, np.array(prepared.table.columns[:n], dtype=object)[restore])
    scaler = prepared.scaler
    mean, std = (
        (None, None) if scaler is None else (scaler.mean[:n][restore], scaler.std[:n][restore])
    )
    for part in spans(len(starts), size):
        result = _forecasts(est, prepared, windows, starts[part], taus, True)
        yield floor_result(result, mask, mean, std)  # nonnegative: what the scores read


def _forecasts(
    est: Any,
    prepared: Prepared,
    windows: Windows,
    starts: np.ndarray,
    taus: Sequence[float],
    lookbacks: bool,
) -> Backtest:
    """The :class:`Backtest` of the windows whose look-back starts at the rows ``starts``."""
    lookback = est.lookback_
    parts = [
        forward(est, windows.batch(starts[part]), taus)
        for part in spans(len(starts), est.config_.data.eval_batch_size)
    ]
    forecast_scaled = finite(
        np.concatenate([point for point, _ in parts]), "the forecasts", est.module_
    )
    actual_scaled = windows.actual(starts)
    restore = prepared.restore if prepared.restore is not None else slice(None)
    n = prepared.n_targets
    result = Backtest(
        origins=starts + lookback,
        forecast=unscale(prepared.scaler, forecast_scaled, n)[..., restore],
        actual=windows.actual_read(starts)[..., restore],  # as read: never unscaled
        forecast_scaled=forecast_scaled[..., restore],
        actual_scaled=actual_scaled[..., restore],
    )
    look = (
        windows.scaled[starts[:, None] + np.arange(lookback)][..., :n]
        if taus or lookbacks
        else None
    )
    if taus:
        scaled = np.concatenate([quantiles for _, quantiles in parts])
        conformal = est.module_.conformal
        if conformal is not None and conformal.adaptive_rate:
            targets = starts[:, None] + lookback + np.arange(est.horizon)
            columns = list(prepared.table.columns[:n])
            fitted = fitted_targets(est, prepared.table.times, targets, columns)
            scaled = adaptive_backtest(
                conformal, forecast_scaled, actual_scaled, look, starts, taus, fitted
            )
        result.quantiles = unscale_quantiles(prepared.scaler, scaled, n)[..., restore, :]
        result.quantiles_scaled = scaled[..., restore, :]
    if look is not None:
        result.lookback_scaled = look[..., restore]
        result.lookback = windows.lookback_read(starts)[..., restore]
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
    """MSE/MAE/RMSE over every observed forecast value, scaled (the fit's scaler: the
    papers' with the standard one) and original scale
    (interval metrics: :func:`tsfm.estimator.interval_scores.interval_metrics`; NaN when no target
    is observed), and ``windows``: the windows with at least one observed target."""
    errors = PointErrors()
    errors.add(result)
    return errors.metrics()


class PointErrors:
    """:func:`error_metrics` of windows given a chunk at a time (float64 sums of the errors
    and counts of the observed values: one chunk gives exactly ``np.nanmean``'s)."""

    def __init__(self) -> None:
        self.sums = dict.fromkeys(("sq", "abs", "sq_original", "abs_original"), 0.0)
        self.count = self.windows = 0

    def add(self, result: Backtest) -> None:
        observed = ~np.isnan(result.actual)
        self.count += int(observed.sum())
        self.windows += int(observed.any(axis=(1, 2)).sum())  # with an observed target
        for suffix, forecast, actual in (
            ("", result.forecast_scaled, result.actual_scaled),
            ("_original", result.forecast, result.actual),
        ):
            error = forecast - actual
            with np.errstate(over="ignore"):
                self.sums[f"sq{suffix}"] += float(np.nansum(error**2))
                self.sums[f"abs{suffix}"] += float(np.nansum(np.abs(error)))

    def metrics(self) -> dict[str, float]:
        """``mse``, ``mae``, ``rmse`` and their ``_original``; ``windows``."""
        metrics: dict[str, float] = {}
        for suffix in ("", "_original"):
            if not self.count:  # every target missing or left out: nothing to score
                metrics.update({f"{k}{suffix}": float("nan") for k in ("mse", "mae", "rmse")})
                continue
            mse = self.sums[f"sq{suffix}"] / self.count
            mae = self.sums[f"abs{suffix}"] / self.count
            if not np.isfinite([mse, mae]).all():
                raise RuntimeError(
                    f"the errors{suffix or ' (scaled)'} overflow float64 (MSE {mse}); the "
                    "data's values are too large to score: rescale them"
                )
            metrics.update({f"mse{suffix}": mse, f"mae{suffix}": mae, f"rmse{suffix}": mse**0.5})
        metrics["windows"] = self.windows
        return metrics
