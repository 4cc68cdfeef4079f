"""Rolling-origin cross-validation.

With ``T`` rows, fold ``k`` of ``n_windows`` (k = 0 .. n_windows - 1) has its cutoff at row
``c_k = T - horizon - (n_windows - 1 - k) * step``: it forecasts rows ``[c_k, c_k + horizon)``
from rows before ``c_k`` only. The last fold forecasts the last ``horizon`` rows.

``refit=True``: every fold trains a fresh model (and fits a fresh scaler) on rows ``[0, c_k)``.
``refit=False``: one model, trained on rows before the first cutoff, forecasts every fold.
``refit=r``: retrain on folds 0, r, 2r, ...; the folds between reuse the latest model. In
every case a fold's model and scaler have seen no row at or after its cutoff. A fold's model
keeps every setting of the Forecaster, ``val_size`` too: the end of the fold's training rows
then validates (early stopping, best epoch; ``epochs`` and ``best_val_loss`` per fold), and
``train_rows``/``val_rows`` count the rows the fold's model trained and validated on.
The defaults are ``n_windows=3``, ``step=None`` (the horizon) and ``refit=True``, not
neuralforecast's (``n_windows=1``, ``step_size=1``, ``refit=False``). To score a model already fitted, without training, use ``Forecaster.backtest``
(:func:`tsfm.estimator.backtests.backtest_fitted`): same folds, same frames.

Each fold is scored as ``evaluate`` scores (:mod:`tsfm.estimator.accuracy`): sMAPE, MAPE,
MASE (``mase_scale="history"``: over every row before the cutoff), the seasonal-naive and
naive baselines of the same window and the skill against them.

A model with intervals (a probabilistic head or conformal scores) adds to each forecast row
the bounds of its ``levels`` (``forecast-lo-80``, ``forecast-hi-80``, ...) and to each fold's
metrics ``crps``, ``coverage_<L>``, ``width_<L>`` (and ``*_original``) and ``msis``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tsfm.data.frames import SeriesTable, resolve_freq
from tsfm.errors import InputError
from tsfm.estimator.accuracy import (
    history_scales,
    season_length,
)
from tsfm.estimator.fold_frames import fold_series_frame, forecast_frame, metrics_frame
from tsfm.estimator.fold_scoring import fold_lookback, fold_scores, fold_window
from tsfm.estimator.fold_sizes import too_many_folds, training_needs, trains_on
from tsfm.estimator.inference import forecast_at
from tsfm.estimator.interval_scores import interval_metrics, series_interval_metrics
from tsfm.estimator.intervals import metric_taus, scored_levels
from tsfm.estimator.lookback import fold_model
from tsfm.estimator.naive_check import extreme_sources, frame_extremes
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.scored_windows import fold_left_out, require_observed, warn_left_out_folds
from tsfm.training.scoring import index_of, level_bounds, level_name


class _Pair(NamedTuple):
    forecasts: Any
    metrics: Any


class CrossValidation(_Pair):
    """``forecasts``: one row per (fold, series, step): id, time, cutoff (the forecast origin:
    the last timestamp before the fold's forecast), step (1 .. horizon), actual, forecast,
    snaive (the seasonal-naive forecast of the same window, as ``evaluate``'s: missing where
    the window has none) and the interval bounds of a model with intervals. ``metrics``: one
    row per fold: fold, cutoff (a ``mode="independent"`` panel's: null where its series'
    cutoffs differ, then first_cutoff and last_cutoff, :mod:`tsfm.estimator.panel_folds`),
    train_rows and val_rows (the rows the fold's model trained and
    validated on, as its fit recorded them, :func:`fold_rows`: fewer than the rows before the
    cutoff with ``val_size``, and a fold that is not refitted reports the model it reuses),
    refitted, mse, mae, rmse (scaled with the fold's scaler) and their ``_original`` versions (pooled over the series: meaningful on the
    original scale only when they share a unit), the pooled ``smape``, ``mape``, ``mase``,
    ``snaive_mae``, ``snaive_mse``, ``naive_mae``, ``skill_mae``, ``skill_mse``,
    ``skill_mae_naive`` (:mod:`tsfm.estimator.accuracy`; missing where undefined), and for refitted folds
    ``epochs`` and ``best_val_loss`` (null without validation). ``per_series`` (an attribute,
    so that ``forecasts, metrics = cv`` still unpacks): one row per (fold, series) with each
    series' metrics in its own units (``snaive_mae``, ``skill_mae``: of the forecasts' rows),
    and for a model with intervals its ``crps``, ``coverage_<L>``, ``width_<L>``, ``msis``."""

    per_series: Any

    def __new__(cls, forecasts: Any, metrics: Any, per_series: Any = None) -> CrossValidation:
        self = super().__new__(cls, forecasts, metrics)
        self.per_series = per_series
        return self


def cutoffs(n_rows: int, horizon: int, n_windows: int, step: int) -> list[int]:
    return [n_rows - horizon - (n_windows - 1 - k) * step for k in range(n_windows)]


def _whole(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _refit_now(refit: bool | int, fold: int) -> bool:
    if isinstance(refit, bool):
        return refit or fold == 0
    if not _whole(refit) or refit < 1:
        raise InputError(f"refit must be True, False or a positive integer, got {refit!r}")
    return fold % refit == 0


def fold_step(est: Any, n_windows: int, step: int | None) -> int:
    """The folds' step (default: the horizon), with ``n_windows``, checked."""
    step = est.horizon if step is None else step
    if not (_whole(n_windows) and _whole(step)) or n_windows < 1 or step < 1:
        raise InputError(
            f"n_windows ({n_windows!r}) and step ({step!r}) must be whole numbers, at least 1"
        )
    return step


