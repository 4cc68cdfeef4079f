"""Time columns read into timestamps, and the time zone of frames given to a fitted model.

A fitted model reads every later frame (``predict``, ``evaluate``, ``backtest``, ``plot``, a
panel's frame, ``future_df``) on the fitted frame's clock: zone-aware timestamps in another
zone are converted to the fitted zone (the same instants; forecasts come back in the frame's
own zone), text with UTC offsets is read as instants in it, and naive timestamps against
zone-aware fitted ones (or the reverse) are refused, since read as UTC instants they would
shift every calendar feature, look-up and in-sample check by the zone's offset. Except for
calendar steps (daily and longer data), held as the zone's dates (``wall``): naive
timestamps and dates are those dates, read as they are (and written back in their type).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.date_text import parse_dates
from tsfm.data.frames.offsets import offset_times
from tsfm.errors import InputError


def read_times(column: pl.Series, wall: bool | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Integer steps or ``datetime64[ns]`` instants, and the type to write them back as.

    Time-zone-aware timestamps are held as UTC instants, except calendar steps (every
    timestamp at the same time of day on the zone's clock: daily and longer data), which are
    held as the zone's wall-clock times (``wall`` in the type), since across daylight saving
    their steps are 23 or 25 hours long as instants; ``wall`` given (the fitted frame's
    choice) decides instead. Text with UTC offsets: see :func:`offset_times`.
    """
    dtype = column.dtype
    if dtype.is_integer():
        if column.null_count():
            raise InputError(f"time column '{column.name}' has missing values")
        return column.cast(pl.Int64).to_numpy(), {"kind": "int", "dtype": str(dtype)}
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        local = column.dt.replace_time_zone(None)
        if wall is None:
            wall = column.len() >= 2 and local.dt.time().n_unique() == 1
        if wall:
            kind = {"kind": "datetime", "unit": dtype.time_unit, "tz": dtype.time_zone}
            return parse_dates(local), {**kind, "wall": True}
    if dtype == pl.String and (read := offset_times(column, wall)) is not None:
        return read
    if isinstance(dtype, pl.Datetime):
        kind = {"kind": "datetime", "unit": dtype.time_unit, "tz": dtype.time_zone}
    elif dtype == pl.Date:
        kind = {"kind": "date"}
    else:
        kind = {"kind": "datetime", "unit": "ns", "tz": None}
    return parse_dates(column), kind


def fitted_times(
    column: pl.Series,
    wall: bool | None,
    fitted: dict[str, Any] | None,
    what: str = "the frame",
    library: str = "pandas",
    index: bool = False,
) -> tuple[np.ndarray, dict[str, Any]]:
    """:func:`read_times` of a frame given to a fitted model whose frame's time type is
    ``fitted`` (None: a fit, read as given), on the fitted zone's clock (module docstring).
    A column converted from another zone keeps that zone as ``frame_tz`` in its type: frames
    written back are in it. ``what``, ``library``, ``index`` (a pandas time index): for the
    message of a refusal."""
    if not fitted or fitted.get("kind") == "int":
        return read_times(column, wall)
    zone = fitted.get("tz")
    own = column.dtype.time_zone if isinstance(column.dtype, pl.Datetime) else None
    text = column.dtype == pl.String
    if text and zone and (offsets := offset_times(column, False)) is not None:
        # offsets name no zone: their instants, on the fitted zone's clock
        column = pl.Series(column.name, offsets[0]).dt.replace_time_zone("UTC")
        column = column.dt.convert_time_zone(zone)
    elif own and zone and own != zone:
        column = column.dt.convert_time_zone(zone)
    times, kind = read_times(column, wall)
    # a calendar-step model holds the zone's dates (wall clock): naive ones are those dates
    local = bool(fitted.get("wall")) and not kind.get("tz")
    if kind["kind"] != "int" and bool(kind.get("tz")) != bool(zone) and not local:
        where = {"column": column.name, "library": library, "index": index, "text": text}
        raise InputError(zone_mismatch(what, kind.get("tz"), zone, **where))
    if own and zone and own != zone:
        kind = {**kind, "frame_tz": own}
    return times, kind


def text_times(df: Any, column: str | None) -> bool:
    """Whether ``column`` of the pandas or polars frame ``df`` (or its index so named) holds
    text: dates written as text, read by :func:`read_times`."""
    if isinstance(df, pl.DataFrame):
        return column in df.columns and df.schema[column] == pl.String
    if column in getattr(df, "columns", ()):
        values = df[column]
    elif getattr(getattr(df, "index", None), "name", None) == column:
        values = df.index
    else:
        return False
    import pandas as pd

    return bool(pd.api.types.is_string_dtype(values))


def zone_mismatch(
    what: str,
    given: str | None,
    zone: str | None,
    column: str,
    library: str = "pandas",
    index: bool = False,
    text: bool = False,
    wall: bool = False,
) -> str:
    """Why timestamps in a zone (``given``) against fitted ones without one (``zone`` None),
    or the reverse, are refused, and how to give them as the fitted frame's; ``text``: they
    are text (with UTC offsets when ``given``), ``index``: a pandas time index; ``wall``: the
    fitted ones are the zone's dates (a warm fit, which keeps the fitted zone, refuses naive
    ones: they are those dates)."""
    pandas, frame = library == "pandas", what if what.isidentifier() else "df"
    ref = f"{frame}.index" if pandas and index else f"{frame}['{column}']"
    ref = f"pd.to_datetime({ref}{', utc=True' if text and given else ''})" if text else ref
    dt = "" if pandas and index and not text else ".dt"
    if zone and wall:
        fix = (
            f"{ref}{dt}.tz_localize('{zone}')"
            if pandas
            else f"pl.col('{column}'){'.str.to_datetime()' if text else ''}.dt."
            f"replace_time_zone('{zone}')"
        )
        return (
            f"{what}'s timestamps are without a time zone but the fitted frame's are dates in "
            f"{zone}: give them in {zone} ({fix})"
        )
    if zone:
        fix = (
            f"{ref}{dt}.tz_localize('{zone}') if they are its wall clock, {ref}{dt}"
            f".tz_localize('UTC'){dt}.tz_convert('{zone}') if UTC's"
            if pandas
            else f"pl.col('{column}'){'.str.to_datetime()' if text else ''}.dt."
            f"replace_time_zone('{zone}') if they are its wall clock"
        )
        return (
            f"{what}'s timestamps are without a time zone but the fitted frame's are in "
            f"{zone}: give them in {zone} ({fix}); read as UTC they would be off by its offset"
        )
    held, keeps = f"are in {given}", "keeps their wall clock"
    if text:
        held, keeps = "are text with UTC offsets", "gives UTC's clock"
    fix = (
        f"{ref}{dt}.tz_localize(None)"
        if pandas
        else f"pl.col('{column}'){'.str.to_datetime()' if text else ''}.dt.replace_time_zone(None)"
    )
    return (
        f"{what}'s timestamps {held} but the fitted frame's are without a time zone: give them "
        f"without one, on the clock the model was fitted on ({fix} {keeps}), or fit on "
        "timestamps with a zone"
    )
