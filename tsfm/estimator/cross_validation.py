"""Rolling-origin cross-validation.

With ``T`` rows, fold ``k`` of ``n_windows`` (k = 0 .. n_windows - 1) has its cutoff at row
``c_k = T - horizon - (n_windows - 1 - k) * step``: it forecasts rows ``[c_k, c_k + horizon)``
from rows before ``c_k`` only. The last fold forecasts the last ``horizon`` rows.

``refit=True``: every fold trains a fresh model (and fits a fresh scaler) on rows ``[0, c_k)``.
``refit=False``: one model, trained on rows before the first cutoff, forecasts every fold.
``refit=r``: retrain on folds 0, r, 2r, ...; the folds between reuse the latest model. In
every case a fold's model and scaler have seen no row at or after its cutoff.

A model with intervals (a probabilistic head or conformal scores) adds to each forecast row
the bounds of its ``levels`` (``forecast-lo-80``, ``forecast-hi-80``, ...) and to each fold's
metrics ``crps``, ``coverage_<L>``, ``width_<L>`` (and ``*_original``) and ``msis``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import polars as pl

from tsfm.data.frames import Layout, SeriesTable, time_series
from tsfm.estimator.inference import Backtest, forecast_at
from tsfm.estimator.intervals import interval_metrics, metric_taus
from tsfm.training.scoring import index_of, level_bounds, level_name


class CrossValidation(NamedTuple):
    """``forecasts``: one row per (fold, series, step): id, time, cutoff (the last timestamp
    trained on), actual, forecast. ``metrics``: one row per fold: fold, cutoff, train_rows,
    refitted, mse, mae, rmse (scaled with the fold's scaler) and their ``_original`` versions."""

    forecasts: Any
    metrics: Any


def cutoffs(n_rows: int, horizon: int, n_windows: int, step: int) -> list[int]:
    return [n_rows - horizon - (n_windows - 1 - k) * step for k in range(n_windows)]


def _refit_now(refit: bool | int, fold: int) -> bool:
    if isinstance(refit, bool):
        return refit or fold == 0
    if not isinstance(refit, int) or refit < 1:
        raise ValueError(f"refit must be True, False or a positive integer, got {refit!r}")
    return fold % refit == 0


def cross_validate(
    est: Any,
    df: Any,
    n_windows: int = 3,
    step: int | None = None,
    refit: bool | int = True,
    static_df: Any = None,
) -> CrossValidation:
    from sklearn.base import clone

    if est.mode == "independent":
        raise ValueError(
            "cross_validate forecasts series on one time index (mode='joint'); for "
            "independent series, fit on each series' history and predict (see README, Panels)"
        )
    table = est.read(df)
    step = est.horizon if step is None else step
    if n_windows < 1 or step < 1:
        raise ValueError(f"n_windows ({n_windows}) and step ({step}) must be at least 1")
    _refit_now(refit, 0)  # validates refit
    folds = cutoffs(len(table), est.horizon, n_windows, step)
    needed = est.lookback + est.horizon
    if folds[0] < needed:
        raise ValueError(
            f"{n_windows} folds {step} steps apart leave {folds[0]} rows before the first "
            f"cutoff; training needs at least lookback + horizon = {needed} (plus any "
            "validation rows): use fewer windows, a smaller step or a longer frame"
        )
    forecasts, rows = [], []
    model = None
    for fold, cutoff in enumerate(folds):
        history = table.head(cutoff)
        refitted = _refit_now(refit, fold)
        if refitted:
            model = clone(est)
            model.fit_table(history, static_df=static_df)
        taus = metric_taus(model)
        times, values, quantiles = forecast_at(model, table, cutoff, taus)
        targets = table.select(model.output_columns(table))
        actual = targets.values[cutoff : cutoff + est.horizon]
        bands = _bands(model, taus, quantiles) if taus else []
        forecasts.append((cutoff, times, actual, values, bands))
        row = _fold_metrics(model, fold, targets, cutoff, refitted, actual, values)
        if taus:
            lookback = targets.values[cutoff - est.lookback : cutoff]
            row.update(_fold_intervals(model, lookback, actual, values, quantiles))
        rows.append(row)
    targets = table.select(model.output_columns(table))
    return CrossValidation(_forecast_frame(targets, forecasts), _metrics_frame(table.layout, rows))


def _bands(model: Any, taus: tuple[float, ...], quantiles: np.ndarray) -> list:
    """``(column, values [H, N])`` of the bounds of every level of the model's ``levels``."""
    bands = []
    for level in sorted(model.config_.levels, reverse=True):
        bands.append((f"forecast-lo-{level_name(level)}", level_bounds(level)[0]))
    for level in sorted(model.config_.levels):
        bands.append((f"forecast-hi-{level_name(level)}", level_bounds(level)[1]))
    return [(name, quantiles[..., index_of(taus, tau)]) for name, tau in bands]


def _fold_intervals(model, lookback, actual, forecast, quantiles) -> dict[str, float]:
    """The interval metrics of one fold's window (scaled with the fold's scaler)."""
    scaler = model.scaler_
    scaled = (lambda v: v) if scaler is None else scaler.transform
    window = Backtest(
        origins=np.array([len(lookback)]),
        forecast=forecast[None],
        actual=actual[None],
        forecast_scaled=scaled(forecast)[None],
        actual_scaled=scaled(actual)[None],
        quantiles=quantiles[None],
        quantiles_scaled=np.moveaxis(scaled(np.moveaxis(quantiles, -1, 0)), 0, -1)[None],
        lookback_scaled=scaled(lookback)[None],
    )
    return interval_metrics(model, window)


def _fold_metrics(model, fold, table, cutoff, refitted, actual, forecast) -> dict[str, Any]:
    scaler = model.scaler_  # the fold's, fitted on its training rows (the targets)
    scaled = (lambda v: v) if scaler is None else scaler.transform
    row = {
        "fold": fold,
        "cutoff": table.times[cutoff - 1],
        "train_rows": cutoff,
        "refitted": refitted,
    }
    for suffix, f, a in (("", scaled(forecast), scaled(actual)), ("_original", forecast, actual)):
        mse = float(np.nanmean((f - a) ** 2))
        row.update({f"mse{suffix}": mse, f"mae{suffix}": float(np.nanmean(np.abs(f - a)))})
        row[f"rmse{suffix}"] = mse**0.5
    return row


def _names(layout: Layout) -> tuple[str, str, str]:
    if layout.kind == "long":
        return layout.id_col, layout.time_col, layout.target_col
    return "unique_id", "ds" if layout.time_col.startswith("__") else layout.time_col, "y"


def _forecast_frame(table: SeriesTable, folds: list) -> Any:
    id_col, time_col, target_col = _names(table.layout)
    parts = []
    for cutoff, times, actual, forecast, bands in folds:
        horizon, n_series = forecast.shape
        time_type = table.layout.time_type
        parts.append(
            pl.DataFrame(
                [
                    pl.Series(id_col, [c for c in table.columns for _ in range(horizon)]),
                    time_series(time_col, np.tile(times, n_series), time_type),
                    time_series(
                        "cutoff", np.repeat(table.times[cutoff - 1], horizon * n_series), time_type
                    ),
                    pl.Series(target_col, actual.T.reshape(-1)),
                    pl.Series("forecast", forecast.T.reshape(-1)),
                    *(pl.Series(name, values.T.reshape(-1)) for name, values in bands),
                ]
            )
        )
    return _in_library(pl.concat(parts), table.layout)


def _metrics_frame(layout: Layout, rows: list[dict]) -> Any:
    cutoffs = np.array([row.pop("cutoff") for row in rows])
    frame = pl.DataFrame(rows).insert_column(1, time_series("cutoff", cutoffs, layout.time_type))
    return _in_library(frame, layout)


def _in_library(frame: pl.DataFrame, layout: Layout) -> Any:
    return frame if layout.library == "polars" else frame.to_pandas()
