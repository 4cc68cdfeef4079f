"""What ``Forecaster.load`` accepts as ``forecaster.json``'s mode, roles, series and statics:
what ``save`` writes (:mod:`tsfm.estimator.validation` checks the rest)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.errors import InputError


def _names(value: Any, floats: bool = False) -> bool:
    """Column names (text or integers), or with ``floats`` series ids (also finite floats)."""
    return isinstance(value, list) and all(_name(c, floats) for c in value)


def _name(value: Any, floats: bool) -> bool:
    if isinstance(value, float):
        return floats and bool(np.isfinite(value))
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def check_roles(meta: dict[str, Any]) -> None:
    """Mode, roles, series and statics as ``save`` writes them; an :class:`InputError`
    naming the problem (:func:`~tsfm.estimator.validation.check_metadata` names the file)."""
    if meta.get("mode", "joint") not in ("joint", "independent"):
        raise InputError(f"mode {meta.get('mode')!r} is not joint or independent")
    roles = meta.get("roles", {})
    if not isinstance(roles, dict) or set(roles) - {"targets", "past", "future", "static"}:
        raise InputError("'roles' must map targets, past, future and static to column names")
    if not all(_names(v) for v in roles.values()):
        raise InputError("'roles' must list column names")
    if not _names(meta.get("input_columns", [])):
        raise InputError("'input_columns' must list column names")
    roles = {"targets": [], "past": [], "future": [], **roles}
    if not roles["targets"]:  # saved before roles: every column a target
        roles["targets"] = meta["columns"]
    inputs = roles["targets"] + roles["past"] + roles["future"]
    if meta["columns"] != roles["targets"] or meta.get("input_columns", inputs) != inputs:
        raise InputError(
            f"'columns' {meta['columns']} and 'input_columns' {meta.get('input_columns')} must "
            f"be the roles' targets {roles['targets']} and targets, past and future {inputs}",
        )
    if meta.get("series") is not None and not _names(meta["series"], floats=True):
        raise InputError("'series' must list series ids")
    if meta.get("mode") == "independent" and not meta.get("series"):
        raise InputError("an independent panel needs its 'series'")
    statics = meta.get("statics", {})
    if not isinstance(statics, dict) or set(statics) - {"static_real", "static_cat"}:
        raise InputError("'statics' must hold static_real and static_cat tables")
    for key, table in statics.items():
        try:
            array = np.asarray(table, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"statics.{key} is not a table of numbers") from None
        if array.ndim != 2 or not np.isfinite(array).all():
            raise InputError(f"statics.{key} is not a finite table")
    encoder = meta.get("static_encoder")
    if encoder is not None:
        keys = {"real", "mean", "std", "categories"}
        if not isinstance(encoder, dict) or set(encoder) != keys:
            raise InputError(f"'static_encoder' must hold exactly {sorted(keys)}")
        categories = encoder["categories"]
        if not isinstance(categories, dict) or not all(
            isinstance(k, str) and _names(v) for k, v in categories.items()
        ):
            raise InputError("'static_encoder.categories' must map columns to category names")
