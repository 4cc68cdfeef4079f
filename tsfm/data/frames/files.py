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

from tsfm.errors import InputError
from tsfm.local_files import local_path

NULL_TOKENS = ["", "NA", "NaN", "nan", "null", "NULL"]


def read_file(path: str | Path) -> pl.DataFrame:
    """Read a CSV, gzipped CSV or Parquet file with polars (refusing an empty file, a header
    without rows and repeated column names, which polars would silently rename). A URL is
    refused: polars would fetch it, and tsfm reads local files only."""
    path = local_path(str(path), "path")
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        frame = pl.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        repeated = repeated_names(_csv_header(path))
        if repeated:
            raise InputError(
                f"data file {path} repeats the column name(s) {repeated} in its header; "
                "give every column its own name"
            )
        try:
            frame = pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=10_000)
        except pl.exceptions.NoDataError:
            raise InputError(f"data file {path} is empty") from None
        except pl.exceptions.ComputeError:  # a type that changes late in the file: read it all
            try:
                frame = pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=None)
            except pl.exceptions.ComputeError as err:
                raise InputError(_unreadable(path, err)) from None
    else:
        raise InputError(f"{path}: unsupported file type; use .csv, .csv.gz or .parquet")
    if frame.height == 0:
        raise InputError(f"data file {path} has a header ({frame.columns}) but no data rows")
    if frame.width == 1 and (hint := _separator_hint(frame.columns[0], decimal_commas=False)):
        raise InputError(
            f"data file {path} reads as one column, {frame.columns[0]!r}, so it is not "
            f"comma-separated{hint}"
        )
    return frame


def _unreadable(path: Path, err: Exception) -> str:
    hint = _separator_hint(",".join(_csv_header(path)), decimal_commas=True)
    message = str(err).splitlines()[0]
    return f"data file {path} is not a comma-separated file tsfm can read ({message}){hint}"


def _separator_hint(header: str, decimal_commas: bool) -> str:
    """How to rewrite a file whose header holds ';' or tabs but no ',' (written with another
    separator, in some locales with decimal commas too), or ''."""
    separator = next((s for s in (";", "\t") if s in header), None)
    if separator is None or "," in header:
        return ""
    written = f"sep={separator!r}" + (", decimal=','" if decimal_commas else "")
    how = f"sep={separator!r} (and decimal=',')" if decimal_commas else written
    return (
        f"; its header has {separator!r} but no ',': a file written with {how} needs to be "
        f"rewritten with commas (pandas: pd.read_csv(path, {written}).to_csv(new, index=False))"
    )


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def repeated_names(names: list) -> list[str]:
    """The names that occur more than once."""
    return sorted(str(name) for name, count in Counter(names).items() if count > 1)


# Numbers written with thousands separators ('42,497', '1,234.5'), or with a decimal comma.
SEPARATORS = {
    "thousands separators": (r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$", "thousands=','"),
    "decimal commas": (r"^[+-]?\d*,\d+$", "decimal=','"),
}


def stray_text(df: pl.DataFrame, bad: list[str]) -> str:
    """Advice for a text column that holds numbers: written with separators ('42,497' or
    '31,05', in any share of its rows), and at most 10 % words ('n/a', '-'), the first of
    each; '' for a column of text."""
    for name in bad:
        column = df[name]
        if column.dtype != pl.String:
            continue
        text = column.str.strip_chars()
        words = text.cast(pl.Float64, strict=False).is_null() & text.is_not_null()
        matches = {
            what: text.str.contains(pattern).fill_null(False)
            for what, (pattern, _) in SEPARATORS.items()
        }
        what = max(matches, key=lambda k: matches[k].sum())  # ties: thousands separators
        written = matches[what]
        words &= ~written
        if words.sum() > 0.1 * column.len() or not (written.any() or words.any()):
            continue
        advice = []
        if written.any():
            row = int(written.arg_max())
            advice.append(
                f"'{name}' holds numbers written with {what} ({column[row]!r} at row {row}, "
                f"{int(written.sum())} value(s) in all), read as text: write them without "
                f"(pandas: pd.read_csv(path, {SEPARATORS[what][1]}).to_csv(new, index=False))"
            )
        if words.any():
            row = int(words.arg_max())
            advice.append(
                f"'{name}' is numbers but for {int(words.sum())} value(s), the first "
                f"{column[row]!r} at row {row}: write missing values as empty, NA or NaN (read "
                "as missing, see data.missing) and numbers without thousands separators"
            )
        return "; ".join(advice) + "; or "
    return ""
