"""``evaluate`` of a ``mode="independent"`` Forecaster (the windows:
:mod:`tsfm.estimator.panel_scoring`), forecast and scored a chunk of windows at a time
(:mod:`tsfm.estimator.window_chunks`): memory holds one chunk's forecasts, actuals and
look-backs whatever the number of windows, and the forecasts asked back
(``return_forecasts``), one row per (window, step)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import Layout, time_series
from tsfm.data.frames.write import id_series
from tsfm.estimator.accuracy import in_library, series_frame, warn_missing, warn_notes
from tsfm.estimator.cross_validation import _bands
from tsfm.estimator.fitted_rows import check_panel_windows
from tsfm.estimator.intervals import metric_taus
from tsfm.estimator.naive_check import extreme_sources, frame_extremes
from tsfm.estimator.panel_history import panel_tables, read_panel, series_scales
from tsfm.estimator.panel_scoring import (
    PanelWindows,
    observed_history,
    panel_forecasts,
    panel_history,
    panel_windows,
)
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.rolling import Backtest
from tsfm.estimator.static_inputs import statics_for
from tsfm.estimator.window_chunks import chunk_size, spans
from tsfm.estimator.window_columns import window_value_columns
from tsfm.estimator.window_scores import WindowScores
from tsfm.training.series_metrics import baseline_forecast


def evaluate_panel(
    est: Any,
    df: Any,
    per_series: bool = False,
    return_forecasts: bool = False,
    mase_scale: str = "lookback",
) -> Any:
    """See :meth:`tsfm.Forecaster.evaluate`; ``mode="independent"``."""
    long = read_panel(est, df, inputs=True)
    refuse_clashing_names(long.layout, return_forecasts, per_series)
    tables = [t.select(est.input_columns_) for t in panel_tables(est, long)]
    ids = list(long.ids)
    windows = observed_history(est, panel_windows(est, ids, [len(t) for t in tables]), tables)
    mean, std = series_scales(  # per window: a new series' from the rows before its origin
        est, [ids[j] for j in windows.series], [tables[j] for j in windows.series], windows.origins
    )
    taus = metric_taus(est)
    statics = statics_for(est, ids, long.statics)
    scale = panel_history(est, tables, windows) if mase_scale == "history" else None
    scoring = WindowScores(est, ids, panel=True, pooled=not per_series, per_series=per_series)
    first, last, frames = [], [], []
    size = chunk_size(est, tables[0].values.shape[1], len(taus))
    for part in spans(len(windows.origins), size):
        chunk = PanelWindows(ids, windows.series[part], windows.origins[part])
        result, stamps = panel_forecasts(est, tables, chunk, mean[part], std[part], taus, statics)
        result.scale = None if scale is None else scale[part]
        # each window's first and last target, for the fitted rows (copies: not the chunk's)
        first.append(stamps[:, est.lookback_].copy())
        last.append(stamps[:, -1].copy())
        scoring.add(result, chunk.series)
        if return_forecasts:
            frames.append(_window_rows(est, long.layout, result, chunk, stamps, scoring.lag, taus))
    check_panel_windows(est, ids, windows.series, np.concatenate(first), np.concatenate(last))
    left = scoring.left_out()
    scoring.require_scored()
    warn_notes(
        [(ids, scoring.scores)],
        extremes=lambda: extreme_sources([est], frame_extremes(tables, ids)),
    )
    out = _series_frame(long.layout, scoring, left) if per_series else scoring.pooled()
    if not return_forecasts:
        return out
    return out, in_library(pl.concat(frames), long.layout)


def _series_frame(layout: Layout, scoring: WindowScores, left: set) -> Any:
    """One row per series (see :func:`tsfm.estimator.accuracy.per_series_result`)."""
    scores, ids = scoring.scores, scoring.names
    values, intervals = scores.per_series(), scoring.intervals.per_series()
    warn_missing(ids, values, intervals, left_out=left)
    frame = series_frame(ids, values, scores.scored, intervals)
    return in_library(frame.drop("__id").insert_column(0, id_series(layout, ids, 1)), layout)


def _window_rows(
    est: Any,
    layout: Layout,
    result: Backtest,
    windows: PanelWindows,
    stamps: np.ndarray,
    lag: int,
    taus: tuple[float, ...],
) -> pl.DataFrame:
    """The forecasts of a chunk of windows, one row per (window, step): id, time, ``cutoff``,
    ``step``, the actual, ``forecast``, ``snaive`` and the interval bounds of the run's
    levels (each target's, :mod:`tsfm.estimator.window_columns`)."""
    lookback, horizon = est.lookback_, est.horizon
    n_windows = len(windows.origins)
    snaive = baseline_forecast(result.lookback, horizon, lag, result.lookback_observed)
    columns = [
        id_series(layout, [windows.ids[j] for j in windows.series], horizon),
        time_series(layout.time_col, stamps[:, lookback:].reshape(-1), layout.time_type),
        time_series("cutoff", np.repeat(stamps[:, lookback - 1], horizon), layout.time_type),
        pl.Series("step", np.tile(np.arange(1, horizon + 1), n_windows)),
    ]
    bands = _bands(est, taus, result.quantiles) if taus else []
    columns += window_value_columns(est.columns_, result.actual, result.forecast, snaive, bands)
    return pl.DataFrame(columns)
