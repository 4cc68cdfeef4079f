"""Frames out: forecasts laid out as their input came in (pandas or polars, wide or long, time
zones and index kept), the id and time columns in the types the frame gave them
(:mod:`~tsfm.data.frames.column_types`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.column_types import (
    pandas_description,
    pandas_type,
    polars_type,
    refuse_inexact,
    time_resolution,
)
from tsfm.data.frames.convert import INDEX_COLUMN
from tsfm.data.frames.id_types import in_type
from tsfm.data.frames.table import Layout
from tsfm.errors import InputError


def time_series(name: str, times: np.ndarray, time_type: dict[str, Any]) -> pl.Series:
    """``times`` as the time column ``name`` of the type ``time_type`` (see
    :func:`~tsfm.data.frames.zones.read_times`; a frame read on another zone's clock than its
    own comes back in its own, ``frame_tz``); a timestamp the type cannot hold (a sub-daily
    step of a date column) is refused."""
    if time_type.get("kind") == "int":
        return pl.Series(name, times).cast(getattr(pl, time_type.get("dtype", "Int64"), pl.Int64))
    series = pl.Series(name, times.astype("datetime64[ns]"))
    if time_type.get("kind") == "date":
        refuse_inexact(times, "D", name, "a date (Date)")
        return series.cast(pl.Date)
    dtype = pl.Datetime(time_type.get("unit", "ns"), time_type.get("tz"))
    refuse_inexact(times, dtype.time_unit, name, str(dtype))
    if time_type.get("tz") and time_type.get("wall"):  # local dates (see zones.read_times)
        series = series.dt.replace_time_zone(time_type["tz"], ambiguous="earliest")
    elif time_type.get("tz"):
        series = series.dt.replace_time_zone("UTC").dt.convert_time_zone(time_type["tz"])
    if time_type.get("frame_tz"):
        series = series.dt.convert_time_zone(time_type["frame_tz"])
        dtype = pl.Datetime(dtype.time_unit, time_type["frame_tz"])
    return series.cast(dtype)


def finish_frame(
    frame: pl.DataFrame, layout: Layout, times: tuple[str, ...] | None = None, index: bool = True
) -> Any:
    """``frame`` in the layout's library, its id column (long layouts) and time columns
    (``times``, default the layout's) in the types of the layout's frame; pandas: the time
    index restored (``index``)."""
    times = (layout.time_col,) if times is None else times
    pandas_types = layout.pandas_types if layout.library == "pandas" else {}
    id_col = layout.id_col if layout.kind == "long" else None
    if id_col in frame.columns and "id" not in pandas_types:
        frame = frame.with_columns(_typed_ids(frame[id_col], polars_type(layout.id_dtype)))
    if layout.library == "polars":
        return frame
    import pandas as pd

    def column(name: str) -> Any:
        role = "id" if name == id_col else "time" if name in times else None
        return _to_pandas(frame[name], pandas_types.get(role))

    # column by column: the Arrow round trip costs more than the forecast on small frames
    ints = {str(n): n for n in layout.int_columns}  # polars names columns with text only
    out = pd.DataFrame({ints.get(c, c): column(c) for c in frame.columns})
    if layout.time_index and index:
        out = out.set_index(layout.time_col)
        if layout.time_col == INDEX_COLUMN:
            out.index.name = None
    return out


def _typed_ids(ids: pl.Series, dtype: pl.DataType | None) -> pl.Series:
    """``ids`` in the polars type of the frame's id column, every value checked to come
    through (polars rounds decimals and floats it casts to a coarser type)."""
    if dtype is None or ids.dtype == dtype:
        return ids
    cast = in_type(ids, dtype)  # null where a value does not come through
    if cast.null_count():
        _refuse_changed(ids.name, dtype, ids.filter(cast.is_null())[0])
    return cast


def _refuse_changed(column: str, dtype: Any, value: Any) -> None:
    raise InputError(
        f"'{column}' is {dtype}, which cannot hold {value!r} (a value tsfm returns there) "
        f"exactly; give '{column}' a type that holds every value (e.g. text, or 64-bit numbers)"
    )


def pandas_ids(ids: pl.Series, dtype: Any) -> Any:
    """Ids of the polars type pandas' ``dtype`` converts to, as a pandas column of ``dtype``."""
    description = pandas_description(dtype)
    if description is None:
        return ids.to_pandas()
    return _to_pandas(ids, description)


def _to_pandas(series: pl.Series, description: dict[str, Any] | None = None) -> Any:
    """A column as pandas: in the type ``description`` gives (cast by pandas from what polars
    hands over, every value checked to come through), or as polars converts it. Nulls (a
    panel's fold without one cutoff) stay missing: NaT, or NA in pandas' nullable integers
    where the type is a NumPy integer, which holds none."""
    import pandas as pd

    if description is not None and description["name"] == "object":
        return pd.Series(series.to_list(), dtype=object)  # Python's values: dates stay dates
    naive = isinstance(series.dtype, pl.Datetime) and series.dtype.time_zone is None
    plain = series.to_numpy() if series.dtype.is_numeric() or naive else series.to_pandas()
    if description is None:
        return plain
    dtype = pandas_type(description)
    given = series.is_not_null().to_numpy()
    if not given.all() and isinstance(dtype, np.dtype) and dtype.kind in "iu":
        dtype = pd.api.types.pandas_dtype(
            f"{'UInt' if dtype.kind == 'u' else 'Int'}{dtype.itemsize * 8}"
        )
    if isinstance(plain, np.ndarray) and plain.dtype == dtype:  # (NumPy's: nothing to cast)
        return plain
    if series.dtype.is_temporal():
        as_datetime = series.cast(pl.Datetime("ns")) if series.dtype == pl.Date else series
        instants = as_datetime.dt.epoch("ns").to_numpy()[given].astype("datetime64[ns]")
        refuse_inexact(instants, time_resolution(description), series.name, str(dtype))
    if description["name"] == "period":
        out = pd.Series(plain).dt.to_period(dtype.freq)
        inexact = out.dt.to_timestamp(how="start").to_numpy() != pd.Series(plain).to_numpy()
        inexact &= given
        if inexact.any():
            raise InputError(
                f"'{series.name}' is {dtype}, but a timestamp tsfm returns there, "
                f"{pd.Series(plain)[inexact].iloc[0]}, does not start a period of it; give "
                f"'{series.name}' as timestamps (df['{series.name}'].dt.to_timestamp())"
            )
        return out
    out = pd.Series(plain).astype(dtype)
    lost = out.isna().to_numpy() & pd.notna(np.asarray(plain))  # a category lacking a value
    if not lost.any() and isinstance(plain, np.ndarray):  # a value changed (int16 overflows)
        lost = (out.astype(plain.dtype).to_numpy() != plain) & given
    if lost.any():
        _refuse_changed(series.name, dtype, np.asarray(plain)[lost][0])
    return out


def write_frame(
    layout: Layout,
    columns: list,
    times: np.ndarray,
    values: np.ndarray,
    value_name: str | None = None,
    bands: list[tuple[str, np.ndarray]] = (),
) -> Any:
    """``values [T, N]`` at ``times`` in ``layout`` (long frames: series after series).

    ``bands``: ``(suffix, values [T, N])`` pairs, such as ``("-lo-80", lower)``; each becomes a
    column named after its variate plus the suffix, right after the variate (wide), or after
    the target column plus the suffix (long).
    """
    if layout.kind == "wide":
        data = [time_series(layout.time_col, times, layout.time_type)]
        for j, c in enumerate(columns):
            data.append(pl.Series(str(c), values[:, j]))
            data += [pl.Series(f"{c}{suffix}", band[:, j]) for suffix, band in bands]
        _refuse_repeated([s.name for s in data])
        return finish_frame(pl.DataFrame(data), layout)
    n_times, n_series = values.shape
    ids = id_series(layout, columns, n_times)
    stamps = time_series(layout.time_col, np.tile(times, n_series), layout.time_type)
    name = value_name or layout.target_col
    target = pl.Series(name, values.T.reshape(-1))
    extra = [pl.Series(f"{name}{suffix}", band.T.reshape(-1)) for suffix, band in bands]
    return finish_frame(pl.DataFrame([ids, stamps, target, *extra]), layout)


def _refuse_repeated(names: list[str]) -> None:
    """A wide forecast's columns: a variate named as another's bound or quantile column
    (``a-lo-80`` beside ``a``, a forecast fed back as data) would be a second column of
    that name."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"the forecast would hold two columns named {name!r}: the frame's variate and "
                "the bound or quantile column predict adds for another variate ('<variate>-lo-"
                "<L>', '-hi-<L>', '-q-<tau>'); rename that variate in the frame, or ask predict "
                "for other levels or quantiles"
            )
        seen.add(name)


def id_series(layout: Layout, series: list, repeat: int) -> pl.Series:
    """The id column of a long frame: each series ``repeat`` times (:func:`finish_frame`
    gives it the input's type)."""
    return pl.Series(layout.id_col, [c for c in series for _ in range(repeat)])


def typed_id_series(layout: Layout, series: list) -> pl.Series:
    """A long frame's series ids in the polars type its id column was read in."""
    return _typed_ids(id_series(layout, series, 1), polars_type(layout.id_dtype))
