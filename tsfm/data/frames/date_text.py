"""Dates as people write them: date columns of any common text format, periods written as
text (``"1956 Q1"``, ``"Q1 1956"``, ``"2021M05"``), and year plus quarter columns, read as
``datetime64[ns]``."""

from __future__ import annotations

import re
import warnings

import numpy as np
import polars as pl

from tsfm.data.frames.dates import calendar_candidates, infer_freq
from tsfm.data.frames.written_years import (
    refuse_out_of_range,
    refuse_two_digit_years,
    two_digit_years,
)
from tsfm.errors import InputError


def parse_dates(column: pl.Series) -> np.ndarray:
    """A date column as datetime64[ns]; strings in any common format are parsed."""
    if column.dtype == pl.Date or isinstance(column.dtype, pl.Datetime):
        parsed = column.cast(pl.Datetime("ns"))
    elif column.dtype == pl.String and (ordered := _day_month_order(column)) is not None:
        parsed = ordered
    elif column.dtype == pl.String:
        try:
            parsed = column.str.to_datetime(strict=True, time_unit="ns")
        except Exception:  # formats polars cannot infer, such as "1990/1/1 0:00"
            parsed = _parse_with_pandas(column)
    else:
        raise InputError(not_times(column))
    if parsed.null_count():
        row = int(parsed.is_null().arg_max())
        raise InputError(
            f"date column '{column.name}' has a missing or unreadable date at row {row} "
            f"({column[row]!r}); fix or drop that row"
        )
    if column.dtype == pl.String:
        refuse_two_digit_years(column, parsed)
    return parsed.to_numpy().astype("datetime64[ns]")


def not_times(column: pl.Series) -> str:
    """Why ``column`` (neither integers, dates nor text) cannot be a time column, and the fix:
    floats holding whole numbers converted to integer steps, or another column named."""
    name = column.name
    what = (
        f"time column '{name}' has type {column.dtype}; it must hold integer steps (0, 1, 2, "
        "...) or dates (or dates as text)"
    )
    if column.dtype.is_float():
        values = column.fill_nan(None).drop_nulls()  # pandas' missing values are NaN
        whole = values.len() > 0 and bool((values.is_finite() & (values == values.round(0))).all())
        first = " after dropping its rows without a time" if values.len() < column.len() else ""
        what += (
            f": its values are whole numbers, so make them integers{first} (pandas: "
            f"df['{name}'].astype('int64'); polars: pl.col('{name}').cast(pl.Int64))"
            if whole
            else ": steps with fractions are neither; number the steps 0, 1, 2, ... or give dates"
        )
    return (
        f"{what}. If another column holds the time, name it (Python: time_col=... for a long "
        "frame, date_col=... for a wide one; command line: data.date_col=..., or null for no "
        "dates)"
    )


NUMERIC_DATE = r"^\s*\d{1,2}([/.-])\d{1,2}[/.-]\d{4}(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*$"
# two-digit years ("13/01/13 00:00"): refused, as the century would be a guess
SHORT_YEAR_DATE = r"^\s*\d{1,2}([/.-])\d{1,2}[/.-]\d{2}(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*$"


def _day_month_order(column: pl.Series) -> pl.Series | None:
    """Dates written day and month as numbers (``02/01/2015``): read in the order (day
    first, month first) that reads every value and steps regularly (two-digit years,
    ``02/01/15``, are refused: :mod:`tsfm.data.frames.written_years`); None for other text.
    Readings giving the same timestamps are one. A reading regular as it is wins over those regular only with absent steps (see
    :func:`_regular_with_gaps`); several regular alike are refused as ambiguous, never
    guessed; none regular: refused as such, or, with empty dates, left to the message for
    those."""
    text = column.drop_nulls()
    if text.is_empty():
        return None
    if text.str.contains(NUMERIC_DATE).all():
        readings = _four_digit_readings(column)
    elif text.str.contains(SHORT_YEAR_DATE).all():  # before any reading: no century is sure
        row = int(column.str.contains(SHORT_YEAR_DATE).fill_null(False).arg_max())
        raise two_digit_years(column.name, row, column[row])
    else:
        return None
    readings = _distinct(readings)
    fit = list(readings)
    if len(readings) > 1:
        stamps = {k: v.dropna().to_numpy().astype("datetime64[ns]") for k, v in readings.items()}
        exact = [k for k, v in stamps.items() if len(v) >= 3 and infer_freq(v)]
        fit = exact or [k for k, v in stamps.items() if _regular_with_gaps(v)]
    if len(fit) == 1:
        return pl.Series(column.name, readings[fit[0]].to_numpy().astype("datetime64[ns]"))
    if not fit and column.null_count():  # the empty dates are what to fix: NaT where empty
        return pl.Series(column.name, next(iter(readings.values())).to_numpy())
    where = f"date column '{column.name}' writes day and month as numbers ({text[0]!r}) and"
    if fit:
        problem = f"{'both' if len(fit) == 2 else 'several'} readings fit ({', '.join(fit)})"
    else:
        problem = f"no reading ({', '.join(readings)}) steps regularly, even with absent steps"
    raise InputError(
        f"{where} {problem}: write the dates as YYYY-MM-DD, or pass a frame whose dates are "
        "parsed (pandas: pd.to_datetime(df[col], dayfirst=...))"
    )


