"""Forecasting with a fitted module, outside the Trainer (one window, or every window of a frame).

Inputs are put in the variate order the model was trained on; variates the model has not
seen (only for models whose capabilities include ``new_variates``) are standardised with statistics
of their own history, never of the rows being forecast.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsfm.data.batch import Batch
from tsfm.data.frames import SeriesTable, future_times, is_integer_time
from tsfm.data.scaler import StandardScaler
from tsfm.data.timefeatures import time_features
from tsfm.models import capabilities


@dataclass
class Prepared:
    """A table in the model's variate order, its scaler, and the way back to the caller's."""

    table: SeriesTable
    scaler: StandardScaler | None
    restore: np.ndarray | None  # caller's column j = model column restore[j]
    trained: bool = True  # the trained variates (in any order), not new ones


def prepare(est: Any, table: SeriesTable, history_rows: int) -> Prepared:
    """Align ``table``'s variates to the model; ``history_rows`` may fit unknown scalers."""
    trained = list(est.columns_)
    columns = list(table.columns)
    if sorted(map(str, columns)) == sorted(map(str, trained)) and len(columns) == len(trained):
        position = {str(c): j for j, c in enumerate(columns)}
        order = np.array([position[str(c)] for c in trained])
        aligned = SeriesTable(table.values[:, order], table.times, trained, table.layout)
        return Prepared(aligned, est.scaler_, np.argsort(order))
    known = {str(c): i for i, c in enumerate(trained)}
    new = [c for c in columns if str(c) not in known]
    if not capabilities(est.model).new_variates:
        missing = [c for c in trained if str(c) not in {str(x) for x in columns}]
        raise ValueError(
            f"model '{est.model}' was trained on the variates {trained} and can only forecast "
            f"those (any order); this frame has new {new} and lacks {missing}. Models that "
            "declare the new_variates capability (such as iTransformer) forecast any variates"
        )
    if est.scaler_ is None:
        return Prepared(table, None, None, trained=False)
    mean, std = np.empty(len(columns)), np.empty(len(columns))
    for j, column in enumerate(columns):
        if str(column) in known:
            i = known[str(column)]
            mean[j], std[j] = est.scaler_.mean[i], est.scaler_.std[i]
        else:
            own = StandardScaler().fit(table.values[:history_rows, [j]])
            mean[j], std[j] = own.mean[0], own.std[0]
    return Prepared(table, StandardScaler(mean, std), None, trained=False)


def calendar(est: Any, times: np.ndarray) -> np.ndarray | None:
    """Calendar features of ``times`` as the model was trained with (None if it had none)."""
    if not est.dims_.get("n_marks"):
        return None
    if is_integer_time(times):
        raise ValueError("the model uses calendar features, so the frame needs real timestamps")
    return time_features(times, est.config_.data.freq)


@torch.inference_mode()
def forward(
    est: Any, x: np.ndarray, marks: np.ndarray | None, taus: Sequence[float] = ()
) -> tuple[np.ndarray, np.ndarray | None]:
    """``x [B, L, N]`` scaled (``marks [B, L + H, C]``) -> scaled forecasts ``[B, H, N]``,
    and with ``taus`` their quantiles ``[B, H, N, Q]`` (None without)."""
    module = est.module_
    device = module.device
    seq_len = x.shape[1]
    batch_size, _, n_vars = x.shape
    channel_independent = est.config_.data.channel_independent
    inputs = torch.as_tensor(x, dtype=torch.float32, device=device)
    if channel_independent:  # one sample per (window, variate), as in training
        inputs = inputs.permute(0, 2, 1).reshape(batch_size * n_vars, seq_len, 1)
    batch = Batch(x=inputs)
    if channel_independent:
        batch["variate"] = torch.arange(n_vars, device=device).repeat(batch_size)
    if marks is not None:
        mark = torch.as_tensor(marks, dtype=torch.float32, device=device)
        if channel_independent:
            mark = mark.repeat_interleave(n_vars, dim=0)
        batch["x_mark"], batch["y_mark"] = mark[:, :seq_len], mark[:, seq_len:]
    output = module(batch)
    prediction = output.prediction.float()
    quantiles = module.predictive_quantiles(output, batch, taus).float() if taus else None
    if channel_independent:  # [B * N, H, 1, ...] -> [B, H, N, ...]
        prediction = prediction.reshape(batch_size, n_vars, -1).permute(0, 2, 1)
        if quantiles is not None:
            quantiles = quantiles.reshape(batch_size, n_vars, -1, len(taus)).permute(0, 2, 1, 3)
    as_numpy = lambda t: None if t is None else t.cpu().numpy().astype(np.float64)  # noqa: E731
    return as_numpy(prediction), as_numpy(quantiles)


def _unscale(scaler: StandardScaler | None, values: np.ndarray) -> np.ndarray:
    return values if scaler is None else scaler.inverse_transform(values)


def _unscale_quantiles(scaler: StandardScaler | None, values: np.ndarray | None) -> Any:
    """``[..., N, Q]`` quantiles back to the original scale (None stays None)."""
    if values is None or scaler is None:
        return values
    return np.moveaxis(scaler.inverse_transform(np.moveaxis(values, -1, 0)), 0, -1)


