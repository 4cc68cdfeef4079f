"""Files and frames in: pandas or polars, wide or long, checked into a :class:`SeriesTable`.

Everything the later stages assume is checked here, once, with errors that name the column
or row and say how to fix it. Wide: a time column plus one numeric column per variate (pandas
may hold the timestamps in a ``DatetimeIndex``). Long: ``unique_id``, ``ds``, ``y`` (names
configurable), one row per series and timestamp; the series are aligned on one time index,
so they must share their timestamps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.column_types import polars_description, user_types, value_types
from tsfm.data.frames.convert import INDEX_COLUMN, to_polars
from tsfm.data.frames.date_text import calendar_hint
from tsfm.data.frames.files import stray_text
from tsfm.data.frames.horizon_rows import refuse_horizon_rows, refuse_table_horizon_rows
from tsfm.data.frames.id_types import as_fitted_ids
from tsfm.data.frames.long import LongFrame, joint_table, sorted_by_id, split_static_columns
from tsfm.data.frames.table import Layout, SeriesTable
from tsfm.data.frames.timestamp_order import check_timestamps
from tsfm.data.frames.unnamed import FILE_FIX, refuse_unnamed
from tsfm.data.frames.value_columns import (
    check_finite,
    is_value_column,
    non_numeric_target,
    non_numeric_variates,
    refuse_empty,
    text_numbers,
)
from tsfm.data.frames.zones import fitted_times
from tsfm.errors import InputError


def find_time_column(names: list[str], schema: pl.Schema, *candidates: str | None) -> str:
    """The first candidate that is a column, else the only temporal column."""
    for name in candidates:
        if name is not None and name in names:
            return name
    temporal = [n for n in names if schema[n].is_temporal()]
    if len(temporal) == 1:
        return temporal[0]
    text = [n for n in names if schema[n] == pl.String]
    if not temporal and len(text) == 1:  # dates written as text ("2021-05-01", "1956 Q1")
        return text[0]
    raise InputError(
        f"cannot tell which column holds the timestamps (columns: {names}); pass date_col=... "
        f"for a wide frame, or id_col/time_col/target_col for a long one{calendar_hint(names)}"
    )


def _wide(
    frame: pl.DataFrame,
    time_col: str | None,
    value_cols: list[str],
    layout: Layout | None,
    allow_duplicate_timestamps: bool = False,
    allow_missing: bool = False,
    wall_time: bool | None = None,
    covariates: list[str] = (),
    fitted: dict[str, Any] | None = None,
    name: str = "the frame",
) -> SeriesTable:
    """The checked table of ``value_cols`` (already known to be numeric) over ``time_col``;
    ``covariates``: those that are not targets (horizon rows given as history are told apart);
    ``fitted``: the fitted frame's time type, on whose clock a later frame ``name`` is read."""
    times = None
    if time_col is not None:
        where = (layout.library, layout.time_index) if layout is not None else ("polars", False)
        times, time_type = fitted_times(frame[time_col], wall_time, fitted, name, *where)
        check_timestamps(times, allow_duplicates=allow_duplicate_timestamps)
        if layout is not None:
            layout = Layout(**{**layout.to_dict(), "time_type": time_type})
    values = frame.select(pl.col(c).cast(pl.Float64) for c in value_cols).to_numpy()
    table = SeriesTable(np.ascontiguousarray(values), times, list(value_cols), layout)
    if not allow_missing:
        refuse_table_horizon_rows(table, covariates)
    check_finite(values, value_cols, table.dates, allow_missing)
    return table


