"""Data files in: CSV (plain or gzipped) and Parquet, read with polars.

polars would silently rename a repeated column name (``a``, ``a_duplicated_0``) and read a
header without rows as a frame of text columns; both are refused here, naming the file.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import polars as pl

NULL_TOKENS = ["", "NA", "NaN", "nan", "null", "NULL"]


def read_file(path: str | Path) -> pl.DataFrame:
    """Read a CSV, gzipped CSV or Parquet file with polars (refusing an empty file, a header
    without rows and repeated column names, which polars would silently rename)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame = pl.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        repeated = repeated_names(_csv_header(path))
        if repeated:
            raise ValueError(
                f"data file {path} repeats the column name(s) {repeated} in its header; "
                "give every column its own name"
            )
        try:
            frame = pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=10_000)
        except pl.exceptions.NoDataError:
            raise ValueError(f"data file {path} is empty") from None
        except pl.exceptions.ComputeError:  # a type that changes late in the file: read it all
            try:
                frame = pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=None)
            except pl.exceptions.ComputeError as err:
                raise ValueError(_unreadable(path, err)) from None
    else:
        raise ValueError(f"{path}: unsupported file type; use .csv, .csv.gz or .parquet")
    if frame.height == 0:
        raise ValueError(f"data file {path} has a header ({frame.columns}) but no data rows")
    return frame


def _unreadable(path: Path, err: Exception) -> str:
    header = ",".join(_csv_header(path))
    hint = (
        "; its header has ';' but no ',': a file written with sep=';' (and decimal=',') needs "
        "to be rewritten with commas (pandas: pd.read_csv(path, sep=';', decimal=',')"
        ".to_csv(new, index=False))"
        if ";" in header and "," not in header
        else ""
    )
    message = str(err).splitlines()[0]
    return f"data file {path} is not a comma-separated file tsfm can read ({message}){hint}"


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def repeated_names(names: list) -> list[str]:
    """The names that occur more than once."""
    return sorted(str(name) for name, count in Counter(names).items() if count > 1)


def stray_text(df: pl.DataFrame, bad: list[str]) -> str:
    """Where a column of numbers holds a few words ('n/a', '-', '5,234'), the first of them."""
    for name in bad:
        column = df[name]
        if column.dtype != pl.String:
            continue
        numbers = column.str.strip_chars().cast(pl.Float64, strict=False)
        stray = numbers.is_null() & column.is_not_null()
        if 0 < stray.sum() <= 0.1 * column.len():
            row = int(stray.arg_max())
            return (
                f"'{name}' is numbers but for {int(stray.sum())} value(s), the first "
                f"{column[row]!r} at row {row}: write missing values as empty, NA or NaN (read "
                "as missing, see data.missing) and numbers without thousands separators; or "
            )
    return ""
