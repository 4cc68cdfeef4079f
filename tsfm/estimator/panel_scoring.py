"""``evaluate`` of a ``mode="independent"`` Forecaster: every window of every series of a long
frame, each series with its own dates, length and scaling, scored as the joint ``evaluate``
scores one time index (:mod:`tsfm.estimator.backtests`).

A series of ``T`` rows gives the windows whose horizon lies in its rows and whose look-back
starts at or after its first row: origins ``lookback .. T - horizon`` (the first ``lookback``
rows are only inputs). A series shorter than ``lookback + horizon`` gives one window, its last
``horizon`` rows, with the look-back padded before its start as in training (masked, filled
with the scaled mean); one of ``horizon`` rows or fewer is refused with its name. Known series
are scaled with their training statistics, new ones with their own rows before each window's
origin (as ``predict`` scales that history: never with the actuals it scores; a new series'
windows before its first observed target are left out, with a warning); future covariates
over each horizon are read from the frame, where they are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import polars as pl
import torch

from tsfm.data.frames import Layout, time_series
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.write import id_series
from tsfm.data.user_warnings import warn_user
from tsfm.data.values import carried_forward, refuse_overflow
from tsfm.estimator.accuracy import (
    Scores,
    history_scales,
    in_library,
    season_length,
    series_frame,
    warn_missing,
    warn_notes,
)
from tsfm.estimator.cross_validation import _bands
from tsfm.estimator.fitted_rows import check_panel_windows
from tsfm.estimator.inference import finite
from tsfm.estimator.intervals import (
    metric_taus,
    pooled_result,
    series_interval_metrics,
)
from tsfm.estimator.panel_inputs import filled_windows, panel_batch, series_rows
from tsfm.estimator.panels import panel_tables, read_panel, series_scales
from tsfm.estimator.rolling import Backtest
from tsfm.estimator.scored_windows import left_out, require_scored
from tsfm.estimator.static_inputs import statics_for
from tsfm.training.runtime import inference
from tsfm.training.series_metrics import baseline_forecast


@dataclass
class PanelWindows:
    """Every window to score: its series ``series[w]`` (index into ``ids``) and the row of
    its first forecast step in that series, ``origins[w]``."""

    ids: list
    series: np.ndarray
    origins: np.ndarray


def panel_windows(est: Any, ids: list, lengths: list[int]) -> PanelWindows:
    """The windows of series of ``lengths`` rows (see the module docstring)."""
    lookback, horizon = est.lookback, est.horizon
    short = [(s, n) for s, n in zip(ids, lengths, strict=True) if n <= horizon]
    if short:
        raise ValueError(
            f"series {[s for s, _ in short][:5]} have {[n for _, n in short][:5]} rows; "
            f"evaluate needs more than horizon = {horizon} rows per series (the horizon and at "
            "least one look-back row): drop them or pass more of their history"
        )
    series, origins = [], []
    for j, n in enumerate(lengths):
        first = min(lookback, n - horizon)
        count = n - horizon - first + 1
        series.append(np.full(count, j))
        origins.append(np.arange(first, first + count))
    return PanelWindows(ids, np.concatenate(series), np.concatenate(origins))


def evaluate_panel(
    est: Any,
    df: Any,
    per_series: bool = False,
    return_forecasts: bool = False,
    mase_scale: str = "lookback",
) -> Any:
    """See :meth:`tsfm.Forecaster.evaluate`; ``mode="independent"``."""
    long = read_panel(est, df, inputs=True)
    tables = [t.select(est.input_columns_) for t in panel_tables(est, long)]
    ids = list(long.ids)
    windows = observed_history(est, panel_windows(est, ids, [len(t) for t in tables]), tables)
    mean, std = series_scales(  # per window: a new series' from the rows before its origin
        est, [ids[j] for j in windows.series], [tables[j] for j in windows.series], windows.origins
    )
    taus = metric_taus(est)
    statics = statics_for(est, ids, long.statics)
    result, stamps = panel_forecasts(est, tables, windows, mean, std, taus, statics)
    if mase_scale == "history":
        result.scale = panel_history(est, tables, windows)
    check_panel_windows(est, ids, windows.series, stamps)  # rows the model was fitted on
    scored, left = left_out(result, ids, windows.series)  # look-backs without an observation
    require_scored(scored)
    scores = panel_scores(est, scored, windows)
    warn_notes([(ids, scores)])
    lag = scores.lag
    if per_series:
        intervals = series_interval_metrics(est, scored, windows.series, len(ids))
        out = _series_frame(long.layout, scores, windows, intervals, left)
    else:
        out = pooled_result(est, scored, scores)
    if not return_forecasts:
        return out
    return out, _window_frame(est, long.layout, result, windows, stamps, lag, taus)


def observed_history(est: Any, windows: PanelWindows, tables: list) -> PanelWindows:
    """``windows`` without those of a new series that start before its first observed target
    (nothing to scale or forecast them from), with a warning; a series left with none is
    refused as one without any observed value."""
    n, known = len(est.columns_), set(est.series_)
    first = {}
    for j, series in enumerate(windows.ids):
        if series not in known:
            seen = ~np.isnan(tables[j].values[:, :n]).any(axis=1)
            first[j] = int(np.argmax(seen)) if seen.any() else len(seen)
    if not first:
        return windows
    pairs = zip(windows.series, windows.origins, strict=True)
    keep = np.array([o > first.get(j, -1) for j, o in pairs])
    if keep.all() or not set(first) <= set(windows.series[keep].tolist()):
        return windows  # series_scales refuses a series without any observed value
    dropped = sorted({windows.ids[j] for j in windows.series[~keep]}, key=str)
    warn_user(
        f"evaluate: the first windows of new series {dropped[:5]} are not scored: they have no "
        "observed target before their origin to scale and forecast them from"
    )
    return PanelWindows(windows.ids, windows.series[keep], windows.origins[keep])


def _at(windows: PanelWindows, j: np.ndarray, stamps: np.ndarray, index: tuple) -> str:
    return f"for series {windows.ids[j[index[0]]]!r} at {show_time(stamps[index[:2]])}"


def panel_history(est: Any, tables: list, windows: PanelWindows) -> np.ndarray:
    """``mase_scale="history"``: each window's scale ``[W, N]`` over its series' rows before
    its origin (:func:`~tsfm.estimator.accuracy.history_scales`)."""
    n, lag = len(est.columns_), season_length(est)
    scale = np.zeros((len(windows.origins), n))
    for j in np.unique(windows.series):
        pick = windows.series == j
        scale[pick] = history_scales(tables[j].values[:, :n], windows.origins[pick], lag)
    return scale


def panel_scores(est: Any, result: Backtest, windows: PanelWindows) -> Scores:
    """The :class:`Scores` of panel windows: window ``w`` counts for series ``series[w]``."""
    return Scores(
        (result.forecast, result.actual, result.lookback),
        (result.forecast_scaled, result.actual_scaled, result.lookback_scaled),
        season_length(est),
        series=windows.series,
        n_series=len(windows.ids),
        observed=result.lookback_observed,
        scale=result.scale,
    )


def panel_forecasts(
    est: Any,
    tables: list,
    windows: PanelWindows,
    mean: np.ndarray,
    std: np.ndarray,
    taus: tuple[float, ...],
    statics: dict[str, torch.Tensor],
) -> tuple[Backtest, np.ndarray]:
    """Every window's forecast (original and scaled, ``[W, H, 1]``), in batches of the run's
    ``eval_batch_size``; and each window's timestamps ``[W, lookback + horizon]``.
    ``mean``, ``std``: each window's scaling ``[W, C]``; ``statics``: the static covariates of
    each series of ``windows.ids``."""
    lookback, horizon, n = est.lookback, est.horizon, len(est.columns_)
    size = est.config_.data.eval_batch_size
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("x", "t", "f", "q", "look", "seen")}
    carried = [carried_forward(t.values) for t in tables]  # what each look-back carries in
    nothing = np.full(tables[0].values.shape[1], np.nan)
    for start in range(0, len(windows.origins), size):
        part = slice(start, start + size)
        rows = [
            series_rows(
                tables[j].values, tables[j].times, o - lookback, lookback + horizon, est.freq_
            )
            for j, o in zip(windows.series[part], windows.origins[part], strict=True)
        ]
        j = windows.series[part]
        values = np.stack([r for r, _ in rows])
        stamps = np.stack([t for _, t in rows])
        scaled = (values - mean[part][:, None]) / std[part][:, None]
        refuse_overflow(scaled, tables[0].columns, partial(_at, windows, j, stamps))
        before = np.stack([
            carried[k][o - lookback - 1] if o > lookback else nothing
            for k, o in zip(j, windows.origins[part], strict=True)
        ])  # fmt: skip
        filled = filled_windows(scaled, (before - mean[part]) / std[part])
        own = {key: value[torch.as_tensor(j)] for key, value in statics.items()}
        batch = panel_batch(est, scaled, stamps, own, filled)
        with inference(est.config_, est.module_.device):
            output = est.module_(batch)
            parts["f"].append(output.prediction.float().cpu().numpy().astype(np.float64))
            if taus:
                quantiles = est.module_.predictive_quantiles(output, batch, taus)
                parts["q"].append(quantiles.float().cpu().numpy().astype(np.float64))
        parts["x"].append(scaled[:, lookback:, :n])
        parts["look"].append(filled[:, :lookback, :n])  # the look-back as the model saw it
        # MASE's and MSIS's scale: steps between observed rows, not the padding before a
        # short series' start (NaN in series_rows) nor the values carried over a gap
        parts["seen"].append(~np.isnan(scaled[:, :lookback, :n]))
        parts["t"].append(stamps)
    m, s = mean[:, None, :n], std[:, None, :n]
    forecast_scaled = finite(np.concatenate(parts["f"]), "the forecasts")
    actual_scaled, look = np.concatenate(parts["x"]), np.concatenate(parts["look"])
    result = Backtest(
        origins=windows.origins,
        forecast=forecast_scaled * s + m,
        actual=actual_scaled * s + m,
        forecast_scaled=forecast_scaled,
        actual_scaled=actual_scaled,
        lookback_scaled=look,
        lookback=look * s + m,
        lookback_observed=np.concatenate(parts["seen"]),
    )
    if taus:
        scaled_q = finite(np.concatenate(parts["q"]), "the quantiles")
        result.quantiles_scaled = scaled_q
        result.quantiles = scaled_q * s[..., None] + m[..., None]
    return result, np.concatenate(parts["t"])


def _series_frame(
    layout: Layout,
    scores: Scores,
    windows: PanelWindows,
    intervals: dict[str, np.ndarray],
    left: set,
) -> Any:
    """One row per series (see :func:`tsfm.estimator.accuracy.per_series_result`)."""
    values = scores.per_series()
    warn_missing(windows.ids, values, intervals, left_out=left)
    frame = series_frame(windows.ids, values, scores.scored, intervals)
    return in_library(
        frame.drop("__id").insert_column(0, id_series(layout, windows.ids, 1)), layout
    )


def _window_frame(
    est: Any,
    layout: Layout,
    result: Backtest,
    windows: PanelWindows,
    stamps: np.ndarray,
    lag: int,
    taus: tuple[float, ...],
) -> Any:
    """Every window's forecast, one row per (window, step): id, ``cutoff``, time, ``step``,
    the actual, ``forecast``, ``snaive`` and the interval bounds of the run's levels."""
    lookback, horizon = est.lookback, est.horizon
    n_windows = len(windows.origins)
    snaive = baseline_forecast(result.lookback, horizon, lag, result.lookback_observed)
    columns = [
        id_series(layout, [windows.ids[j] for j in windows.series], horizon),
        time_series("cutoff", np.repeat(stamps[:, lookback - 1], horizon), layout.time_type),
        time_series(layout.time_col, stamps[:, lookback:].reshape(-1), layout.time_type),
        pl.Series("step", np.tile(np.arange(1, horizon + 1), n_windows)),
        pl.Series(layout.target_col, result.actual[..., 0].reshape(-1), nan_to_null=True),
        pl.Series("forecast", result.forecast[..., 0].reshape(-1)),
        pl.Series("snaive", snaive[..., 0].reshape(-1), nan_to_null=True),
    ]
    if taus:
        bands = _bands(est, taus, result.quantiles)
        columns += [pl.Series(name, values[..., 0].reshape(-1)) for name, values in bands]
    return in_library(pl.DataFrame(columns), layout)
