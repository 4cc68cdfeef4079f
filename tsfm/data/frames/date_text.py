"""Dates as people write them: date columns of any common text format, periods written as
text (``"1956 Q1"``), and year plus quarter columns, read as ``datetime64[ns]``."""

from __future__ import annotations

import numpy as np
import polars as pl


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
        try:  # periods such as "1956 Q1", "2020Q3", "2021-05": their first instant
            stamps = period_starts(column.to_list())
        except (ValueError, TypeError):
            raise ValueError(
                f"date column '{column.name}' holds values that are not dates ({err}); "
                "fix them or set data.date_col to the column that holds the timestamps"
            ) from None
    return pl.Series(column.name, np.asarray(stamps).astype("datetime64[ns]"))


def period_starts(values: list) -> np.ndarray:
    """The first instant of each period written as text (``"1956 Q1"``, ``"1956Q1"``,
    ``"2021-05"``), as ``datetime64[ns]``."""
    import pandas as pd

    periods = [pd.Period(str(v).replace(" ", "")) for v in values]
    return np.array([p.start_time.to_datetime64() for p in periods], dtype="datetime64[ns]")


def quarter_starts(year: object, quarter: object) -> np.ndarray:
    """Timestamps of year and quarter columns (``1959``, ``1`` -> 1959-01-01), for frames such
    as statsmodels' macrodata: ``df["date"] = quarter_starts(df.year, df.quarter)``."""
    years = np.asarray(year, dtype=np.int64)
    quarters = np.asarray(quarter, dtype=np.int64)
    if ((quarters < 1) | (quarters > 4)).any():
        raise ValueError("quarters must be 1 to 4")
    months = (years - 1970) * 12 + (quarters - 1) * 3
    return months.astype("datetime64[M]").astype("datetime64[ns]")