def _distinct(readings: dict) -> dict:
    """``readings`` less those giving the same timestamps as an earlier one (one day of hours
    ``13/01/13 00:00`` reads 2013-01-13 day first and year first)."""
    kept: dict = {}
    for order, stamps in readings.items():
        if not any(stamps.equals(other) for other in kept.values()):
            kept[order] = stamps
    return kept


def _regular_with_gaps(times: np.ndarray) -> bool:
    """Whether sorted ``times`` (empty dates dropped) lie on the grid of a frequency pandas
    infers from runs of consecutive rows at their start or end, and hold at least half of
    its steps from the first to the last: a regular series with some steps absent. A wrong
    reading of day and month runs out of order or leaves most of its grid empty."""
    import pandas as pd

    if len(times) < 3 or not (np.diff(times) > np.timedelta64(0, "ns")).all():
        return False
    for freq in calendar_candidates(times):
        grid = pd.date_range(pd.Timestamp(times[0]), periods=2 * len(times), freq=freq)
        grid = grid.values.astype("datetime64[ns]")
        if times[-1] <= grid[-1] and np.isin(times, grid).all():
            return True
    return False


def _four_digit_readings(column: pl.Series) -> dict:
    """The readings of ``02/01/2015`` (day first, month first) that read every value."""
    import pandas as pd

    values = pd.Series(column.to_list())
    readings = {}
    for order, dayfirst in (("day first", True), ("month first", False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' note about inferring the format
            stamps = pd.to_datetime(values, dayfirst=dayfirst, errors="coerce", format="mixed")
        if stamps.isna().sum() == column.null_count():
            readings[order] = stamps
    return readings


READABLE = (
    "dates such as '2021-05-17', '2021-05-17 13:00', '17/05/2021', 'May 2021', and periods "
    "such as '2021-05', '2021M05', '1970 Q1', '1970Q1', 'Q1 1970', '1970'"
)
# periods written as statistics packages write them (EViews, statsmodels, Stata): read before
# pandas, which takes "2000M01" for a time of day
_QUARTER_FIRST = re.compile(r"\s*[Qq]([1-4])[\s/-]*(\d{4})\s*")  # "Q1 1970", "Q1-1970"
_MONTH_CODE = re.compile(r"\s*(\d{4})\s*[Mm](\d{1,2})\s*")  # "2000M01", "2000m1"


def _parse_with_pandas(column: pl.Series) -> pl.Series:
    import pandas as pd

    values = column.to_list()
    coded = [_coded_period(v) for v in values]
    if all(c is not None for c in coded):
        return pl.Series(column.name, period_starts(coded))
    _refuse_mixed_orders(column)
    try:
        stamps = pd.to_datetime(pd.Series(values), format="mixed")
    except (ValueError, TypeError) as err:
        try:  # periods such as "1956 Q1", "2020Q3", "2021-05": their first instant
            stamps = period_starts(values)
        except (ValueError, TypeError):
            row = _first_unreadable(values)
            what = f"row {row}: {values[row]!r}" if row is not None else str(err)
            raise InputError(
                f"date column '{column.name}' holds values that are not dates ({what}); tsfm "
                f"reads {READABLE}. Fix them, or name the column that holds the timestamps "
                "(date_col=... in Python, data.date_col=... in the CLI)"
            ) from None
    refuse_out_of_range(column, np.asarray(stamps))
    return pl.Series(column.name, np.asarray(stamps).astype("datetime64[ns]"))


YEAR_FIRST = r"^\s*\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"  # 2016-07-10
DAY_MONTH_FIRST = r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"  # 10/07/2016, 10.07.16


def _refuse_mixed_orders(column: pl.Series) -> None:
    """Dates written year first and others day and month first in one column (rows written
    by hand after a file's ISO dates): pandas would read each as it can, ``10/07/2016`` month
    first next to ``13/07/2016`` day first, and the error would then be about the steps."""
    year_first = column.str.contains(YEAR_FIRST).fill_null(False)
    day_month = column.str.contains(DAY_MONTH_FIRST).fill_null(False)
    if year_first.any() and day_month.any():
        first, other = int(year_first.arg_max()), int(day_month.arg_max())
        raise InputError(
            f"date column '{column.name}' mixes date formats: row {first} is {column[first]!r}, "
            f"row {other} is {column[other]!r}; write every date in one format, or parse them "
            f"first, each format with its own pd.to_datetime(df['{column.name}'], format=..., "
            "errors='coerce'), combined with .fillna()"
        )


def _first_unreadable(values: list) -> int | None:
    """The row of the first value read neither as a date nor as a period."""
    return next((row for row, value in enumerate(values) if not _readable(value)), None)


def _readable(value: object) -> bool:
    import pandas as pd

    if _coded_period(value) is not None:
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' note about inferring the format
            pd.Timestamp(value)
        return True
    except (ValueError, TypeError):
        pass
    try:
        period_starts([value])
        return True
    except (ValueError, TypeError):
        return False


def _coded_period(value: object) -> str | None:
    """A quarter written quarter first (``"Q1 1970"``) or a month in the ``YYYYMmm`` code
    (``"2000M01"``) as pandas writes the period (``"1970Q1"``, ``"2000-01"``); None for other
    text."""
    text = str(value)
    if quarter := _QUARTER_FIRST.fullmatch(text):
        return f"{quarter.group(2)}Q{quarter.group(1)}"
    month = _MONTH_CODE.fullmatch(text)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{month.group(1)}-{int(month.group(2)):02d}"
    return None


def period_starts(values: list) -> np.ndarray:
    """The first instant of each period written as text (``"1956 Q1"``, ``"1956Q1"``,
    ``"Q1 1956"``, ``"2021-05"``, ``"2021M05"``), as ``datetime64[ns]``."""
    import pandas as pd

    written = [_coded_period(v) or str(v).replace(" ", "") for v in values]
    periods = [pd.Period(text) for text in written]
    return np.array([p.start_time.to_datetime64() for p in periods], dtype="datetime64[ns]")


def quarter_starts(year: object, quarter: object) -> np.ndarray:
    """Timestamps of year and quarter columns (``1959``, ``1`` -> 1959-01-01), for frames such
    as statsmodels' macrodata: ``df["date"] = quarter_starts(df.year, df.quarter)``."""
    years = np.asarray(year, dtype=np.int64)
    quarters = np.asarray(quarter, dtype=np.int64)
    if ((quarters < 1) | (quarters > 4)).any():
        raise InputError("quarters must be 1 to 4")
    months = (years - 1970) * 12 + (quarters - 1) * 3
    return months.astype("datetime64[M]").astype("datetime64[ns]")


def calendar_hint(names: list[str]) -> str:
    """How to build a time column from year and quarter (or month) columns, where there are
    (a hint for a frame whose time column is not found)."""
    lower = {n.lower(): n for n in names}
    if "year" not in lower:
        return ""
    year = lower["year"]
    if "quarter" in lower:
        return (
            "; to date the rows by year and quarter (which then are not variates), with pandas: "
            "df.insert(0, 'date', tsfm.data.frames.quarter_starts("
            f"df.pop('{year}'), df.pop('{lower['quarter']}')))"
        )
    if "month" in lower:
        return (
            "; to date the rows by year and month (which then are not variates), with pandas: "
            "df.insert(0, 'date', pd.to_datetime(dict("
            f"year=df.pop('{year}'), month=df.pop('{lower['month']}'), day=1)))"
        )
    return ""