def check_interval_variates(est: Any, prepared: Prepared) -> None:
    """Per-series conformal scores exist for the trained variates only."""
    conformal = est.module_.conformal
    if conformal is not None and conformal.scores.shape[2] > 1 and not prepared.trained:
        raise ValueError(
            f"the conformal intervals were calibrated per series for {est.columns_}; this frame "
            f"has other variates {prepared.table.columns}, which have no calibration scores"
        )


def _scale(scaler: StandardScaler | None, values: np.ndarray) -> np.ndarray:
    return values if scaler is None else scaler.transform(values)


def forecast_next(
    est: Any, table: SeriesTable, taus: Sequence[float] = ()
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``horizon`` steps after ``table`` (its last ``lookback`` rows are the input):
    ``(times, values [H, N])``, and with ``taus`` also the quantiles ``[H, N, Q]``."""
    lookback, horizon = est.lookback, est.horizon
    prepared = prepare(est, table, len(table))
    if taus:
        check_interval_variates(est, prepared)
    window = prepared.table.tail(lookback)
    future = future_times(window.times[-1], est.freq_, horizon)
    marks = calendar(est, np.concatenate([window.times, future]))
    x = _scale(prepared.scaler, window.values)[None]
    scaled, quantiles = forward(est, x, None if marks is None else marks[None], taus)
    values = _unscale(prepared.scaler, scaled[0])
    quantiles = _unscale_quantiles(prepared.scaler, None if quantiles is None else quantiles[0])
    if prepared.restore is not None:
        values = values[:, prepared.restore]
        quantiles = None if quantiles is None else quantiles[:, prepared.restore]
    return (future, values) if not taus else (future, values, quantiles)


@dataclass
class Backtest:
    """Forecasts of every window: ``origins[w]`` is the row of window ``w``'s first target."""

    origins: np.ndarray
    forecast: np.ndarray  # [W, H, N] original scale, caller's column order
    actual: np.ndarray
    forecast_scaled: np.ndarray
    actual_scaled: np.ndarray
    quantiles: np.ndarray | None = None  # [W, H, N, Q] at the taus asked for
    quantiles_scaled: np.ndarray | None = None
    lookback_scaled: np.ndarray | None = None  # [W, L, N], with quantiles (MSIS's scale)


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def backtest(
    est: Any,
    table: SeriesTable,
    stride: int = 1,
    taus: Sequence[float] = (),
    starts: np.ndarray | None = None,
) -> Backtest:
    """Forecast every window of ``lookback + horizon`` rows in ``table`` (``stride`` rows
    apart, or the windows beginning at the rows ``starts``), with quantiles at ``taus``."""
    lookback, horizon = est.lookback, est.horizon
    span = lookback + horizon
    if len(table) < span:
        raise ValueError(
            f"the frame has {len(table)} rows; scoring needs at least lookback + horizon = {span}"
        )
    prepared = prepare(est, table, lookback)  # new variates: scaler from the first look-back
    if taus:
        check_interval_variates(est, prepared)
    scaled = _scale(prepared.scaler, prepared.table.values)
    marks = calendar(est, prepared.table.times)
    if starts is None:
        starts = np.arange(0, len(table) - span + 1, stride)
    offsets = np.arange(span)
    predictions, quantiles = [], []
    for part in _batches(len(starts), est.config_.data.eval_batch_size):
        rows = starts[part, None] + offsets
        window_marks = None if marks is None else marks[rows]
        point, quantile = forward(est, scaled[rows[:, :lookback]], window_marks, taus)
        predictions.append(point)
        quantiles.append(quantile)
    forecast_scaled = np.concatenate(predictions)
    actual_scaled = scaled[starts[:, None] + np.arange(lookback, span)]
    restore = prepared.restore if prepared.restore is not None else slice(None)
    result = Backtest(
        origins=starts + lookback,
        forecast=_unscale(prepared.scaler, forecast_scaled)[..., restore],
        actual=_unscale(prepared.scaler, actual_scaled)[..., restore],
        forecast_scaled=forecast_scaled[..., restore],
        actual_scaled=actual_scaled[..., restore],
    )
    if taus:
        quantiles_scaled = np.concatenate(quantiles)
        result.quantiles = _unscale_quantiles(prepared.scaler, quantiles_scaled)[..., restore, :]
        result.quantiles_scaled = quantiles_scaled[..., restore, :]
        result.lookback_scaled = scaled[starts[:, None] + np.arange(lookback)][..., restore]
    return result


def error_metrics(result: Backtest) -> dict[str, float]:
    """MSE/MAE/RMSE over every forecast value, scaled (papers) and on the original scale
    (interval metrics: :func:`tsfm.estimator.intervals.interval_metrics`)."""
    metrics: dict[str, float] = {}
    for suffix, forecast, actual in (
        ("", result.forecast_scaled, result.actual_scaled),
        ("_original", result.forecast, result.actual),
    ):
        error = forecast - actual
        mse = float(np.mean(error**2))
        metrics.update(
            {
                f"mse{suffix}": mse,
                f"mae{suffix}": float(np.mean(np.abs(error))),
                f"rmse{suffix}": mse**0.5,
            }
        )
    metrics["windows"] = len(result.origins)
    return metrics
