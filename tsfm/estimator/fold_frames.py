"""The frames of a cross-validation or backtest (:mod:`tsfm.estimator.cross_validation`):
every fold's forecasts, its metrics and each series' metrics per fold, in the layout's frame
library."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import Layout, SeriesTable, time_series
from tsfm.estimator.accuracy import (
    in_library,
    series_frame,
    series_names,
    stacked,
    warn_missing_in_folds,
    warn_notes,
)
from tsfm.estimator.naive_check import LazyExtremes


def forecast_frame(table: SeriesTable, folds: list) -> Any:
    """One row per (fold, series, step): cutoff, step, actual, forecast, seasonal naive and
    the bounds of each level."""
    id_col, time_col, target_col = series_names(table.layout)
    parts = []
    for cutoff, times, actual, forecast, snaive, bands in folds:
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
                    pl.Series("step", np.tile(np.arange(1, horizon + 1), n_series)),
                    pl.Series(target_col, actual.T.reshape(-1), nan_to_null=True),
                    pl.Series("forecast", forecast.T.reshape(-1)),
                    pl.Series("snaive", snaive.T.reshape(-1), nan_to_null=True),
                    *(pl.Series(name, values.T.reshape(-1)) for name, values in bands),
                ]
            )
        )
    return in_library(stacked(parts), table.layout)


def metrics_frame(layout: Layout, rows: list[dict], spans: bool = False) -> Any:
    """One row per fold, its cutoff second, with the same dtypes whatever the folds hold.
    ``spans`` (a panel's folds, whose series have cutoffs of their own): ``first_cutoff`` and
    ``last_cutoff`` follow ``cutoff``, the earliest and latest of the fold's series' cutoffs,
    and ``cutoff`` is null in a fold that has none for all its series (a row's None)."""
    names = ("cutoff", "first_cutoff", "last_cutoff") if spans else ("cutoff",)
    known = np.array([row["cutoff"] is not None for row in rows], dtype=bool)
    for row in rows:  # a fold without one cutoff: any time of the right type, then null
        row["cutoff"] = row[names[-1]] if row["cutoff"] is None else row["cutoff"]
    cutoffs = {name: np.array([row.pop(name) for row in rows]) for name in names}
    frame = pl.DataFrame(rows, infer_schema_length=None)  # (nan_to_null skips dict rows)
    frame = frame.with_columns(  # the same dtypes whatever the folds hold (None only: Null)
        pl.col("train_rows", "val_rows", "epochs").cast(pl.Int64),
        pl.col("best_val_loss").cast(pl.Float64),
    ).with_columns(pl.col(pl.Float64).fill_nan(None))  # undefined: null, as evaluate
    for at, (name, times) in enumerate(cutoffs.items(), start=1):
        frame = frame.insert_column(at, time_series(name, times, layout.time_type))
    frame = frame.with_columns(pl.when(pl.Series(known)).then(pl.col("cutoff")).alias("cutoff"))
    return in_library(frame, layout)


def fold_series_frame(
    layout: Layout, folds: list, left: list, extremes: LazyExtremes | None = None
) -> Any:
    """One row per (fold, series): the fold, its cutoff, :meth:`Scores.per_series` and the
    series' interval metrics (a model with intervals); ``extremes``: see
    :func:`~tsfm.estimator.naive_check.warn_naive_better`."""
    parts = []
    for fold, cutoff, columns, scores, intervals in folds:
        frame = series_frame(list(columns), scores.per_series(), 1, intervals)
        frame = frame.drop("windows").insert_column(0, pl.Series("fold", [fold] * len(frame)))
        cutoff_column = time_series("cutoff", np.repeat(cutoff, len(frame)), layout.time_type)
        parts.append(frame.insert_column(1, cutoff_column))
    frame = stacked(parts).rename({"__id": series_names(layout)[0]})
    warn_missing_in_folds(frame, series_names(layout)[0], left)
    warn_notes([(list(columns), scores) for _, _, columns, scores, _ in folds], "folds", extremes)
    return in_library(frame, layout)
