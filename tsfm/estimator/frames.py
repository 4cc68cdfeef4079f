"""Frames in and out of the estimator: pandas or polars, wide or long <-> one aligned panel.

Wide: a time column plus one numeric column per variate (pandas may hold the timestamps in
a ``DatetimeIndex`` instead). Long: ``unique_id``, ``ds``, ``y`` (names configurable), one
row per series and timestamp; the series are forecast jointly, so they must share their
timestamps. Output frames come back in the layout and library they came in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frame import check_finite, check_timestamps, parse_dates

INDEX_COLUMN = "__index__"  # a pandas DatetimeIndex without a name, while it is a column


@dataclass(frozen=True)
class Layout:
    """How a frame was laid out, so outputs can be laid out the same way."""

    kind: str  # "wide" or "long"
    library: str  # "pandas" or "polars"
    time_col: str
    id_col: str | None = None
    target_col: str | None = None
    time_type: dict[str, Any] = field(default_factory=dict)  # kind, unit, tz
    id_dtype: str | None = None
    time_index: bool = False  # pandas: timestamps in the index

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Panel:
    """``values[t, j]``: variate ``columns[j]`` at ``times[t]`` (regular steps, sorted)."""

    values: np.ndarray  # [T, N] float64
    times: np.ndarray  # [T] datetime64[ns] (UTC instants) or int64
    columns: list
    layout: Layout

    def __len__(self) -> int:
        return len(self.times)

    def tail(self, rows: int) -> Panel:
        return Panel(self.values[-rows:], self.times[-rows:], self.columns, self.layout)

    def head(self, rows: int) -> Panel:
        return Panel(self.values[:rows], self.times[:rows], self.columns, self.layout)


def _to_polars(df: Any) -> tuple[pl.DataFrame, str, bool]:
    if isinstance(df, pl.DataFrame):
        return df, "polars", False
    import pandas as pd

    if isinstance(df, pd.DataFrame):
        time_index = isinstance(df.index, pd.DatetimeIndex)
        if time_index:
            df = df.rename_axis(df.index.name or INDEX_COLUMN).reset_index()
        return _pandas_to_polars(df), "pandas", time_index
    raise TypeError(
        f"expected a pandas or polars DataFrame, got {type(df).__name__}: a wide frame (a date "
        "column plus one column per variate) or a long one (unique_id, ds, y)"
    )


def _pandas_to_polars(df: Any) -> pl.DataFrame:
    """Column by column when every column is numeric or naive datetime (several times faster
    than the Arrow round trip on the small frames predict() gets), else through Arrow."""
    import pandas as pd

    simple = all(
        pd.api.types.is_numeric_dtype(t)
        and not pd.api.types.is_bool_dtype(t)
        or (pd.api.types.is_datetime64_dtype(t) and getattr(t, "tz", None) is None)
        for t in df.dtypes
    )
    if simple and df.columns.is_unique and all(isinstance(c, str) for c in df.columns):
        return pl.DataFrame({c: df[c].to_numpy() for c in df.columns})
    return pl.from_pandas(df)


def _times(column: pl.Series) -> tuple[np.ndarray, dict[str, Any]]:
    dtype = column.dtype
    if dtype.is_integer():
        if column.null_count():
            raise ValueError(f"time column '{column.name}' has missing values")
        return column.cast(pl.Int64).to_numpy(), {"kind": "int", "dtype": str(dtype)}
    if isinstance(dtype, pl.Datetime):
        kind = {"kind": "datetime", "unit": dtype.time_unit, "tz": dtype.time_zone}
    elif dtype == pl.Date:
        kind = {"kind": "date"}
    else:
        kind = {"kind": "datetime", "unit": "ns", "tz": None}
    return parse_dates(column), kind


def _find_time_column(names: list[str], schema: pl.Schema, *candidates: str | None) -> str:
    for name in candidates:
        if name is not None and name in names:
            return name
    temporal = [n for n in names if schema[n].is_temporal()]
    if len(temporal) == 1:
        return temporal[0]
    raise ValueError(
        f"cannot tell which column holds the timestamps (columns: {names}); pass date_col=... "
        "for a wide frame, or id_col/time_col/target_col for a long one"
    )


def read_frame(
    df: Any,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    date_col: str | None = None,
) -> Panel:
    """Check a wide or long frame and align it into a :class:`Panel`."""
    frame, library, time_index = _to_polars(df)
    names = list(frame.columns)
    if frame.height == 0:
        raise ValueError("the frame has no rows")
    if {id_col, time_col, target_col} <= set(names):
        return _read_long(frame, library, id_col, time_col, target_col)
    if id_col in names:
        missing = [c for c in (time_col, target_col) if c not in names]
        raise ValueError(
            f"the frame has an id column '{id_col}' but no {missing}; for a long frame pass "
            "time_col=... and target_col=..., or drop the id column for a wide frame"
        )
    if date_col is not None and date_col not in names:
        raise ValueError(f"date_col '{date_col}' is not a column; columns are {names}")
    time_name = INDEX_COLUMN if INDEX_COLUMN in names else None
    time_name = _find_time_column(names, frame.schema, date_col, time_name, time_col, "date")
    variates = [c for c in names if c != time_name]
    if not variates:
        raise ValueError(f"the frame has a time column '{time_name}' but no variate columns")
    bad = [c for c in variates if not frame.schema[c].is_numeric()]
    if bad:
        raise ValueError(
            f"non-numeric column(s) {bad} in a wide frame; every column but the time column "
            f"'{time_name}' must be a numeric variate: drop them, or pass a long frame"
        )
    times, time_type = _times(frame[time_name])
    check_timestamps(times)
    values = frame.select(pl.col(c).cast(pl.Float64) for c in variates).to_numpy()
    check_finite(values, variates, times if time_type["kind"] != "int" else None)
    layout = Layout("wide", library, time_name, time_type=time_type, time_index=time_index)
    return Panel(np.ascontiguousarray(values), times, variates, layout)


def _read_long(
    frame: pl.DataFrame, library: str, id_col: str, time_col: str, target_col: str
) -> Panel:
    extra = [c for c in frame.columns if c not in (id_col, time_col, target_col)]
    if extra:
        raise ValueError(
            f"the long frame has extra column(s) {extra}; tsfm forecasts '{target_col}' from "
            "its own history (and calendar features), so drop them before fitting"
        )
    if frame[id_col].null_count():
        raise ValueError(f"id column '{id_col}' has missing values")
    if not frame.schema[target_col].is_numeric():
        raise ValueError(f"target column '{target_col}' is {frame.schema[target_col]}, not numeric")
    times, time_type = _times(frame[time_col])
    target = frame[target_col].cast(pl.Float64).to_numpy()
    ids = frame[id_col]
    check_finite(target[:, None], [target_col], times if time_type["kind"] != "int" else None)
    order = ids.unique(maintain_order=True)
    codes = ids.to_frame().join(order.to_frame().with_row_index("code"), on=id_col, how="left")
    codes = codes["code"].to_numpy()
    grid, rows = np.unique(times, return_inverse=True)
    values = np.full((len(grid), len(order)), np.nan)
    counts = np.zeros_like(values, dtype=np.int64)
    np.add.at(counts, (rows, codes), 1)
    if (counts > 1).any():
        t, j = (int(i) for i in np.argwhere(counts > 1)[0])
        raise ValueError(
            f"series {order[j]!r} has several rows at {grid[t]}; drop or aggregate duplicates"
        )
    values[rows, codes] = target
    if (counts == 0).any():
        t, j = (int(i) for i in np.argwhere(counts == 0)[0])
        raise ValueError(
            f"series {order[j]!r} has no row at {grid[t]} while others do; the series are "
            "forecast jointly and must share their timestamps: fill the gaps, or fit them "
            "separately"
        )
    layout = Layout(
        "long", library, time_col, id_col, target_col, time_type, str(frame.schema[id_col])
    )
    return Panel(values, grid, order.to_list(), layout)


def time_series(name: str, times: np.ndarray, time_type: dict[str, Any]) -> pl.Series:
    if time_type.get("kind") == "int":
        return pl.Series(name, times).cast(getattr(pl, time_type.get("dtype", "Int64"), pl.Int64))
    series = pl.Series(name, times.astype("datetime64[ns]"))
    if time_type.get("kind") == "date":
        return series.cast(pl.Date)
    if time_type.get("tz"):
        series = series.dt.replace_time_zone("UTC").dt.convert_time_zone(time_type["tz"])
    return series.cast(pl.Datetime(time_type.get("unit", "ns"), time_type.get("tz")))


def _finish(frame: pl.DataFrame, layout: Layout) -> Any:
    if layout.library == "polars":
        return frame
    import pandas as pd

    # column by column: the Arrow round trip costs more than the forecast on small frames
    out = pd.DataFrame({c: _to_pandas(frame[c]) for c in frame.columns})
    if layout.time_index:
        out = out.set_index(layout.time_col)
        if layout.time_col == INDEX_COLUMN:
            out.index.name = None
    return out


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
) -> Any:
    """``values [T, N]`` at ``times`` in ``layout`` (long frames: series after series)."""
    if layout.kind == "wide":
        data = [time_series(layout.time_col, times, layout.time_type)]
        data += [pl.Series(str(c), values[:, j]) for j, c in enumerate(columns)]
        return _finish(pl.DataFrame(data), layout)
    n_times, n_series = values.shape
    ids = pl.Series(layout.id_col, [c for c in columns for _ in range(n_times)])
    dtype = getattr(pl, layout.id_dtype or "", None)
    if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
        ids = ids.cast(dtype)
    stamps = time_series(layout.time_col, np.tile(times, n_series), layout.time_type)
    target = pl.Series(value_name or layout.target_col, values.T.reshape(-1))
    return _finish(pl.DataFrame([ids, stamps, target]), layout)
