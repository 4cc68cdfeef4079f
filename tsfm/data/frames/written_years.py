"""Years as a date column writes them: text dates whose year is not written in full
(``01-Jan-68``, ``1/1/69``) are refused, as their century would be a guess, and so are dates
read outside the years nanosecond timestamps hold (which the cast to them would wrap around
silently)."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from tsfm.errors import InputError


def refuse_two_digit_years(column: pl.Series, parsed: pl.Series) -> None:
    """Text dates whose year is not written in full (``01-Jan-68``, ``Jan-68``, ``1/1/69``):
    the century is a parser's guess (polars reads ``68`` and ``69`` as 2068 and 2069, pandas
    and Python 2068 and 1969), silently wrong for older data or scrambling a series across
    the guess's pivot; refused, naming the first such row, never guessed. A two-digit year:
    no four digits in a row in the text, and the year's last two in it (the year of a UTC
    offset's instant, 2022 for ``2021-12-31T23:00-05:00``, need not be written)."""
    two = (parsed.dt.year() % 100).cast(pl.String).str.zfill(2)
    short = (
        pl.DataFrame({"text": column, "two": two})
        .select(
            ~pl.col("text").str.contains(r"\d{4}")
            & pl.col("text").str.contains(pl.col("two"), literal=True)
        )
        .to_series()
        .fill_null(False)
    )
    if short.any():
        raise two_digit_years(column.name, int(short.arg_max()), column[int(short.arg_max())])


def two_digit_years(name: str, row: int, value: str) -> InputError:
    """The refusal of a date column with two-digit years (see :func:`refuse_two_digit_years`)."""
    return InputError(
        f"date column '{name}' writes years with two digits (row {row}: {value!r}): which "
        "century is a guess (pandas reads '68' as 2068 and '69' as 1969, polars both in the "
        "2000s), so tsfm does not read them. Write four-digit years (1968-01-01), or pass a "
        "frame whose dates are parsed, their century checked (pandas: "
        f"pd.to_datetime(df['{name}'], format=...), then subtract 100 years from the dates "
        "after today: - pd.DateOffset(years=100))"
    )


def refuse_out_of_range(column: pl.Series, stamps: np.ndarray) -> None:
    """Dates pandas reads outside the years nanosecond timestamps hold (1678-2261), which
    the cast to them would wrap around silently: ``Dec-12`` is read as 12 December of year
    1 (a two-digit year: refused as such)."""
    years = stamps.astype("datetime64[Y]").astype(np.int64) + 1970
    outside = (years < 1678) | (years > 2261)
    if outside.any():
        row = int(np.argmax(outside))
        if not re.search(r"\d{4}", str(column[row])):
            raise two_digit_years(column.name, row, column[row])
        raise InputError(
            f"date column '{column.name}' has a date read as year {years[row]} (row {row}: "
            f"{column[row]!r}), outside the years 1678-2261 tsfm's timestamps hold; fix it"
        )
