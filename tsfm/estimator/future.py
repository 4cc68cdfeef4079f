"""Future covariates for the horizon: the frame a forecast needs, and checking the one given.

``future_df`` holds, for every series and every timestamp of the horizon, the values of the
future covariates (and nothing else: targets and past covariates are not known there).
:func:`make_future_frame` returns that frame with the timestamps filled in and the covariate
columns empty, for the user to fill.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import SeriesTable, future_times, future_times_each, time_series, to_polars
from tsfm.data.frames.column_types import polars_type, user_types
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.id_types import as_fitted_ids
from tsfm.data.frames.long import covariate_column
from tsfm.data.frames.value_columns import is_value_column
from tsfm.data.frames.write import finish_frame, id_series
from tsfm.data.frames.zones import fitted_times
from tsfm.errors import InputError
from tsfm.estimator.checks import role_names

NO_FUTURE_COVARIATES = (
    "this model has no future covariates, so future_df would not be used: do not pass it (to "
    "forecast from covariates known over the horizon, fit with future_covariates=[...])"
)


def future_names(est: Any) -> list[str]:
    """The future covariates as the user named them (before a long frame's expansion)."""
    return [str(c) for c in role_names(est, "future_covariates")]


def make_future_frame(est: Any, table: SeriesTable) -> Any:
    """The horizon after ``table`` (one row per series and step), future covariates empty."""
    times = future_times(table.times[-1], est.freq_, est.horizon)
    layout = table.layout
    if layout.kind == "wide":
        columns = [time_series(layout.time_col, times, layout.time_type)]
        rows = len(times)
    else:
        series = list(est.series_)
        stamps = time_series(layout.time_col, np.tile(times, len(series)), layout.time_type)
        columns = [id_series(layout, series, len(times)), stamps]
        rows = len(times) * len(series)
    columns += empty_covariates(est, rows, layout)
    return finish_frame(pl.DataFrame(columns), layout)


def empty_covariates(est: Any, rows: int, layout: Any) -> list[pl.Series]:
    """The future covariates' columns of ``rows`` empty values for the user to fill: NaN, or
    in a polars frame null of the fitted column's type (a Boolean flag stays Boolean)."""
    typed = est.layout_.value_types if layout.library == "polars" else {}
    return [
        pl.Series(str(c), [None] * rows, dtype=polars_type(typed[str(c)]))
        if str(c) in typed
        else pl.Series(str(c), np.full(rows, np.nan))
        for c in future_names(est)
    ]


def horizon_values(
    est: Any, future_df: Any, series: list, times: list[np.ndarray]
) -> dict[str, list[np.ndarray]]:
    """``{covariate: [values over the horizon of series j]}`` of every future covariate, for
    ``series`` (long frames; ``[None]`` for a wide frame) whose horizons are ``times``."""
    frame, library, _ = to_polars(future_df, "future_df")
    layout = est.layout_
    names, time_col = future_names(est), layout.time_col
    index = "__index__" in frame.columns  # a pandas DatetimeIndex
    if index:
        frame = frame.rename({"__index__": time_col})
    long = layout.kind == "long"
    known = {time_col, *names, *([layout.id_col] if long else [])}
    extra = [c for c in frame.columns if c not in known]
    if extra:
        raise InputError(
            f"future_df may hold only the time column, the series id and the future covariates "
            f"{names}; it also has {extra} (targets and past covariates are not known over the "
            "horizon)"
        )
    missing_cols = [c for c in known if c not in frame.columns]
    if missing_cols:
        raise InputError(f"future_df lacks the column(s) {missing_cols}")
    text = [n for n in names if not is_value_column(frame.schema[n])]
    if text:
        raise InputError(
            f"future_df: the future covariate(s) {text} are not numeric "
            f"({[str(frame.schema[n]) for n in text]}); give them as numbers, as in the fitted frame"
        )
    if long:  # its ids matched by value, as the frame's (id_types.py)
        given = user_types(future_df, frame, {"id": layout.id_col}).get("id")
        ids = as_fitted_ids(frame[layout.id_col], layout, library, given, "future_df's ids",
                            "future_df")  # fmt: skip
        frame = frame.with_columns(ids)
    # read as the fitted frame's: naive against zone-aware (or the reverse) refused, since read
    # as UTC they would pick every covariate from the wrong hour; another zone converted
    wall = bool(layout.time_type.get("wall"))
    stamps, _ = fitted_times(frame[time_col], wall, layout.time_type, "future_df", library, index)
    zone = None if layout.time_type.get("wall") else layout.time_type.get("tz")
    rows_of: dict[Any, list[int]] = {}
    for r, key in enumerate(frame[layout.id_col].to_list() if long else [None] * frame.height):
        rows_of.setdefault(key, []).append(r)
    columns = {name: frame[name].cast(pl.Float64).to_numpy() for name in names}
    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for s, horizon in zip(series, times, strict=True):
        position = {stamps[r].item(): r for r in rows_of.get(s, [])}
        who = f"series {s!r}" if long else "the series"
        if len(position) < len(rows_of.get(s, [])):
            taken = np.unique(stamps[rows_of[s]], return_counts=True)
            raise InputError(
                f"future_df has more than one row for {who} at "
                f"{show_time(taken[0][taken[1] > 1][0], zone)}: give each timestamp once"
            )
        absent = [t for t in horizon if t.item() not in position]
        if absent:
            raise InputError(
                f"future_df has no row for {who} at {show_time(absent[0], zone)} ({len(absent)} of the "
                f"{len(horizon)} horizon steps missing); "
                "Forecaster.make_future_dataframe() lists every row needed"
            )
        picked = [position[t.item()] for t in horizon]
        for name in names:
            column = columns[name][picked]
            gaps = np.flatnonzero(np.isnan(column))
            if len(gaps):
                shown = ", ".join(show_time(horizon[g], zone) for g in gaps[:3])
                raise InputError(
                    f"future_df: '{name}' is missing for {who} at {shown}"
                    f"{', ...' if len(gaps) > 3 else ''} ({len(gaps)} of the {len(horizon)} "
                    "horizon steps); future covariates must be known there: fill those values"
                )
            huge = np.abs(column) > np.finfo(np.float32).max  # inf too: the model reads float32
            if huge.any():
                raise InputError(
                    f"future_df: '{name}' is {column[huge][0]} for {who} at "
                    f"{show_time(horizon[int(np.argmax(huge))], zone)}; future covariates must be "
                    "finite numbers within float32's range: fix or rescale the column"
                )
            values[name].append(column)
    return values


def require_future_df(est: Any, future_df: Any) -> None:
    """Refuse a forecast of a model with future covariates without their values."""
    if future_df is None:
        raise InputError(
            f"the model uses future covariates {future_names(est)}: pass future_df=... (to "
            "predict or plot) with their values over the horizon "
            "(Forecaster.make_future_dataframe() gives the frame to fill)"
        )


def future_rows(est: Any, window: SeriesTable, future_df: Any) -> tuple[SeriesTable, np.ndarray]:
    """The look-back ``window`` extended by the horizon: its timestamps, the future covariates
    from ``future_df`` and zeros elsewhere (never read: targets and past covariates are not
    inputs over the horizon)."""
    times = future_times(window.times[-1], est.freq_, est.horizon)
    horizon = np.zeros((est.horizon, window.values.shape[1]))
    if est.roles_.future:
        require_future_df(est, future_df)
        columns = [str(c) for c in window.columns]
        series = est.series_ if est.layout_.kind == "long" else [None]
        known = horizon_values(est, future_df, series, [times] * len(series))
        for name, per_series in known.items():
            for s, column in zip(series, per_series, strict=True):
                target = name if s is None else covariate_column(name, s)
                horizon[:, columns.index(target)] = column
    elif future_df is not None:
        raise InputError(NO_FUTURE_COVARIATES)
    values = np.concatenate([window.values, horizon])
    all_times = np.concatenate([window.times, times])
    joined = SeriesTable(values, all_times, window.columns, window.layout, before=window.before)
    return joined, all_times


def make_future_panel(est: Any, df: Any = None) -> Any:
    """One row per series and horizon step after each series' end, future covariates empty."""
    from tsfm.estimator.panel_history import panel_tables, read_panel

    history, layout = (est.history_, est.layout_) if df is None else (None, None)
    if history is None:
        long = read_panel(est, df)
        tables = panel_tables(est, long)
        ids, last = list(long.ids), [t.times[-1] for t in tables]
        layout = long.layout  # in the frame library of df
    else:
        ids, last = list(est.series_), [t[-1] for t in history.times]
    times = future_times_each(last, est.freq_, est.horizon)
    columns = [id_series(layout, ids, est.horizon)]
    columns.append(time_series(layout.time_col, times.reshape(-1), layout.time_type))
    rows = len(ids) * est.horizon
    columns += empty_covariates(est, rows, layout)
    return finish_frame(pl.DataFrame(columns), layout)
