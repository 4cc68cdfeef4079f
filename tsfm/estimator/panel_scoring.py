"""The windows ``evaluate`` of a ``mode="independent"`` Forecaster scores and their forecasts:
every window of every series of a long frame, each series with its own dates, length and
scaling, scored as the joint ``evaluate`` scores one time index (the scoring, a chunk of
windows at a time: :mod:`tsfm.estimator.panel_evaluate`).

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
import torch

from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import warn_user
from tsfm.data.values import last_observed, refuse_overflow
from tsfm.errors import InputError
from tsfm.estimator.accuracy import history_scales, season_length
from tsfm.estimator.floors import floor_result, floored_columns
from tsfm.estimator.model_outputs import finite
from tsfm.estimator.panel_inputs import filled_windows, panel_batch, series_rows
from tsfm.estimator.rolling import Backtest
from tsfm.training.runtime import fitted_precision, inference


@dataclass
class PanelWindows:
    """Every window to score: its series ``series[w]`` (index into ``ids``) and the row of
    its first forecast step in that series, ``origins[w]``."""

    ids: list
    series: np.ndarray
    origins: np.ndarray


def panel_windows(est: Any, ids: list, lengths: list[int]) -> PanelWindows:
    """The windows of series of ``lengths`` rows (see the module docstring)."""
    lookback, horizon = est.lookback_, est.horizon
    short = [(s, n) for s, n in zip(ids, lengths, strict=True) if n <= horizon]
    if short:
        raise InputError(
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
    ``eval_batch_size``; and each window's timestamps ``[W, lookback + horizon]``. Callers
    give the windows a chunk at a time (:mod:`tsfm.estimator.window_chunks`).
    ``mean``, ``std``: each window's scaling ``[W, C]``; ``statics``: the static covariates of
    each series of ``windows.ids``."""
    lookback, horizon, n = est.lookback_, est.horizon, len(est.columns_)
    size = est.config_.data.eval_batch_size
    keys = ("x", "t", "f", "q", "look", "seen", "read", "look_read")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
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
        refuse_overflow(scaled, tables[0].columns, partial(_at, windows, j, stamps), values)
        before = np.stack([  # what each look-back carries in: the last value before it
            last_observed(tables[k].values[: o - lookback]) if o > lookback else nothing
            for k, o in zip(j, windows.origins[part], strict=True)
        ])  # fmt: skip
        filled = filled_windows(scaled, (before - mean[part]) / std[part])
        own = {key: value[torch.as_tensor(j)] for key, value in statics.items()}
        batch = panel_batch(est, scaled, stamps, own, filled)
        with inference(est.config_, est.module_.device, fitted_precision(est)):
            output = est.module_(batch)
            parts["f"].append(output.prediction.float().cpu().numpy().astype(np.float64))
            if taus:
                quantiles = est.module_.predictive_quantiles(output, batch, taus)
                parts["q"].append(quantiles.float().cpu().numpy().astype(np.float64))
        parts["x"].append(scaled[:, lookback:, :n])
        parts["look"].append(filled[:, :lookback, :n])  # the look-back as the model saw it
        # the same as read, which the scores use (never scaled and back): NaN where missing,
        # the look-back filled alike (before a series' first value: its mean, the scaled 0)
        parts["read"].append(values[:, lookback:, :n])
        kept = (before[..., :n], mean[part][:, :n])
        parts["look_read"].append(filled_windows(values[:, :lookback, :n], *kept))
        # MASE's and MSIS's scale: steps between observed rows, not the padding before a
        # short series' start (NaN in series_rows) nor the values carried over a gap
        parts["seen"].append(~np.isnan(scaled[:, :lookback, :n]))
        parts["t"].append(stamps)
    m, s = mean[:, None, :n], std[:, None, :n]
    forecast_scaled = finite(np.concatenate(parts["f"]), "the forecasts", est.module_)
    actual_scaled, look = np.concatenate(parts["x"]), np.concatenate(parts["look"])
    result = Backtest(
        origins=windows.origins,
        forecast=forecast_scaled * s + m,
        actual=np.concatenate(parts["read"]),
        forecast_scaled=forecast_scaled,
        actual_scaled=actual_scaled,
        lookback_scaled=look,
        lookback=np.concatenate(parts["look_read"]),
        lookback_observed=np.concatenate(parts["seen"]),
    )
    if taus:
        scaled_q = finite(np.concatenate(parts["q"]), "the quantiles", est.module_)
        result.quantiles_scaled = scaled_q
        result.quantiles = scaled_q * s[..., None] + m[..., None]
    result = floor_result(result, floored_columns(est, list(est.columns_)), m, s)  # nonnegative
    return result, np.concatenate(parts["t"])
