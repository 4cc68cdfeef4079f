"""Scoring a fitted Forecaster without training it: ``evaluate`` (every window of a frame,
optionally per series and with each window's forecast) and ``backtest`` (the folds of
``cross_validate`` forecast by the model already fitted).

``evaluate(df, return_forecasts=True)``'s forecasts: one row per (window, series, step), rows
= windows x horizon x series: the id column, the time column, ``cutoff`` (the last
timestamp the window's forecast saw), ``step`` (1 .. horizon), the actual (``y`` or the long frame's
target column), ``forecast``, ``snaive`` (the seasonal-naive forecast of the same window)
and, for a model with intervals, ``forecast-lo-<L>``/``forecast-hi-<L>`` of its ``levels``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import SeriesTable, time_series
from tsfm.data.frames.dates import show_time
from tsfm.errors import InputError
from tsfm.estimator.accuracy import (
    history_scales,
    in_library,
    per_series_result,
    series_names,
    warn_notes,
)
from tsfm.estimator.cross_validation import (
    CrossValidation,
    _bands,
    fold_cutoffs,
    fold_step,
    run_folds,
)
from tsfm.estimator.fitted_record import fitted_until
from tsfm.estimator.fitted_rows import check_windows
from tsfm.estimator.fold_sizes import too_many_folds
from tsfm.estimator.intervals import metric_taus
from tsfm.estimator.naive_check import extreme_sources, frame_extremes
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.rolling import Backtest, backtest_chunks
from tsfm.estimator.window_scores import WindowScores
from tsfm.training.series_metrics import baseline_forecast


def evaluate(
    est: Any,
    df: Any,
    per_series: bool = False,
    return_forecasts: bool = False,
    mase_scale: str = "lookback",
) -> Any:
    """See :meth:`tsfm.Forecaster.evaluate`."""
    if est.mode_ == "independent":
        from tsfm.estimator.panel_evaluate import evaluate_panel

        return evaluate_panel(est, df, per_series, return_forecasts, mase_scale)
    table = est._read(df)
    refuse_clashing_names(table.layout, return_forecasts, per_series)
    taus = metric_taus(est)
    columns = list(est.output_columns(table))
    scoring = WindowScores(est, columns, pooled=not per_series, per_series=per_series)
    values = table.select(columns).values if mase_scale == "history" else None
    origins, frames = [], []
    for result in backtest_chunks(est, table, taus):  # a chunk of windows at a time
        if values is not None:  # each window's scale: the frame's rows before its origin
            result.scale = history_scales(values, result.origins, scoring.lag)
        origins.append(result.origins)
        scoring.add(result)
        if return_forecasts:
            frames.append(window_rows(est, table, result, columns, scoring.lag, taus))
    check_windows(est, table, np.concatenate(origins), columns)  # rows the model was fitted on
    left = scoring.left_out()  # look-backs without an observed value
    scoring.require_scored()
    warn_notes(
        [(columns, scoring.scores)],
        extremes=lambda: extreme_sources([est], frame_extremes([table])),
    )
    if per_series:
        intervals = scoring.intervals.per_series()
        out = per_series_result(
            scoring.scores, columns, table.layout, intervals=intervals, left_out=left
        )
    else:
        out = scoring.pooled()
    if not return_forecasts:
        return out
    return out, in_library(pl.concat(frames), table.layout)


def window_rows(
    est: Any,
    table: SeriesTable,
    result: Backtest,
    columns: list,
    lag: int,
    taus: tuple[float, ...],
) -> pl.DataFrame:
    """The forecasts of a chunk of windows (see the module docstring)."""
    id_col, time_col, target_col = series_names(table.layout)
    n_windows, horizon, n_series = result.forecast.shape
    time_type = table.layout.time_type

    def flat(values: np.ndarray) -> np.ndarray:  # [W, H, N] -> window, series, step order
        return np.transpose(values, (0, 2, 1)).reshape(-1)

    rows = result.origins[:, None] + np.arange(horizon)  # [W, H]
    times = np.broadcast_to(table.times[rows][:, None, :], (n_windows, n_series, horizon))
    cutoffs = np.repeat(table.times[result.origins - 1], n_series * horizon)
    snaive = baseline_forecast(result.lookback, horizon, lag, result.lookback_observed)
    bands = _bands(est, taus, result.quantiles) if taus else []
    return pl.DataFrame(
        [
            pl.Series(
                id_col, [c for _ in range(n_windows) for c in columns for _ in range(horizon)]
            ),
            time_series(time_col, times.reshape(-1), time_type),
            time_series("cutoff", cutoffs, time_type),  # id, time, cutoff: as the folds'
            pl.Series("step", np.tile(np.arange(1, horizon + 1), n_windows * n_series)),
            pl.Series(target_col, flat(result.actual), nan_to_null=True),
            pl.Series("forecast", flat(result.forecast)),
            pl.Series("snaive", flat(snaive), nan_to_null=True),
            *(pl.Series(name, flat(values)) for name, values in bands),
        ]
    )


def backtest_fitted(
    est: Any,
    df: Any,
    n_windows: int = 3,
    step: int | None = None,
    mase_scale: str = "lookback",
    cutoffs: str = "per_series",
) -> Any:
    """The folds of ``cross_validate(df, n_windows, step)`` forecast by the fitted model, no
    training (every fold ``refitted=False``); refused when the model was trained on rows at or
    after the first cutoff. ``cutoffs``: as ``cross_validate``'s (a joint frame's folds are
    shared either way)."""
    if est.mode_ == "independent":
        from tsfm.estimator.panel_folds import backtest_panel

        return backtest_panel(est, df, n_windows, step, mase_scale, cutoffs)
    table = _model_order(est, est._read(df, forecast=False))  # other columns: refused
    refuse_clashing_names(table.layout)
    folds = fold_cutoffs(est, table, n_windows, step)
    if folds[0] < est.lookback_:
        raise InputError(
            too_many_folds(
                len(table),
                n_windows,
                fold_step(est, n_windows, step),
                est.horizon,
                lambda rows: rows >= est.lookback_,
                lambda rows: f"a forecast needs lookback = {est.lookback_}",
            )
        )
    times = table.times
    trained_until = last_trained(est)
    first = None if times is None else times[folds[0]]
    if trained_until is not None and first is not None and first <= trained_until:
        seen = int(np.searchsorted(times, trained_until, side="right"))  # rows up to it
        need = max(seen, est.lookback_)
        fits = too_many_folds(
            len(table), n_windows, fold_step(est, n_windows, step), est.horizon,
            lambda rows: rows >= need,
            lambda rows: "the rows the model was fitted on" if seen >= est.lookback_
            else f"a forecast needs lookback = {est.lookback_}",
            also="cross_validate (which retrains for every fold)", shorter=seen < est.lookback_,
        )  # fmt: skip
        raise InputError(
            f"the model was fitted on rows up to {show_time(trained_until, table.tz)} (validation rows "
            f"included), but the first fold forecasts from {show_time(first, table.tz)}: a backtest scores "
            f"forecasts of rows the model has not seen. {fits}; or fit on data "
            "that ends before the first fold"
        )
    result = run_folds(table, folds, est.horizon, lambda fold, history: (est, False), mase_scale)
    return CrossValidation(*result, per_series=result.per_series)


def _model_order(est: Any, table: SeriesTable) -> SeriesTable:
    """``table``'s columns in the order the model was trained on (the folds are scaled with
    its scaler), or a ValueError when they are not the same columns."""
    position = {str(c): j for j, c in enumerate(table.columns)}
    trained = [str(c) for c in est.input_columns_]
    if sorted(position) != sorted(trained):
        raise InputError(
            f"backtest needs the columns the model was trained on, {trained}; the frame has "
            f"{list(position)} (evaluate scores other variates where the model allows them)"
        )
    return table.select([table.columns[position[c]] for c in trained])


def last_trained(est: Any) -> Any:
    """The last time a joint model trained or validated on, over all its fits (a warm fit's
    weights have seen the rows of the fits before it); None without timestamps."""
    return fitted_until(est).get(None)
