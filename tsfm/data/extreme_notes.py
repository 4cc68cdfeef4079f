"""What a fit says of the values far outside the rest of their columns' training rows
(:mod:`tsfm.data.extreme_values` finds them): one warning naming where each is, how far out,
what it does to the fit under its scaler and the fixes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SHOWN = 5  # the values a note names (all are recorded)


def scaler_of(data: Any) -> str | None:
    """The scaler of a run's or fit's ``data`` settings (None: ``scale`` off), as
    :func:`extreme_values_note` takes it."""
    return data.get("scaler", "standard") if data.get("scale", True) else None


def warn_extreme_values(
    records: Sequence[dict[str, Any]], mask: str | None, where: str, scaler: str | None = "standard"
) -> None:
    """One warning of a fit's extreme values (:func:`extreme_values_note`), if any."""
    from tsfm.data.user_warnings import warn_user

    if records:
        warn_user(f"fit: {extreme_values_note(records, mask, where, scaler)}")


def extreme_values_note(
    records: Sequence[dict[str, Any]], mask: str | None, where: str, scaler: str | None = "standard"
) -> str:
    """What a fit says of its :func:`find_extreme_values` (``records``, non-empty): where
    each is (the first :data:`SHOWN`), how far out, what it does to the fit and the fixes.
    ``mask``: the masking option in the caller's names (``missing="mask"``; None where the
    data refuses NaN: M4's files); ``where``: where every record is kept (``fit_metrics_``,
    ``metrics.json``); ``scaler``: the fit's (``standard``, ``robust``; None: unscaled),
    what the values do to the scaling."""
    named = "; ".join(point_text(r) for r in records[:SHOWN])
    more = f"; and {len(records) - SHOWN} more" if len(records) > SHOWN else ""
    one = len(records) == 1
    some = "1 extreme value" if one else f"{len(records)} extreme values"
    them = "it" if one else "them"
    fix = (
        f", or set {them} to NaN and fit with {mask} (a masked target never enters the loss, "
        "a masked input is filled, and flagged to models that take masks, and neither enters "
        "the scaler)"
    )
    if mask is None:
        fix = f" (this data refuses missing values: {them} cannot be masked)"
    return (
        f"{some} in the training rows, far outside the rest of {column_text(records)}: "
        f"{named}{more} (all under extreme_values in {where}). {_scaling_text(records, scaler)}"
        f" dominate{'s' if one else ''} the training loss of the windows holding {them} "
        f"(whatever the loss: mae and huber too). If "
        f"{'it is an error, correct it' if one else 'they are errors, correct them'}{fix}"
    )


def _scaling_text(records: Sequence[dict[str, Any]], scaler: str | None) -> str:
    """What the extreme values do to the scaling of their columns, up to "and" before the
    loss they dominate."""
    one = len(records) == 1
    they, their, them = ("It", "its", "it") if one else ("They", "their", "them")
    up_to = "" if one else "up to "
    if scaler == "robust":  # its median and quantile range leave a few values out
        far = number(max(r["robust_sds"] for r in records))
        return (
            f"The robust scaler's median and interquartile range hardly move for {them}, so "
            f"the other values of {their} column keep their scaled range; but {'it stays' if one else 'they stay'} {up_to}{far} robust "
            "standard deviations out after scaling, far beyond any value the model sees "
            "elsewhere, and"
        )
    if scaler is None:  # unscaled
        return f"{they}"
    ratio = number(max(r["std_ratio"] for r in records))
    return (
        f"{they} inflate{'s' if one else ''} {their} column's standard deviation to {up_to}"
        f"{ratio} times that of its other values (a scaler fitted on these rows divides by it, "
        "squashing the other values into a sliver of the scaled range) and"
    )


def column_text(records: Sequence[dict[str, Any]]) -> str:
    """Which columns the records are of: ``its column`` or ``their columns``."""
    names = {(r["column"], r["series"]) for r in records}
    return "its column" if len(names) == 1 else "their columns"


def point_text(record: dict[str, Any]) -> str:
    """``series 'A', column 'y' at 2024-01-30 04:00:00: 1e+07, 471,000 robust standard
    deviations from the median 100.1 (robust sd 21.2)``."""
    where = f"column {record['column']!r}"
    if record["series"] is not None:
        where = f"series {record['series']!r}, {where}"
    return (
        f"{where} at {record['time']}: {record['value']:.6g}, {number(record['robust_sds'])} "
        f"robust standard deviations from the median {record['median']:.6g} (robust sd "
        f"{record['robust_sd']:.3g})"
    )


def number(x: float) -> str:
    """``471,000``, ``650``, ``27.2``: three significant digits, thousands separated."""
    if not np.isfinite(x):
        return "infinitely many"
    return f"{float(f'{x:.3g}'):,.0f}" if x >= 100 else f"{x:.3g}"