def read_frame(
    df: Any,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    date_col: str | None = None,
    static_columns: list[str] = (),
    allow_missing: bool = False,
    wall_time: bool | None = None,
    fitted: Layout | None = None,
    columns: list[str] | None = None,
    covariates: list[str] = (),
    series_order: list[str] | None = None,
    name: str = "the frame",
    file: bool = False,
) -> SeriesTable:
    """A wide or long frame (the Forecaster's input), checked and aligned on one time index
    (long frames: :func:`~tsfm.data.frames.long.joint_table`); its layout kept. ``wall_time``:
    how time-zone-aware timestamps are held (see :func:`~tsfm.data.frames.zones.read_times`;
    None: from the data); ``fitted``: the fitted frame's layout, whose ids a long frame's must
    match and on whose clock its timestamps are read (``name`` it is called by, if refused;
    :func:`~tsfm.data.frames.zones.fitted_times`); ``columns``:
    the only variates of a wide frame to read and check, when it has them all (the columns
    a fit keeps; None: every column); ``covariates``: a wide frame's covariates named. A long
    frame read for a fit (no ``fitted``) has its series in id order, or in ``series_order``'s
    (a warm fit's fitted series; :func:`~tsfm.data.frames.long.sorted_by_id`), so the order of
    its rows changes nothing fitted; read for a fitted model, in the frame's order, which its
    forecasts keep. ``file``: a long file read on the command line (:func:`read_long`)."""
    frame, library, time_index = to_polars(df, categories=static_columns)
    names = list(frame.columns)
    if frame.height == 0:
        raise InputError("the frame has no rows")
    if {id_col, time_col, target_col} <= set(names):
        types = user_types(df, frame, {"id": id_col, "time": time_col})
        long = read_long(
            frame, library, id_col, time_col, target_col, static_columns, allow_missing,
            wall_time, types, fitted, name, file,
        )  # fmt: skip
        if fitted is None:
            long = sorted_by_id(long, series_order)
        return joint_table(long, allow_missing)
    if id_col in names:
        missing = [c for c in (time_col, target_col) if c not in names]
        raise InputError(
            f"the frame has an id column '{id_col}' but no {missing}; for a long frame pass "
            "time_col=... and target_col=..., or drop the id column for a wide frame"
        )
    if date_col is not None and date_col not in names:
        raise InputError(f"date_col '{date_col}' is not a column; columns are {names}")
    time_name = INDEX_COLUMN if INDEX_COLUMN in names else None
    time_name = find_time_column(names, frame.schema, date_col, time_name, time_col, "date")
    variates = [c for c in names if c != time_name]
    if not variates:
        raise InputError(f"the frame has a time column '{time_name}' but no variate columns")
    if columns is not None and set(columns) <= set(variates):  # the others are not read
        variates = [c for c in variates if c in set(columns)]
    refuse_unnamed(frame, variates)
    refuse_empty(frame, variates, "drop them")
    bad = [c for c in variates if not is_value_column(frame.schema[c])]
    if bad:
        by_name = date_col is None and time_name != INDEX_COLUMN
        raise InputError(non_numeric_variates(frame, bad, time_name, library, by_name))
    ints = [int(c) for c in getattr(df, "columns", []) if isinstance(c, int | np.integer)]
    types = user_types(df, frame, {"time": time_name})
    layout = Layout("wide", library, time_name, time_index=time_index, int_columns=ints,
                    pandas_types=types, value_types=value_types(frame, variates))  # fmt: skip
    fitted_time = None if fitted is None else fitted.time_type
    return _wide(frame, time_name, variates, layout, False, allow_missing, wall_time, covariates,
                 fitted_time, name)  # fmt: skip


def build_table(
    df: pl.DataFrame,
    *,
    date_col: str | None,
    target: str,
    columns: list[str] | None = None,
    allow_duplicate_timestamps: bool = False,
    allow_missing: bool = False,
) -> SeriesTable:
    """A wide frame as the papers' loaders read it (the CLI's data): the variates in
    ``columns`` (default: every column but the date), the ``target`` moved last."""
    names = list(df.columns)
    if date_col is not None and date_col not in names:
        raise InputError(
            f"date column '{date_col}' not found; columns are {names}. Set data.date_col "
            "to the column that holds the timestamps (or null if there is none)"
        )
    unknown = [c for c in columns or [] if c not in names]
    if unknown:
        raise InputError(f"data.columns names unknown column(s) {unknown}; columns are {names}")
    if target not in names or target == date_col:
        raise InputError(
            f"target column '{target}' not found; columns are {names}. "
            "Set data.target to one of them"
        )
    if columns is None:
        value_cols = [c for c in names if c != date_col]
        fix = "drop them or list the numeric columns to use in data.columns"
    else:
        value_cols = [c for c in columns if c != date_col]
        value_cols += [] if target in value_cols else [target]
        fix = "remove them from data.columns (and data.target)"
    if df.height == 0:
        raise InputError(f"the data has a header ({names}) but no rows")
    refuse_unnamed(df, value_cols, FILE_FIX)
    refuse_empty(df, value_cols, fix)
    bad = [c for c in value_cols if not is_value_column(df.schema[c])]
    if bad:
        kinds = [str(df.schema[c]) for c in bad]
        if date_col is not None and df[date_col].is_duplicated().any():
            fix += (
                f". Its timestamps repeat, so it looks like a long table (one row per series "
                f"and time, the series named in {bad}): name its id column in data.id_col "
                "(with data.date_col and data.target, the value column)"
            )
        raise InputError(f"non-numeric column(s) {bad} ({kinds}); {stray_text(df, bad)}{fix}")
    value_cols = [c for c in value_cols if c != target] + [target]
    layout = Layout("wide", "polars", date_col, value_types=value_types(df, value_cols))
    return _wide(df, date_col, value_cols, layout, allow_duplicate_timestamps, allow_missing)


