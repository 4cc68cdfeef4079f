"""Frames out: forecasts laid out as their input came in (pandas or polars, wide or long, time
zones and index kept)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.column_types import polars_type
from tsfm.data.frames.convert import INDEX_COLUMN
from tsfm.data.frames.table import Layout


def time_series(name: str, times: np.ndarray, time_type: dict[str, Any]) -> pl.Series:
    if time_type.get("kind") == "int":
        return pl.Series(name, times).cast(getattr(pl, time_type.get("dtype", "Int64"), pl.Int64))
    series = pl.Series(name, times.astype("datetime64[ns]"))
    if time_type.get("kind") == "date":
        return series.cast(pl.Date)
    if time_type.get("tz") and time_type.get("wall"):  # local dates (see read._times)
        series = series.dt.replace_time_zone(time_type["tz"], ambiguous="earliest")
    elif time_type.get("tz"):
        series = series.dt.replace_time_zone("UTC").dt.convert_time_zone(time_type["tz"])
    return series.cast(pl.Datetime(time_type.get("unit", "ns"), time_type.get("tz")))


def finish_frame(frame: pl.DataFrame, layout: Layout) -> Any:
    """``frame`` in the layout's library (pandas: the time index restored), a long frame's
    ids in the polars type of the input's."""
    if layout.kind == "long" and layout.id_col in frame.columns:
        ids = frame[layout.id_col]
        frame = frame.with_columns(_typed_ids(ids, polars_type(layout.id_dtype)))
    if layout.library == "polars":
        return frame
    import pandas as pd

    # column by column: the Arrow round trip costs more than the forecast on small frames
    ints = {str(n): n for n in layout.int_columns}  # polars names columns with text only
    out = pd.DataFrame({ints.get(c, c): _to_pandas(frame[c]) for c in frame.columns})
    if layout.time_index:
        out = out.set_index(layout.time_col)
        if layout.time_col == INDEX_COLUMN:
            out.index.name = None
    return out


def _typed_ids(ids: pl.Series, dtype: pl.DataType | None) -> pl.Series:
    """``ids`` in the polars type of the frame's id column, every value checked to come
    through (polars rounds decimals and floats it casts to a coarser type)."""
    if dtype is None or ids.dtype == dtype:
        return ids
    cast = ids.cast(dtype, strict=False)
    changed = (cast.cast(ids.dtype, strict=False) != ids).fill_null(True)
    if changed.any():
        raise ValueError(
            f"'{ids.name}' is {dtype}, which cannot hold {ids.filter(changed)[0]!r} (a value "
            f"tsfm returns there) exactly; give '{ids.name}' a type that holds every value"
        )
    return cast


def _to_pandas(series: pl.Series) -> Any:
    if series.dtype.is_numeric():
        return series.to_numpy()
    if isinstance(series.dtype, pl.Datetime) and series.dtype.time_zone is None:
        return series.to_numpy()
    return series.to_pandas()


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
        return finish_frame(pl.DataFrame(data), layout)
    n_times, n_series = values.shape
    ids = id_series(layout, columns, n_times)
    stamps = time_series(layout.time_col, np.tile(times, n_series), layout.time_type)
    name = value_name or layout.target_col
    target = pl.Series(name, values.T.reshape(-1))
    extra = [pl.Series(f"{name}{suffix}", band.T.reshape(-1)) for suffix, band in bands]
    return finish_frame(pl.DataFrame([ids, stamps, target, *extra]), layout)


def id_series(layout: Layout, series: list, repeat: int) -> pl.Series:
    """The id column of a long frame: each series ``repeat`` times (:func:`finish_frame`
    gives it the input's type)."""
    return pl.Series(layout.id_col, [c for c in series for _ in range(repeat)])