def fold_cutoffs(est: Any, table: SeriesTable, n_windows: int, step: int | None) -> list[int]:
    """The folds' cutoff rows, checked."""
    return cutoffs(len(table), est.horizon, n_windows, fold_step(est, n_windows, step))


def cross_validate(
    est: Any,
    df: Any,
    n_windows: int = 3,
    step: int | None = None,
    refit: bool | int = True,
    static_df: Any = None,
    mase_scale: str = "lookback",
    cutoffs: str = "per_series",
) -> CrossValidation:
    """Every fold's model is a clone of ``est`` with all its settings, ``val_size`` included:
    it holds out the end of the fold's training rows to stop early and pick the best epoch.
    ``cutoffs``: how a ``mode="independent"`` panel's folds are placed
    (:mod:`tsfm.estimator.shared_cutoffs`); a joint frame's series share one time index, and
    its folds their cutoffs, either way."""
    from sklearn.base import clone

    from tsfm.training.progress import labelled

    if est.mode == "independent":
        from tsfm.estimator.panel_folds import cross_validate_panel

        return cross_validate_panel(est, df, n_windows, step, refit, static_df, mase_scale, cutoffs)
    table = est.read(df)
    refuse_clashing_names(table.layout)  # before any fold trains
    _refit_now(refit, 0)  # validates refit
    folds = fold_cutoffs(est, table, n_windows, step)
    freq = resolve_freq(table.times, est.freq, table.tz) if est.lookback is None else None
    est = fold_model(est, freq, folds[0])  # lookback=None: one look-back for every fold
    fits = trains_on(est)
    if not fits(folds[0]):
        raise InputError(
            too_many_folds(
                len(table),
                n_windows,
                fold_step(est, n_windows, step),
                est.horizon,
                fits,
                training_needs(est),
                also="a smaller val_size" if est.val_size is not None else "",
            )
        )
    model = None

    def model_for(fold: int, history: SeriesTable) -> tuple[Any, bool]:
        nonlocal model
        refitted = _refit_now(refit, fold)
        if refitted:
            model = clone(est)
            with labelled(f"fold {fold + 1}/{len(folds)}"):  # on its epoch lines
                model.fit_table(history, static_df=static_df)
        return model, refitted

    return run_folds(table, folds, est.horizon, model_for, mase_scale)


