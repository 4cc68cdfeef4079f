"""Frames in: a pandas or polars frame as polars, with what pandas keeps outside its columns
(a ``DatetimeIndex``, periods) made columns, and a message naming the column and row that
cannot be converted."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.files import repeated_names
from tsfm.errors import InputError

INDEX_COLUMN = "__index__"  # a pandas DatetimeIndex without a name, while it is a column


def to_polars(df: Any, name: str = "df", categories: Any = ()) -> tuple[pl.DataFrame, str, bool]:
    """``(frame, library, time_index)``: a pandas or polars frame as polars; a pandas
    ``DatetimeIndex`` becomes a column (``time_index`` says so). Anything else is refused
    (``name``: the argument's, for the message). ``categories``: columns (static covariates)
    whose pandas ``category`` stays categorical whatever its categories' type (Arrow reads a
    category of integers as integers): as categories of their text."""
    refuse_lazy(df, name)
    if isinstance(df, pl.DataFrame):
        return df, "polars", False
    import pandas as pd

    if isinstance(df, pd.DataFrame):
        _check_names(list(df.columns), df.index)
        df = _text_categories(df, categories, pd)
        _refuse_multi_index(df, pd)
        if isinstance(df.index, pd.PeriodIndex):  # periods: their first instant
            df = df.set_axis(df.index.to_timestamp(how="start"))
        periods = [c for c in df.columns if isinstance(df[c].dtype, pd.PeriodDtype)]
        if periods:
            df = df.assign(**{c: df[c].dt.to_timestamp(how="start") for c in periods})
        time_index = isinstance(df.index, pd.DatetimeIndex)
        if time_index:
            df = df.rename_axis(df.index.name or INDEX_COLUMN).reset_index()
        elif df.index.name is not None and df.index.name not in df.columns:
            df = df.reset_index()
        return _pandas_to_polars(df), "pandas", time_index
    raise TypeError(
        f"expected a pandas or polars DataFrame, got {type(df).__name__}: a wide frame (a date "
        "column plus one column per variate) or a long one (unique_id, ds, y)"
    )


def _text_categories(df: Any, columns: Any, pd: Any) -> Any:
    """``df`` with its pandas ``category`` columns among ``columns`` whose categories are not
    text made categories of their text (the same value, the same category at fit and predict)."""
    from tsfm.data.statics import category_text

    names = [c for c in columns if c in df.columns and isinstance(df[c].dtype, pd.CategoricalDtype)]
    names = [c for c in names if not pd.api.types.is_string_dtype(df[c].cat.categories)]
    if not names:
        return df
    df = df.copy(deep=False)
    for c in names:
        df[c] = df[c].astype(object).map(category_text, na_action="ignore").astype("category")
    return df


def refuse_lazy(df: Any, name: str = "df") -> None:
    """A polars LazyFrame, refused before its columns are asked for (which resolves its
    plan, with polars' warning)."""
    if isinstance(df, pl.LazyFrame):
        raise InputError(
            f"{name} is a polars LazyFrame; tsfm reads a DataFrame: collect it first "
            f"({name}.collect())"
        )


def _refuse_multi_index(df: Any, pd: Any) -> None:
    """Row labels in a MultiIndex (``df.set_index(["unique_id", "ds"])``, a groupby's
    result), which tsfm would not read: the ids and times are in the index."""
    if not isinstance(df.index, pd.MultiIndex):
        return
    held = [n for n in df.index.names if n is not None and n not in df.columns]
    if held:
        raise InputError(
            f"the frame holds {held} in its index (a MultiIndex), where tsfm does not read "
            "ids or times; make them columns: df.reset_index()"
        )


def _check_names(names: list, index: Any) -> None:
    """Column names that come back as given: text or integers, each read once."""
    import numpy as np
    import pandas as pd

    odd = [n for n in names if not (isinstance(n, str) and n) and not _integer(n, np)]
    if odd:
        raise InputError(
            f"column name(s) {odd[:3]} are neither (non-empty) text nor integers; forecasts name "
            "their columns as the frame does, so give each a text name (df.columns = [...]; a "
            "MultiIndex: join its levels, e.g. ['_'.join(map(str, c)) for c in df.columns])"
        )
    repeated = repeated_names(list(names))
    if repeated:
        raise InputError(f"the frame repeats the column name(s) {repeated}; rename them")
    alike = repeated_names([str(n) for n in names])
    if alike:
        raise InputError(
            f"the column names {[n for n in names if str(n) in alike]} read as the same text "
            f"{alike}; rename one of them"
        )
    timed = isinstance(index, pd.DatetimeIndex | pd.PeriodIndex)  # made a column below
    if timed and index.name is not None and index.name in names:
        raise InputError(
            f"the frame's time index is named {index.name!r}, as one of its columns is; rename "
            "the index (df.rename_axis('date')) or drop that column"
        )


def _integer(name: Any, np: Any) -> bool:
    return isinstance(name, int | np.integer) and not isinstance(name, bool)


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
        return pl.DataFrame({c: _numpy_column(df[c]) for c in df.columns})
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_object_dtype(dtype):
            _refuse_mixed_booleans(df[name])
            _refuse_mixed_zones(df[name])
    try:
        return pl.from_pandas(df)
    except Exception as err:  # Arrow's message does not name the column
        for column in df.columns:
            try:
                pl.from_pandas(df[[column]])
            except Exception:
                raise InputError(_unconvertible(df[column], err)) from None
        raise


def _refuse_mixed_zones(column: Any) -> None:
    """An object column of timestamps in more than one time zone (or some without one), which
    Arrow would read all in the first one's zone (``pd.to_datetime`` refuses it too)."""
    import datetime

    import pandas as pd

    values = column[column.notna()]
    if values.empty or not isinstance(values.iloc[0], datetime.datetime):
        return
    stamps = values[values.map(lambda v: isinstance(v, datetime.datetime))]  # others: not
    zones = stamps.map(lambda v: str(v.tzinfo) if v.tzinfo else "no zone")  # one type, later
    found = list(pd.unique(zones))
    if len(found) < 2:
        return
    first, row = zones.index[0], zones.index[int(np.argmax(zones.to_numpy() != found[0]))]
    name, zone = column.name, next((z for z in found if _zone_name(z)), "UTC")
    mixed = "with and without a time zone" if "no zone" in found else "in several time zones"
    raise InputError(
        f"column {name!r} holds timestamps {mixed} (row {first!r}: {found[0]}, row {row!r}: "
        f"{zones[row]}{'; also ' + ', '.join(found[2:5]) if len(found) > 2 else ''}), which "
        "read as one column would all take one zone's clock; give them one zone: "
        f"df[{name!r}] = pd.to_datetime(df[{name!r}], utc=True).dt.tz_convert({zone!r})"
        + (" (those without a zone are read as UTC there)" if "no zone" in found else "")
    )


def _zone_name(name: str) -> bool:
    """Whether ``name`` names a time zone (not a fixed offset's "UTC+02:00")."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def _numpy_column(column: Any) -> Any:
    """A numeric or naive datetime column as NumPy; seconds as milliseconds (NumPy's exact
    cast), the coarsest unit polars holds (Arrow does the same)."""
    values = column.to_numpy()
    if values.dtype == "datetime64[s]":
        return values.astype("datetime64[ms]")
    return values


def _refuse_mixed_booleans(column: Any) -> None:
    """An object column of numbers holding a boolean, which Arrow would read as 1 or 0."""
    import numpy as np
    import pandas as pd

    if not pd.api.types.infer_dtype(column, skipna=True).startswith("mixed"):
        return
    flags = column.map(lambda v: isinstance(v, bool | np.bool_))
    numbers = column.map(lambda v: isinstance(v, int | float | np.number)) & ~flags
    if flags.any() and numbers.any():
        row = flags.idxmax()
        raise InputError(
            f"column {column.name!r} mixes booleans with numbers (row {row!r} holds "
            f"{column[row]!r}); make it one type: df[{column.name!r}].astype(float) reads "
            "True/False as 1/0"
        )


CONTAINERS = ("tuple", "list", "dict", "set", "ndarray")


def _unconvertible(column: Any, err: Exception) -> str:
    kinds = column.map(lambda v: type(v).__name__)
    common = kinds.mode().iloc[0] if len(kinds) else "?"
    odd = kinds[kinds != common]
    name = column.name
    held = kinds[kinds.isin(CONTAINERS)]
    if len(held):
        row = held.index[0]
        return (
            f"column {name!r} holds a {held.iloc[0]} at row {row!r} ({column[row]!r}), not one "
            f"number, text or timestamp: join the parts, e.g. df[{name!r}] = "
            f"df[{name!r}].map(lambda parts: '_'.join(map(str, parts)))"
        )
    where = (
        f"; row {odd.index[0]!r} holds {column[odd.index[0]]!r} ({odd.iloc[0]}) among "
        f"{common} values"
        if len(odd)
        else ""
    )
    text = "str" in set(kinds)
    fix = (
        f"e.g. pd.to_numeric(df[{name!r}], errors='coerce') turns text into NaN, which is then "
        "reported by row"
        if text and len(set(kinds) - {"str", "NoneType"})
        else f"e.g. df[{name!r}].astype(str) for labels"
    )
    said = f"column {name!r} cannot be read ({type(err).__name__}: {err})"
    return f"{said}{where}. Make it one type: {fix}"
