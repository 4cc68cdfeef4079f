"""The types of a frame's id and time columns, as the user gave them, and casting the frames
tsfm returns back to them.

A type is described in JSON (it is saved with a model, in ``forecaster.json``'s layout) and
built again from that description without running code: ``{"name": "Enum", "categories":
["a", "b"]}``, ``{"name": "Decimal", "precision": 10, "scale": 2}`` for polars;
``{"name": "category", "categories": [...], "ordered": false, "categories_type": {...}}``,
``{"name": "string", "storage": "pyarrow", "na_value": "NA"}``, ``{"name": "arrow", "type":
"timestamp", "unit": "s", "tz": "UTC"}``, ``{"name": "datetime64[s]"}`` for pandas. A type
tsfm cannot describe exactly is not described (its column comes back as tsfm reads it).

Casting back uses the frame library's own casts, after checking that every value survives
them: a timestamp the user's type cannot hold (a sub-daily step on a date column, a
millisecond on a column of seconds) is refused, never truncated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.convert import INDEX_COLUMN
from tsfm.data.frames.dates import show_time
from tsfm.errors import InputError

Description = dict[str, Any]

POLARS_PLAIN = {
    *(f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)),
    *("Int128", "Float32", "Float64", "String", "Categorical", "Date", "Boolean"),
}
PANDAS_MASKED = {
    *(f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)),
    *("Float32", "Float64", "boolean"),
}
NUMPY_KINDS = "iufbOM"  # integers, floats, booleans, objects, naive datetimes
UNITS = ("s", "ms", "us", "ns")
STEP_NS = {"D": 86_400 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def polars_description(dtype: pl.DataType) -> Description | None:
    """``dtype`` in JSON (None: a type tsfm does not write back)."""
    if isinstance(dtype, pl.Enum):
        return {"name": "Enum", "categories": dtype.categories.to_list()}
    if isinstance(dtype, pl.Decimal):
        return {"name": "Decimal", "precision": dtype.precision, "scale": dtype.scale}
    if isinstance(dtype, pl.Datetime):
        return {"name": "Datetime", "time_unit": dtype.time_unit, "time_zone": dtype.time_zone}
    name = type(dtype).__name__
    return {"name": name} if name in POLARS_PLAIN else None


def value_types(frame: pl.DataFrame, columns: list) -> dict[str, Description]:
    """The described types of ``frame``'s value ``columns`` that are not Float64 (tsfm reads
    every value as one): what a frame laid out for the user to fill is given back."""
    described = {str(c): polars_description(frame.schema[c]) for c in columns}
    return {c: d for c, d in described.items() if d is not None and d["name"] != "Float64"}


def polars_type(description: Description | str | None) -> pl.DataType | None:
    """The polars type a description (or, saved before descriptions, a plain type name such
    as ``"Int64"``) stands for; a ValueError for anything else."""
    if description is None:
        return None
    if isinstance(description, str):  # saved before 2026-12: the name of a polars type
        dtype = getattr(pl, description, None)
        if not (isinstance(dtype, type) and issubclass(dtype, pl.DataType)):
            raise InputError(f"{description!r} is not a polars data type")
        return dtype
    name = description.get("name") if isinstance(description, dict) else None
    fields = set(description) - {"name"} if isinstance(description, dict) else set()
    if name in POLARS_PLAIN and not fields:
        return getattr(pl, name)()
    if name == "Enum" and fields == {"categories"} and _texts(description["categories"]):
        return pl.Enum(description["categories"])
    if name == "Decimal" and fields == {"precision", "scale"}:
        precision, scale = description["precision"], description["scale"]
        if _whole(precision) and _whole(scale) and 0 <= scale <= precision <= 38:
            return pl.Decimal(precision, scale)
    if name == "Datetime" and fields == {"time_unit", "time_zone"}:
        unit, zone = description["time_unit"], description["time_zone"]
        if unit in UNITS[1:] and (zone is None or isinstance(zone, str)):
            return pl.Datetime(unit, zone)
    raise InputError(f"{description!r} does not describe a polars type tsfm writes")


def pandas_description(dtype: Any) -> Description | None:
    """A pandas ``dtype`` in JSON, or None where the description would not give it back."""
    import pandas as pd

    description: Description | None = None
    if isinstance(dtype, pd.CategoricalDtype):
        values = dtype.categories.tolist()
        inner = pandas_description(dtype.categories.dtype)
        if inner is not None and all(isinstance(v, str | int | float) for v in values):
            description = {
                "name": "category",
                "categories": values,
                "ordered": bool(dtype.ordered),
                "categories_type": inner,
            }
    elif isinstance(dtype, pd.StringDtype):
        na = "NA" if dtype.na_value is pd.NA else "nan"
        description = {"name": "string", "storage": dtype.storage, "na_value": na}
    elif isinstance(dtype, pd.DatetimeTZDtype):
        description = {"name": "datetime64", "unit": dtype.unit, "tz": str(dtype.tz)}
    elif isinstance(dtype, pd.PeriodDtype):
        description = {"name": "period", "freq": dtype.name[len("period[") : -1]}
    elif isinstance(dtype, pd.ArrowDtype):
        description = _arrow_description(dtype.pyarrow_dtype)
    elif str(dtype) in PANDAS_MASKED or (isinstance(dtype, np.dtype) and dtype.kind in NUMPY_KINDS):
        description = {"name": str(dtype)}
    try:  # only what comes back exactly
        return description if description and pandas_type(description) == dtype else None
    except (ValueError, TypeError, KeyError):
        return None


def pandas_type(description: Description) -> Any:
    """The pandas type a :func:`pandas_description` stands for; a ValueError for anything
    else (a saved model's description is read here, so nothing in it is run or imported)."""
    import pandas as pd

    if not isinstance(description, dict) or not isinstance(description.get("name"), str):
        raise InputError(f"{description!r} does not describe a pandas type")
    name, fields = description["name"], set(description) - {"name"}
    if name == "category" and fields == {"categories", "ordered", "categories_type"}:
        values, inner = description["categories"], pandas_type(description["categories_type"])
        if isinstance(values, list) and isinstance(description["ordered"], bool):
            return pd.CategoricalDtype(pd.Index(values, dtype=inner), description["ordered"])
    if name == "string" and fields == {"storage", "na_value"}:
        missing = description["na_value"]
        if description["storage"] in ("python", "pyarrow") and missing in ("NA", "nan"):
            na = pd.NA if missing == "NA" else np.nan
            return pd.StringDtype(description["storage"], na_value=na)
    if name == "datetime64" and fields == {"unit", "tz"} and description["unit"] in UNITS:
        return pd.DatetimeTZDtype(description["unit"], str(description["tz"]))
    if name == "period" and fields == {"freq"} and isinstance(description["freq"], str):
        return pd.PeriodDtype(description["freq"])
    if name == "arrow":
        return pd.ArrowDtype(_arrow_type(description))
    if name in PANDAS_MASKED and not fields:
        return pd.api.types.pandas_dtype(name)
    if not fields and (name in ("object", "bool") or _numpy_name(name)):
        return np.dtype(name)
    raise InputError(f"{description!r} does not describe a pandas type tsfm writes")


def _arrow_description(arrow: Any) -> Description:
    import pyarrow as pa

    if pa.types.is_timestamp(arrow):
        return {"name": "arrow", "type": "timestamp", "unit": arrow.unit, "tz": arrow.tz}
    if pa.types.is_decimal128(arrow):
        return {"name": "arrow", "type": "decimal128", "precision": arrow.precision,
                "scale": arrow.scale}  # fmt: skip
    return {"name": "arrow", "type": str(arrow)}


def _arrow_type(description: Description) -> Any:
    import pyarrow as pa

    kind, fields = description.get("type"), set(description) - {"name", "type"}
    if kind == "timestamp" and fields == {"unit", "tz"} and description["unit"] in UNITS:
        zone = description["tz"]
        if zone is None or isinstance(zone, str):
            return pa.timestamp(description["unit"], zone)
    if kind == "decimal128" and fields == {"precision", "scale"}:
        precision, scale = description["precision"], description["scale"]
        if _whole(precision) and _whole(scale) and 0 <= scale <= precision <= 38:
            return pa.decimal128(precision, scale)
    if isinstance(kind, str) and not fields and kind not in ("timestamp", "decimal128"):
        return pa.type_for_alias(kind)  # a lookup by name: "date32[day]", "string", "int64"
    raise InputError(f"{description!r} does not describe an Arrow type tsfm writes")


def _numpy_name(name: str) -> bool:
    numbers = {f"{k}{b}" for k in ("int", "uint") for b in (8, 16, 32, 64)}
    return name in numbers | {"float32", "float64"} | {f"datetime64[{u}]" for u in UNITS}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _texts(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)


def user_types(df: Any, frame: pl.DataFrame, columns: dict[str, str | None]) -> Description:
    """``{role: description}`` of a pandas frame's columns ``{role: name}`` (``time``: only a
    column read as times or integers, not text dates; a time index counts as its column);
    empty for a polars frame, whose types the layout's polars fields keep."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        return {}
    types = {}
    for role, name in columns.items():
        if name is None or name not in frame.columns:
            continue
        if role == "time" and frame.schema[name] == pl.String:
            continue  # dates written as text come back as timestamps
        index = df.index.name == name or (name == INDEX_COLUMN and df.index.name is None)
        timed = isinstance(df.index, pd.DatetimeIndex | pd.PeriodIndex)
        dtype = df.index.dtype if index and timed else df[name].dtype if name in df else None
        description = None if dtype is None else pandas_description(dtype)
        if description is not None:
            types[role] = description
    return types


def time_resolution(description: Description | None) -> str | None:
    """The coarsest step a time type holds exactly (``"D"`` for dates, ``"s"`` for
    seconds), or None when it holds nanoseconds (or is not a time type)."""
    if description is None:
        return None
    name = description["name"]
    if name == "arrow" and description.get("type") in ("date32[day]", "date64[ms]"):
        return "D"
    if name == "Date":
        return "D"
    unit = description.get("unit") or description.get("time_unit")
    if name.startswith("datetime64[") and name[-1] == "]":
        unit = name[len("datetime64[") : -1]
    return unit if unit in UNITS[:-1] else None


def refuse_inexact(
    times: np.ndarray,
    unit: str | None,
    column: str,
    type_name: str,
    what: str = "a timestamp tsfm returns there",
) -> None:
    """A ValueError naming the first of ``times`` (any ``datetime64``) that a type holding
    steps of ``unit`` (``"D"``, ``"s"``, ...) cannot hold, instead of truncating it."""
    if unit is None or unit not in STEP_NS or not np.issubdtype(times.dtype, np.datetime64):
        return
    nanoseconds = times.astype("datetime64[ns]").view(np.int64)
    inexact = nanoseconds % STEP_NS[unit] != 0
    if inexact.any():
        held = "dates" if unit == "D" else f"whole {_unit_names[unit]}"
        raise InputError(
            f"'{column}' is {type_name}, which holds {held} only, but {what} is "
            f"{show_time(times[int(np.argmax(inexact))])} ({int(inexact.sum())} such); "
            f"nothing is truncated: give '{column}' a finer type (pandas: "
            f"df['{column}'].astype('datetime64[ns]'); polars: pl.col('{column}').cast("
            f"pl.Datetime('ns'))), or a frequency of whole {_unit_names[unit]} (freq=...)"
        )


_unit_names = {"D": "days", "s": "seconds", "ms": "milliseconds", "us": "microseconds"}
