"""Columns without a name, refused before they are read as values.

pandas' ``to_csv()`` writes the frame's row numbers as a first column with an empty header
unless ``index=False``: polars reads that column as ``''``, pandas as ``'Unnamed: 0'``
(``'Unnamed: 0_level_0'`` under a two-row header), and ``to_parquet()`` keeps an index other
than 0..n-1 as ``'__index_level_0__'``. A separator at the end of every line gives an unnamed
empty column. Read as a variate, row numbers would be forecast and scored, or fed to the
model as an input, without a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from tsfm.errors import InputError

UNNAMED = re.compile(r"\s*|Unnamed: \d+(_level_\d+)?|__index_level_\d+__")

DROP = (
    "drop it: pd.read_csv(path, index_col=0) reads such a file with the row numbers as the "
    "index, and df.to_csv(path, index=False) writes a frame without them"
)
"""How to be rid of a row-number column, in a frame or a file."""
FILE_FIX = (
    "write the file without it (pandas: df.to_csv(path, index=False) or df.to_parquet(path, "
    "index=False); a CSV written with it: pd.read_csv(path, index_col=0).to_csv(new, "
    "index=False)), or list the columns to use in data.columns"
)
"""The same, for a wide file on the command line."""


def unnamed_columns(names: Iterable) -> list[str]:
    """The names of ``names`` that name nothing: empty, or pandas' names for a column
    without a header (``Unnamed: 0``) or for a saved index (``__index_level_0__``)."""
    return [n for n in names if isinstance(n, str) and UNNAMED.fullmatch(n)]


def refuse_unnamed(frame: pl.DataFrame, columns: Iterable, fix: str = DROP) -> None:
    """Refuse the unnamed ones among ``columns`` (of ``frame``), saying what they most
    likely are and ``fix``."""
    names = unnamed_columns(columns)
    if not names:
        return
    if all(frame[c].null_count() == frame.height for c in names):
        raise InputError(
            f"column(s) {names} have no name and no values: a separator at the end of every "
            "line (a trailing comma); remove it, or drop the column"
        )
    raise InputError(
        f"column(s) {names} have no name: most likely the row numbers (index) pandas writes "
        "with to_csv() or to_parquet() unless index=False, which would be read as a variate "
        f"(forecast and scored, or fed to the model); {fix}"
    )
