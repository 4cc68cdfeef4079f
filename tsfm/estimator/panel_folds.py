"""Rolling-origin cross-validation and backtests of ``mode="independent"`` panels.

Each series has its own folds, counted back from its own end as in
:mod:`tsfm.estimator.cross_validation`: with ``T`` rows, fold ``k`` of ``n_windows`` forecasts
rows ``[c, c + horizon)`` of the series from the rows before ``c = T - horizon - (n_windows -
1 - k) * step``. A refitted fold trains a clone of the Forecaster on every series' rows before
its own cutoff (``val_size`` then holds out the end of those); ``refit=False`` or ``r`` reuse
a model as in the joint case. ``backtest`` forecasts the same folds with the model as fitted
and refuses folds at or before the last row it was fitted on. A series too short for fold 0
is refused with the fold's context (:mod:`tsfm.estimator.panel_fold_sizes`). Each fold is
scored as ``evaluate`` scores a panel (:mod:`tsfm.estimator.panel_scoring`).

``cutoffs="shared"`` gives every fold one calendar cutoff instead, that of the series that
ends last (:mod:`tsfm.estimator.shared_cutoffs`); with the per-series folds of series that end
on different dates, each call warns once of calendar time leaking across series
(:mod:`tsfm.estimator.calendar_overlap`).

Frames as the joint ones (:class:`~tsfm.estimator.cross_validation.CrossValidation`): the
forecasts and ``per_series`` rows carry each series' own cutoff (the last time its look-back
saw); a fold's metrics row carries ``cutoff`` (the shared cutoff, or the series' one where
they all have the same; null where they differ), ``first_cutoff`` and ``last_cutoff`` (the
earliest and latest of its series'), and ``train_rows``/``val_rows``, the rows of every series
the fold's model trained and validated on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import time_series
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.gaps import empty_steps
from tsfm.data.frames.panel_freqs import panel_freq
from tsfm.data.frames.write import id_series
from tsfm.errors import InputError
from tsfm.estimator.accuracy import (
    in_library,
    season_length,
    series_frame,
    stacked,
    warn_missing_in_folds,
    warn_notes,
)
from tsfm.estimator.calendar_overlap import warn_backtest, warn_cross_validation
from tsfm.estimator.cross_validation import (
    CrossValidation,
    _bands,
    _fold_training,
    _refit_now,
    fold_rows,
    fold_step,
)
from tsfm.estimator.fitted_record import fitted_until
from tsfm.estimator.fold_frames import metrics_frame
from tsfm.estimator.fold_sizes import too_many_folds
from tsfm.estimator.intervals import metric_taus
from tsfm.estimator.lookback import fold_model
from tsfm.estimator.naive_check import extreme_sources, frame_extremes
from tsfm.estimator.panel_fold_sizes import panel_cutoffs
from tsfm.estimator.panel_history import panel_tables, read_panel, series_scales
from tsfm.estimator.panel_scoring import PanelWindows, panel_forecasts, panel_history
from tsfm.estimator.panels import fit_long
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.scored_windows import refuse_unscored, warn_left_out_folds
from tsfm.estimator.shared_cutoffs import SharedFolds, refuse_fitted_after, shared_cutoffs
from tsfm.estimator.static_inputs import statics_for
from tsfm.estimator.window_chunks import chunk_size, spans
from tsfm.estimator.window_columns import window_value_columns
from tsfm.estimator.window_scores import WindowScores
from tsfm.training.series_metrics import baseline_forecast


def cross_validate_panel(
    est: Any,
    df: Any,
    n_windows: int,
    step: int | None,
    refit: bool | int,
    static_df: Any,
    mase_scale: str = "lookback",
    cutoffs: str = "per_series",
) -> CrossValidation:
    """See :meth:`tsfm.Forecaster.cross_validate`; ``mode="independent"``."""
    from sklearn.base import clone

    from tsfm.training.progress import labelled

    _refit_now(refit, 0)  # validates refit
    long = read_panel(est, df, fitted=False)
    refuse_clashing_names(long.layout)  # before any fold trains
    tables = panel_tables(est, long, fitted=False)
    warned = {s: empty_steps(t) for s, t in zip(long.ids, tables, strict=True)}  # just now
    ids, shared = list(long.ids), None
    if cutoffs == "shared":
        shared = shared_cutoffs(est, ids, tables, n_windows, step, training=True)
        cuts = shared.cuts
    else:
        cuts = panel_cutoffs(est, ids, tables, n_windows, step, training=True)
        refits = [_refit_now(refit, fold) for fold in range(len(cuts))]
        warn_cross_validation(ids, tables, cuts, refits, est.time_col)
    # every series on one frequency, as fit refuses otherwise: the folds' fits check only the
    # rows before their cutoffs, and a gap after the last one would shift its scored windows
    freq = panel_freq(long.ids, tables, est.freq, est.missing == "mask")
    if est.lookback is None:  # one look-back for every fold, by the first fold's rows
        est = fold_model(est, freq, [int(c) for c in cuts[0]])
    told: set = set()  # the calendar warnings of the folds' fits: once per call
    model = None

    def model_for(fold: int) -> tuple[Any, bool]:
        nonlocal model
        refitted = _refit_now(refit, fold)
        if refitted:
            last = np.array([t.times[c - 1] for t, c in zip(tables, cuts[fold], strict=True)])
            before = long.times <= last[long.codes]
            model = clone(est)
            with labelled(f"fold {fold + 1}/{len(cuts)}"):  # on its epoch lines
                fit_long(model, _rows_of(long, before), static_df, known=warned, told=told)
        return model, refitted

    return run_panel_folds(long, tables, cuts, model_for, mase_scale, shared)


def backtest_panel(
    est: Any, df: Any, n_windows: int, step: int | None, mase_scale: str = "lookback",
    cutoffs: str = "per_series",
) -> CrossValidation:  # fmt: skip
    """See :meth:`tsfm.Forecaster.backtest`; ``mode="independent"``."""
    long = read_panel(est, df, inputs=True)
    refuse_clashing_names(long.layout)
    tables = panel_tables(est, long)
    seen = fitted_until(est)  # each series' last fitted row over every fit (warm fits)
    ids = list(long.ids)
    if cutoffs == "shared":
        shared = shared_cutoffs(est, ids, tables, n_windows, step, training=False)
        refuse_fitted_after(est, seen, ids, tables, shared, n_windows, step)
        return run_panel_folds(
            long, tables, shared.cuts, lambda fold: (est, False), mase_scale, shared
        )
    cuts = panel_cutoffs(est, ids, tables, n_windows, step, training=False)
    fitted = [  # (rows left after each series' fitted rows, series) where the folds reach them
        (len(t) - int(np.searchsorted(t.times, seen[s], side="right")), j)
        for j, (s, t) in enumerate(zip(long.ids, tables, strict=True))
        if s in seen and t.times[cuts[0, j]] <= seen[s]  # the first fold's first step
    ]
    if fitted:
        j = min(fitted)[1]  # the series with the fewest rows after its fitted ones
        series, times, until = long.ids[j], tables[j].times, seen[long.ids[j]]
        need = int(np.searchsorted(times, until, side="right"))
        fits = too_many_folds(
            len(times), n_windows, fold_step(est, n_windows, step), est.horizon,
            lambda rows: rows >= need, lambda rows: "the rows the model was fitted on",
            rows_of=f"series {series!r}", also="cross_validate (which retrains per fold)",
            longer="series", shorter=False,
        )  # fmt: skip
        raise InputError(
            f"series {series!r}: the first fold forecasts from {show_time(times[cuts[0, j]])}, "
            f"which the model was fitted on (up to {show_time(until)}); backtest scores folds "
            f"after the fitted rows. {fits}"
        )
    warn_backtest(ids, tables, cuts, seen, est.time_col)
    return run_panel_folds(long, tables, cuts, lambda fold: (est, False), mase_scale)


def _rows_of(long: Any, keep: np.ndarray) -> Any:
    return replace(long, codes=long.codes[keep], times=long.times[keep], values=long.values[keep])


def run_panel_folds(
    long: Any,
    tables: list,
    cuts: np.ndarray,
    model_for: Callable[[int], tuple[Any, bool]],
    mase_scale: str = "lookback",
    shared: SharedFolds | None = None,
) -> CrossValidation:
    """Forecast and score every series' window of each fold with ``model_for(fold)``
    (``shared``: only the series a shared fold scores)."""
    forecasts, rows, series_rows, left, notes, observed, models = [], [], [], [], [], [], []
    for fold, cut in enumerate(cuts):
        model, refitted = model_for(fold)
        models.append(model)  # for the extreme values of their training rows
        keep = np.flatnonzero(shared.scored[fold]) if shared else np.arange(len(cut))
        ids = [long.ids[j] for j in keep]
        tables_in = [tables[j].select(model.input_columns_) for j in keep]
        scoring, cutoffs, frames = _fold_scores(model, long, ids, tables_in, cut[keep], mase_scale)
        observed.append(scoring.observed)
        left += [(ids[j], fold) for j in np.flatnonzero(scoring.left)]
        notes.append((ids, scoring.scores))
        one = shared.times[fold] if shared else _one_cutoff(cutoffs)
        row = {"fold": fold, "cutoff": one, "first_cutoff": cutoffs.min()}
        row.update({"last_cutoff": cutoffs.max(), **fold_rows(model)})
        row.update({"refitted": refitted, **scoring.errors.metrics()})
        row.pop("windows", None)
        row.update(scoring.scores.pooled())
        row.update(_fold_training(model, refitted))
        row.update(scoring.intervals.pooled())
        rows.append(row)
        forecasts.append(pl.concat(frames))
        intervals = scoring.intervals.per_series()
        series_rows.append(_fold_series(long.layout, fold, ids, cutoffs, scoring.scores, intervals))
    if not any(observed):  # as evaluate refuses: nothing to score
        refuse_unscored("folds")
    warn_left_out_folds(left, model.lookback_)
    scored = model.input_columns_  # the frame scored: scanned if the naive check warns
    warn_notes(
        notes,
        "folds",
        lambda: extreme_sources(
            models, frame_extremes([t.select(scored) for t in tables], long.ids)
        ),
    )
    per_series = stacked(series_rows)
    warn_missing_in_folds(per_series, long.layout.id_col, left)
    return CrossValidation(
        in_library(stacked(forecasts), long.layout),
        metrics_frame(long.layout, rows, spans=True),
        in_library(per_series, long.layout),
    )


def _one_cutoff(cutoffs: np.ndarray) -> Any:
    """The fold's cutoff where its series' cutoffs agree; None (a null) where they differ."""
    return cutoffs[0] if (cutoffs == cutoffs[0]).all() else None


def _fold_scores(
    model: Any, long: Any, ids: list, tables: list, cut: np.ndarray, mase_scale: str
) -> tuple[WindowScores, np.ndarray, list[pl.DataFrame]]:
    """One fold, the window of each series ``ids[j]`` (``tables[j]``) at its cutoff row
    ``cut[j]``, forecast and scored a chunk of series at a time
    (:mod:`tsfm.estimator.window_chunks`): its scores, each series' cutoff and the forecasts'
    rows."""
    before = [t.rows(slice(0, c)) for t, c in zip(tables, cut, strict=True)]
    mean, std = series_scales(model, ids, before)
    windows = PanelWindows(ids, np.arange(len(ids)), np.asarray(cut))
    taus = metric_taus(model)
    statics = statics_for(model, ids, long.statics)
    scale = panel_history(model, tables, windows) if mase_scale == "history" else None
    scoring = WindowScores(model, ids, panel=True)
    cutoffs, frames = [], []
    for part in spans(len(ids), chunk_size(model, tables[0].values.shape[1], len(taus))):
        chunk = PanelWindows(ids, windows.series[part], windows.origins[part])
        result, stamps = panel_forecasts(model, tables, chunk, mean[part], std[part], taus, statics)
        result.scale = None if scale is None else scale[part]
        scoring.add(result, chunk.series)  # left-out windows: kept in the forecasts
        cutoffs.append(stamps[:, model.lookback_ - 1].copy())  # not a view of the chunk's
        bands = _bands(model, taus, result.quantiles) if taus else []
        names = [ids[j] for j in chunk.series]
        frames.append(_fold_forecasts(long.layout, names, stamps, result, bands, model))
    return scoring, np.concatenate(cutoffs), frames


def _fold_forecasts(layout, ids, stamps, result, bands, model) -> pl.DataFrame:
    """One row per (series, step) of a fold: id, time, cutoff, step, actual, forecast, the
    seasonal-naive forecast its scores compare with (as ``evaluate``'s ``snaive``), bounds
    (each target's, :mod:`tsfm.estimator.window_columns`)."""
    lookback, horizon = model.lookback_, model.horizon
    lag = season_length(model)
    snaive = baseline_forecast(result.lookback, horizon, lag, result.lookback_observed)
    return pl.DataFrame(
        [
            id_series(layout, ids, horizon),
            time_series(layout.time_col, stamps[:, lookback:].reshape(-1), layout.time_type),
            time_series("cutoff", np.repeat(stamps[:, lookback - 1], horizon), layout.time_type),
            pl.Series("step", np.tile(np.arange(1, horizon + 1), len(ids))),
            *window_value_columns(model.columns_, result.actual, result.forecast, snaive, bands),
        ]
    )


def _fold_series(layout, fold, ids, cutoffs, scores, intervals) -> pl.DataFrame:
    """One row per series of a fold: the fold, the series' cutoff, its scores (and interval
    metrics)."""
    frame = series_frame(ids, scores.per_series(), 1, intervals).drop("__id", "windows")
    return (
        frame.insert_column(0, id_series(layout, ids, 1))
        .insert_column(0, time_series("cutoff", cutoffs, layout.time_type))
        .insert_column(0, pl.Series("fold", [fold] * len(ids)))
    )
