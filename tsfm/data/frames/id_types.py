"""Series ids: their kind, and how a saved model keeps them.

The kind of an id column is what its values are: ``text`` (polars String, Categorical, Enum;
pandas object, str, string, category of text), ``integer`` (any width, nullable or not),
``float``, ``decimal``, ``date``, ``datetime`` (with or without a time zone) or ``boolean``.

Saved models keep their ids in JSON: text, integers and floats as they are, decimals as
their text (exact), dates as days and datetimes as integers of their unit since the epoch
(:func:`saved_ids`, :func:`loaded_ids`; cast back by polars with the saved id type).
"""

from __future__ import annotations

import polars as pl

from tsfm.data.frames.column_types import Description, polars_type


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
        raise ValueError(f"the saved series ids {values[:3]} are not {dtype} ids: {err}") from None