def read_long(
    frame: pl.DataFrame,
    library: str,
    id_col: str,
    time_col: str,
    target_col: str | list[str],
    static_columns: list[str] = (),
    allow_missing: bool = False,
    wall_time: bool | None = None,
    types: dict[str, Any] | None = None,
    fitted: Layout | None = None,
    name: str = "the frame",
    file: bool = False,
) -> LongFrame:
    """A checked long frame: the target and every other column but the statics, which are
    time-varying covariates and must be numeric (or boolean). ``types``: the pandas types of
    its id and time columns (:func:`~tsfm.data.frames.column_types.user_types`); ``fitted``:
    the fitted frame's layout, whose ids these must match (:mod:`~tsfm.data.frames.id_types`)
    and on whose clock its timestamps are read (``name``: the frame, if refused); ``file``:
    a file read on the command line (a refusal says what to write in it, not in a frame).
    ``target_col``: a list of targets for several per series (``mode="independent"``)."""
    targets = [target_col] if isinstance(target_col, str) else list(target_col)
    static_columns = list(static_columns)
    missing_static = [c for c in static_columns if c not in frame.columns]
    if missing_static:
        raise InputError(f"static covariate(s) {missing_static} are not columns of the frame")
    extra = [c for c in frame.columns if c not in (id_col, time_col, *targets, *static_columns)]
    refuse_unnamed(frame, extra)
    bad = [c for c in extra if not is_value_column(frame.schema[c])]
    if bad:
        advice = "".join(f"{said}; " for said in text_numbers(frame, bad, library).values())
        advice = stray_text(frame, bad) if file else advice
        raise InputError(
            f"the long frame has non-numeric column(s) {bad}; {advice}a column with one value "
            "per series is a static covariate (static_covariates=[...], data.static_covariates "
            "on the command line); drop the others"
        )
    if frame[id_col].null_count():
        raise InputError(f"id column '{id_col}' has missing values")
    id_dtype = polars_description(frame.schema[id_col])  # the type given, before matching
    if fitted is not None:
        given = (types or {}).get("id")
        frame = frame.with_columns(as_fitted_ids(frame[id_col], fitted, library, given))
    for target in targets:
        if not frame.schema[target].is_numeric():
            raise InputError(non_numeric_target(frame, target, None if file else library))
    fitted_time = None if fitted is None else fitted.time_type
    times, time_type = fitted_times(frame[time_col], wall_time, fitted_time, name, library)
    value_columns = [*targets, *extra]
    values = frame.select(pl.col(c).cast(pl.Float64) for c in value_columns).to_numpy()
    for k, target in enumerate(targets if not allow_missing else ()):
        refuse_horizon_rows(frame[id_col], times, values[:, k], target)
    check_finite(
        values, value_columns, times if time_type["kind"] != "int" else None, allow_missing
    )
    ids = frame[id_col]
    order = ids.unique(maintain_order=True)
    codes = ids.to_frame().join(order.to_frame().with_row_index("code"), on=id_col, how="left")
    layout = Layout("long", library, time_col, id_col, targets[0], time_type, id_dtype,
                    pandas_types=types or {}, value_types=value_types(frame, extra))  # fmt: skip
    return LongFrame(
        ids=order.to_list(),
        codes=codes["code"].to_numpy(),
        times=times,
        values=np.ascontiguousarray(values),
        value_columns=value_columns,
        statics=split_static_columns(frame, id_col, static_columns),
        layout=layout,
    )
