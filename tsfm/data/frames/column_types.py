"""The type of a frame's id column, described in JSON: it is saved with a model (in
``forecaster.json``'s layout) and built again from that description without running code
(``{"name": "Enum", "categories": ["a", "b"]}``, ``{"name": "Decimal", "precision": 10,
"scale": 2}``). A type tsfm cannot describe exactly is not described."""

from __future__ import annotations

from typing import Any

import polars as pl

Description = dict[str, Any]

POLARS_PLAIN = {
    *(f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)),
    *("Int128", "Float32", "Float64", "String", "Categorical", "Date", "Boolean"),
}
UNITS = ("s", "ms", "us", "ns")


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


def polars_type(description: Description | str | None) -> pl.DataType | None:
    """The polars type a description (or, saved before descriptions, a plain type name such
    as ``"Int64"``) stands for; a ValueError for anything else."""
    if description is None:
        return None
    if isinstance(description, str):  # saved before 2026-12: the name of a polars type
        dtype = getattr(pl, description, None)
        if not (isinstance(dtype, type) and issubclass(dtype, pl.DataType)):
            raise ValueError(f"{description!r} is not a polars data type")
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
    raise ValueError(f"{description!r} does not describe a polars type tsfm writes")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _texts(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)
