"""From a file or an in-memory frame to a checked table of values: the first stage of the data flow.

Everything the later stages assume is checked here, once, with errors that name the column
or row and say how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

NULL_TOKENS = ["", "NA", "NaN", "nan", "null", "NULL"]


@dataclass
class SeriesTable:
    """A wide multivariate series: ``values[t, j]`` is variate ``columns[j]`` at ``dates[t]``.

    The target column is always last (the papers' loaders move it there).
    """

    values: np.ndarray  # [T, N] float64
    columns: list[str]
    target: str
    dates: np.ndarray | None  # [T] datetime64[ns], or None for a frame without timestamps

    def __len__(self) -> int:
        return self.values.shape[0]

    def select(self, features: str) -> SeriesTable:
        """The variates a model sees: all of them (M, MS) or only the target (S)."""
        if features == "S":
            return SeriesTable(self.values[:, -1:], [self.target], self.target, self.dates)
        return self


def read_file(path: str | Path) -> pl.DataFrame:
    """Read a CSV, gzipped CSV or Parquet file with polars."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.read_parquet(path)
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        return pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=10_000)
    raise ValueError(f"{path}: unsupported file type; use .csv, .csv.gz or .parquet")


def as_polars(frame: Any) -> pl.DataFrame:
    """Accept a polars or pandas DataFrame; anything else is refused."""
    if isinstance(frame, pl.DataFrame):
        return frame
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pd = None
    if pd is not None and isinstance(frame, pd.DataFrame):
        index_name = frame.index.name
        if index_name is not None and index_name not in frame.columns:
            frame = frame.reset_index()  # a DatetimeIndex becomes a normal column
        return pl.from_pandas(frame)
    raise TypeError(
        f"expected a pandas or polars DataFrame, got {type(frame).__name__}; "
        "pass a DataFrame with a date column and one numeric column per variate"
    )


def parse_dates(column: pl.Series) -> np.ndarray:
    """A date column as datetime64[ns]; strings in any common format are parsed."""
    if column.dtype == pl.Date or isinstance(column.dtype, pl.Datetime):
        parsed = column.cast(pl.Datetime("ns"))
    elif column.dtype == pl.String:
        try:
            parsed = column.str.to_datetime(strict=True, time_unit="ns")
        except Exception:  # formats polars cannot infer, such as "1990/1/1 0:00"
            parsed = _parse_with_pandas(column)
    else:
        raise ValueError(
            f"date column '{column.name}' has type {column.dtype}; it must hold dates or "
            "date strings (set data.date_col to the right column, or null for no dates)"
        )
    if parsed.null_count():
        row = int(parsed.is_null().arg_max())
        raise ValueError(
            f"date column '{column.name}' has a missing or unreadable date at row {row} "
            f"({column[row]!r}); fix or drop that row"
        )
    return parsed.to_numpy().astype("datetime64[ns]")


def _parse_with_pandas(column: pl.Series) -> pl.Series:
    import pandas as pd

    try:
        stamps = pd.to_datetime(pd.Series(column.to_list()), format="mixed")
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"date column '{column.name}' holds values that are not dates ({err}); "
            "fix them or set data.date_col to the column that holds the timestamps"
        ) from None
    return pl.Series(column.name, stamps.to_numpy().astype("datetime64[ns]"))


def build_table(
    df: pl.DataFrame,
    *,
    date_col: str | None,
    target: str,
    columns: list[str] | None = None,
    allow_duplicate_timestamps: bool = False,
) -> SeriesTable:
    """Check a wide frame and turn it into a :class:`SeriesTable` (target moved last)."""
    names = list(df.columns)
    if date_col is not None and date_col not in names:
        raise ValueError(
            f"date column '{date_col}' not found; columns are {names}. Set data.date_col "
            "to the column that holds the timestamps (or null if there is none)"
        )
    if target not in names or target == date_col:
        raise ValueError(
            f"target column '{target}' not found; columns are {names}. "
            "Set data.target to one of them"
        )
    if columns is None:
        value_cols = [c for c in names if c != date_col]
        fix = "drop them or list the numeric columns to use in data.columns"
    else:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"data.columns names unknown column(s) {missing}; columns are {names}")
        value_cols = [c for c in columns if c != date_col]
        value_cols += [] if target in value_cols else [target]
        fix = "remove them from data.columns (and data.target)"
    bad = [c for c in value_cols if not df.schema[c].is_numeric()]
    if bad:
        kinds = [str(df.schema[c]) for c in bad]
        raise ValueError(f"non-numeric column(s) {bad} ({kinds}); {fix}")
    value_cols = [c for c in value_cols if c != target] + [target]

    dates = parse_dates(df[date_col]) if date_col is not None else None
    if dates is not None:
        check_timestamps(dates, allow_duplicates=allow_duplicate_timestamps)
    values = df.select(pl.col(c).cast(pl.Float64) for c in value_cols).to_numpy()
    check_finite(values, value_cols, dates)
    return SeriesTable(np.ascontiguousarray(values), value_cols, target, dates)


def check_finite(values: np.ndarray, columns: list[str], dates: np.ndarray | None) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    row, col = (int(i) for i in np.argwhere(~finite)[0])
    count = int((~finite).sum())
    what = "NaN/missing" if np.isnan(values[row, col]) else "infinite"
    when = f" ({dates[row]})" if dates is not None else ""
    raise ValueError(
        f"column '{columns[col]}' has a {what} value at row {row}{when} "
        f"({count} non-finite value(s) in all); fill or interpolate missing values, or drop "
        "those rows, before loading"
    )


def check_timestamps(dates: np.ndarray, *, allow_duplicates: bool = False) -> None:
    steps = np.diff(dates.astype("int64"))
    if (steps < 0).any():
        row = int(np.argmax(steps < 0)) + 1
        raise ValueError(
            f"timestamps are not sorted: row {row} ({dates[row]}) comes before row {row - 1} "
            f"({dates[row - 1]}); sort the frame by its date column first"
        )
    if not allow_duplicates and (steps == 0).any():
        row = int(np.argmax(steps == 0)) + 1
        raise ValueError(
            f"duplicate timestamp {dates[row]} at rows {row - 1} and {row}; "
            "drop or aggregate duplicate rows first"
        )
