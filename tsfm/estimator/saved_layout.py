"""What ``Forecaster.load`` accepts as ``forecaster.json``'s frame layout: the fields of
:class:`~tsfm.data.frames.Layout`, typed, and column types described as tsfm describes them
(:mod:`tsfm.data.frames.column_types`), built from their description without running code."""

from __future__ import annotations

import typing
from typing import Any

from tsfm.data.frames import Layout
from tsfm.data.frames.column_types import pandas_type, polars_type
from tsfm.errors import InputError
from tsfm.training.preflight import fits_type, readable_type

TIME_KINDS = {"int", "datetime", "date"}
TIME_TYPE_KEYS = {"kind", "unit", "tz", "dtype", "wall"}
INTEGER_DTYPES = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}


def check_layout(layout: Any) -> Layout:
    """The frame layout ``save`` recorded (the fields of :class:`Layout`, typed)."""
    fields = set(Layout.__dataclass_fields__)
    if isinstance(layout, dict):  # saved before integer names, pandas types were kept
        layout = {"int_columns": [], "pandas_types": {}, "value_types": {}, **layout}
    if not isinstance(layout, dict) or set(layout) != fields:
        raise InputError(f"'layout' must hold exactly {sorted(fields)}")
    hints = typing.get_type_hints(Layout)
    for name, hint in hints.items():
        if not fits_type(layout[name], hint):
            raise InputError(f"layout.{name}={layout[name]!r} is not {readable_type(hint)}")
    if layout["kind"] not in ("wide", "long") or layout["library"] not in ("pandas", "polars"):
        raise InputError("layout.kind must be wide or long, layout.library pandas or polars")
    time_type = layout["time_type"]
    if set(time_type) - TIME_TYPE_KEYS or time_type.get("kind") not in TIME_KINDS:
        raise InputError(f"layout.time_type {time_type!r} is not a time type tsfm writes")
    if time_type.get("dtype") not in (None, *INTEGER_DTYPES):
        raise InputError(f"layout.time_type.dtype {time_type['dtype']!r} is not an integer type")
    if time_type.get("unit") not in (None, "ns", "us", "ms"):
        raise InputError(f"layout.time_type.unit {time_type['unit']!r} is not ns, us or ms")
    if time_type.get("tz") is not None and not isinstance(time_type["tz"], str):
        raise InputError("layout.time_type.tz must be a time-zone name")
    if not isinstance(time_type.get("wall", False), bool):
        raise InputError("layout.time_type.wall must be true or false")
    try:  # described types are built from their description: no code is run or imported
        polars_type(layout["id_dtype"])  # (before 2026-12: the name of a polars type)
    except ValueError as err:
        raise InputError(f"layout.id_dtype: {err}") from None
    types = layout["pandas_types"]
    if set(types) - {"id", "time"}:
        raise InputError(f"layout.pandas_types may describe the id and time columns only: {types}")
    for role, description in types.items():
        try:
            pandas_type(description)
        except (ValueError, TypeError, KeyError) as err:
            raise InputError(f"layout.pandas_types.{role}: {err}") from None
    for column, description in layout["value_types"].items():
        try:
            polars_type(description)
        except ValueError as err:
            raise InputError(f"layout.value_types.{column}: {err}") from None
    return Layout(**layout)
