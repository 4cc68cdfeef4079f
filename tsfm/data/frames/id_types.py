"""One rule for a series' identity: its id's value, among ids of one kind.

The kind of an id column is what its values are: ``text`` (polars String, Categorical, Enum;
pandas object, str, string, category of text), ``integer`` (any width, nullable or not),
``float``, ``decimal``, ``date``, ``datetime`` (with or without a time zone) or ``boolean``.
A frame given to a fitted model (and its ``future_df`` and ``static_df``) must have ids of
the fitted kind: ``1`` and ``"1"`` never name the same series, so ids of another kind are
refused naming both types and the cast that fixes them. Within a kind, series are matched
by value (an ``Int16`` 3 is the ``Int64`` 3 fitted); decimals and zoned datetimes are cast
to the fitted type where that keeps every value, so that they read as the fitted ids do.

Saved models keep their ids in JSON: text, integers and floats as they are, decimals as
their text (exact), dates as days and datetimes as integers of their unit since the epoch
(:func:`saved_ids`, :func:`loaded_ids`; cast back by polars with the saved id type).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tsfm.data.frames.column_types import Description, pandas_type, polars_type
from tsfm.data.frames.table import Layout
from tsfm.errors import InputError


def id_kind(dtype: pl.DataType | type) -> str:
    """The kind of ids of polars type ``dtype`` (see the module docstring)."""
    if dtype in (pl.String, pl.Categorical, pl.Enum):  # (Enum(...) == pl.Enum too)
        return "text"
    for kind, test in (("integer", "is_integer"), ("float", "is_float"), ("decimal", "is_decimal")):
        if getattr(dtype, test)():
            return kind
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Datetime:
        zone = getattr(dtype, "time_zone", None)
        return "datetime" if zone is None else "datetime with a time zone"
    return "boolean" if dtype == pl.Boolean else str(dtype)


def refuse_other_kind(
    given: pl.DataType,
    expected: pl.DataType,
    column: str,
    who: str,
    library: str,
    given_name: str | None = None,
    against: str = "the fitted ids",
    expected_name: str | None = None,
    frame: str = "df",
) -> None:
    """A ValueError when ids of type ``given`` (``who``: ``"the frame's ids"``) are of another
    kind than ``expected`` (``against``: ``"the fitted ids"``); ``*_name``: the types as the
    user's library names them; the fix is written for ``library`` and the variable ``frame``."""
    theirs, ours = id_kind(given), id_kind(expected)
    if theirs == ours:
        return
    if library == "pandas":
        fix = f"{frame}['{column}'] = {frame}['{column}'].astype('{_pandas_name(expected)}')"
    else:
        fix = f"{frame} = {frame}.with_columns(pl.col('{column}').cast({_polars_code(expected)}))"
    raise InputError(
        f"{who} ('{column}') are {given_name or given} ({theirs}) but {against} are "
        f"{expected_name or expected} ({ours}): ids of another kind never name the same series "
        f"(1 and '1' are different series), so they are not matched; cast them: {fix}"
    )


def _pandas_name(dtype: pl.DataType) -> str:
    kind = id_kind(dtype)
    if kind == "decimal":
        return f"decimal128({dtype.precision}, {dtype.scale})[pyarrow]"
    if kind.startswith("datetime"):
        zone = getattr(dtype, "time_zone", None)
        return (
            f"datetime64[{dtype.time_unit}, {zone}]" if zone else f"datetime64[{dtype.time_unit}]"
        )
    names = {"text": "str", "integer": "int64", "float": "float64", "boolean": "bool"}
    return names.get(kind, "date32[pyarrow]" if kind == "date" else str(dtype))


def _polars_code(dtype: pl.DataType) -> str:
    kind = id_kind(dtype)
    if kind == "text":
        return "pl.String"
    if kind == "decimal":
        return f"pl.Decimal({dtype.precision}, {dtype.scale})"
    if kind.startswith("datetime"):
        zone = getattr(dtype, "time_zone", None)
        return f"pl.Datetime('{dtype.time_unit}'{f', {zone!r}' if zone else ''})"
    return f"pl.{type(dtype).__name__ if isinstance(dtype, pl.DataType) else dtype.__name__}"