def run_folds(
    table: SeriesTable, folds: list[int], horizon: int, model_for, mase_scale: str = "lookback"
) -> CrossValidation:
    """Forecast and score each fold with ``model_for(fold, rows before the cutoff)``'s
    ``(model, refitted)``; ``mase_scale="history"``: MASE and MSIS over every row before the
    cutoff."""
    forecasts, rows, series_rows, model, left, actuals = [], [], [], None, [], []
    models = []  # each fold's, for the extreme values of their training rows
    for fold, cutoff in enumerate(folds):
        model, refitted = model_for(fold, table.head(cutoff))
        models.append(model)
        taus = metric_taus(model)
        times, values, quantiles = forecast_at(model, table, cutoff, taus)
        targets = table.select(model.output_columns(table))
        actual = targets.values[cutoff : cutoff + horizon]
        raw_lookback, look_scaled, look_read = fold_lookback(model, targets.values, cutoff)
        scale = None  # mase_scale="lookback": the fold's look-back's
        if mase_scale == "history":
            scale = history_scales(targets.values, np.array([cutoff]), season_length(model))
        bands = _bands(model, taus, quantiles) if taus else []
        empty = np.isnan(raw_lookback).all(axis=0)  # nothing observed: left out of the scores
        left += fold_left_out(empty, list(targets.columns), fold)
        scored = np.where(empty, np.nan, actual)
        actuals.append(scored)
        row = _fold_metrics(model, fold, targets, cutoff, refitted, scored, values)
        looks = (raw_lookback, look_read, look_scaled)
        scores, snaive = fold_scores(model, looks, scored, values, scale)
        forecasts.append((cutoff, times, actual, values, snaive, bands))
        row.update(scores.pooled())
        row.update(_fold_training(model, refitted))
        intervals = {}
        if taus:
            window = fold_window(model, looks, scored, values, quantiles)
            window.scale = scale
            row.update(interval_metrics(model, window))
            intervals = series_interval_metrics(model, window)
        rows.append(row)
        series_rows.append((fold, row["cutoff"], targets.columns, scores, intervals))
    targets = table.select(model.output_columns(table))
    require_observed(actuals, "folds")  # as evaluate refuses: nothing to score
    warn_left_out_folds(left, model.lookback_)
    return CrossValidation(
        forecast_frame(targets, forecasts),
        metrics_frame(table.layout, rows),
        fold_series_frame(
            table.layout,
            series_rows,
            left,
            lambda: extreme_sources(models, frame_extremes([table])),
        ),
    )


def fold_rows(model: Any) -> dict[str, Any]:
    """The rows the fold's model trained and validated on (as its fit recorded them: a fold
    that is not refitted reports the model it reuses; null where not recorded)."""
    metrics = getattr(model, "fit_metrics_", {})
    return {"train_rows": metrics.get("train_rows"), "val_rows": metrics.get("val_rows")}


def _fold_training(model: Any, refitted: bool) -> dict[str, Any]:
    """How the fold's model trained: epochs, and its best validation loss (early stopping)."""
    metrics = getattr(model, "fit_metrics_", {}) if refitted else {}
    best = metrics.get("val/best_loss")
    return {"epochs": metrics.get("epochs"), "best_val_loss": None if best is None else float(best)}


def _bands(model: Any, taus: tuple[float, ...], quantiles: np.ndarray) -> list:
    """``(column, values [H, N])`` of the bounds of every level of the model's ``levels``."""
    bands, levels = [], scored_levels(model)
    for level in sorted(levels, reverse=True):
        bands.append((f"forecast-lo-{level_name(level)}", level_bounds(level)[0]))
    for level in sorted(levels):
        bands.append((f"forecast-hi-{level_name(level)}", level_bounds(level)[1]))
    return [(name, quantiles[..., index_of(taus, tau)]) for name, tau in bands]


def _fold_metrics(model, fold, table, cutoff, refitted, actual, forecast) -> dict[str, Any]:
    scaler = model.scaler_  # the fold's, fitted on its training rows (the targets)
    scaled = (lambda v: v) if scaler is None else scaler.transform
    row = {
        "fold": fold,
        "cutoff": table.times[cutoff - 1],
        **fold_rows(model),
        "refitted": refitted,
    }
    observed = ~np.isnan(actual)  # missing targets, and series left out of the fold's scores
    for suffix, f, a in (("", scaled(forecast), scaled(actual)), ("_original", forecast, actual)):
        error = (f - a)[observed]
        mse = float(np.mean(error**2)) if error.size else float("nan")
        mae = float(np.mean(np.abs(error))) if error.size else float("nan")
        row.update({f"mse{suffix}": mse, f"mae{suffix}": mae, f"rmse{suffix}": mse**0.5})
    return row