def fitted_type_name(fitted: Layout) -> str:
    """The fitted frame's id type as its library names it."""
    description = fitted.pandas_types.get("id") if fitted.library == "pandas" else None
    return str(pandas_type(description) if description else polars_type(fitted.id_dtype))


def as_fitted_ids(
    ids: pl.Series,
    fitted: Layout,
    library: str,
    given: Description | None = None,
    who: str = "the frame's ids",
    frame: str = "df",
) -> pl.Series:
    """``ids`` checked to be of the fitted ids' kind (see the module docstring), and cast to
    the fitted type where their values need it to read as the fitted ids do; ``given``: the
    pandas type they were given in, described (named in the message)."""
    given_name = str(pandas_type(given)) if given else None
    expected = polars_type(fitted.id_dtype)
    if expected is None or fitted.kind != "long":
        return ids
    if isinstance(expected, type):  # saved before descriptions: a plain type name
        expected = expected()
    refuse_other_kind(ids.dtype, expected, ids.name, who, library, given_name,
                      expected_name=fitted_type_name(fitted), frame=frame)  # fmt: skip
    return cast_by_value(ids, expected)


def cast_by_value(ids: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Decimals and datetimes in ``dtype`` (its scale, unit and zone) when every value stays
    the same; other kinds (and ids that would change) as given: their values already compare
    and read alike whatever their width."""
    if ids.dtype == dtype or id_kind(dtype) not in ("decimal", "datetime with a time zone"):
        return ids
    distinct = ids.unique()
    try:
        same = distinct.cast(dtype).to_list() == distinct.to_list()
    except pl.exceptions.PolarsError:
        return ids
    return ids.cast(dtype) if same else ids


def in_type(ids: pl.Series, dtype: pl.DataType) -> pl.Series:
    """``ids`` (of ``dtype``'s kind) in ``dtype``, for a join by value: missing where
    ``dtype`` cannot hold one exactly (an id no series of that type has), never rounded."""
    if ids.dtype == dtype:
        return ids
    cast = ids.cast(dtype, strict=False)
    same = (cast.cast(ids.dtype, strict=False) == ids).fill_null(False)
    return cast.zip_with(same, pl.Series(ids.name, [None] * len(ids), dtype=dtype))


def ids_dtype(frame: Any, column: str) -> tuple[pl.DataType, str, str | None]:
    """``(polars type, library, the library's own name of it)`` of a frame's id column."""
    from tsfm.data.frames.convert import to_polars

    if isinstance(frame, pl.DataFrame):
        return frame.schema[column], "polars", None
    dtype = to_polars(frame[[column]])[0].schema[column]
    return dtype, "pandas", str(frame[column].dtype)


def saved_ids(ids: list | None, description: Description | str | None) -> list | None:
    """``ids`` as JSON values (see the module docstring)."""
    dtype = polars_type(description) if isinstance(description, dict) else None
    if ids is None or dtype is None or id_kind(dtype) in ("text", "integer", "float"):
        return ids
    series = pl.Series(ids).cast(dtype)
    stored = pl.String if id_kind(dtype) == "decimal" else pl.Int64
    return series.cast(pl.Int32 if dtype == pl.Date else stored).to_list()


def loaded_ids(values: list | None, description: Description | str | None) -> list | None:
    """The ids :func:`saved_ids` stored, in their own type again."""
    dtype = polars_type(description) if isinstance(description, dict) else None
    if values is None or dtype is None or id_kind(dtype) in ("text", "integer", "float"):
        return values
    stored = {"decimal": pl.String, "date": pl.Int32}.get(id_kind(dtype), pl.Int64)
    try:
        return pl.Series(values, dtype=stored).cast(dtype).to_list()
    except (pl.exceptions.PolarsError, TypeError, OverflowError) as err:
        raise InputError(f"the saved series ids {values[:3]} are not {dtype} ids: {err}") from None
