"""Calendar features ("time marks"), the same encoding as the papers' ``embed=timeF`` loaders.

Each feature is scaled to [-0.5, 0.5]. Which features a frequency gets follows the GluonTS
convention the papers' code uses: hourly data gets hour-of-day, day-of-week, day-of-month and
day-of-year (4 features). The official scripts pass ``freq='h'`` for every long-term
benchmark, 15-minute ETTm and 10-minute Weather included, so the presets do too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsfm.errors import InputError


def _second(ix: pd.DatetimeIndex) -> np.ndarray:
    return ix.second / 59.0 - 0.5


def _minute(ix: pd.DatetimeIndex) -> np.ndarray:
    return ix.minute / 59.0 - 0.5


def _hour(ix: pd.DatetimeIndex) -> np.ndarray:
    return ix.hour / 23.0 - 0.5


def _day_of_week(ix: pd.DatetimeIndex) -> np.ndarray:
    return ix.day_of_week / 6.0 - 0.5


def _day_of_month(ix: pd.DatetimeIndex) -> np.ndarray:
    return (ix.day - 1) / 30.0 - 0.5


def _day_of_year(ix: pd.DatetimeIndex) -> np.ndarray:
    return (ix.day_of_year - 1) / 365.0 - 0.5


def _month(ix: pd.DatetimeIndex) -> np.ndarray:
    return (ix.month - 1) / 11.0 - 0.5


def _week(ix: pd.DatetimeIndex) -> np.ndarray:
    return (ix.isocalendar().week.to_numpy() - 1) / 52.0 - 0.5


_DAY = [_day_of_week, _day_of_month, _day_of_year]
FEATURES_BY_UNIT = {
    "year": [],
    "quarter": [_month],
    "month": [_month],
    "week": [_day_of_month, _week],
    "day": _DAY,
    "hour": [_hour, *_DAY],
    "minute": [_minute, _hour, *_DAY],
    "second": [_second, _minute, _hour, *_DAY],
}
_UNITS = {
    "y": "year", "a": "year", "ye": "year", "ys": "year", "as": "year",
    "bye": "year", "bys": "year", "ba": "year", "bas": "year", "by": "year",
    "q": "quarter", "qe": "quarter", "qs": "quarter", "bqe": "quarter", "bqs": "quarter",
    "bq": "quarter",
    "m": "month", "me": "month", "MS": "month", "bme": "month", "bms": "month", "bm": "month",
    "sme": "day", "sms": "day", "sm": "day",  # semi-month steps: day-of-month features
    "w": "week",
    "d": "day", "b": "day", "bd": "day",
    "h": "hour", "bh": "hour",
    "t": "minute", "min": "minute",
    "s": "second", "ms": "second", "us": "second", "ns": "second",
}  # fmt: skip


def freq_unit(freq: str) -> str:
    """The calendar unit of a frequency string ('h', '15min', 't', 'D', 'W-SUN', ...)."""
    match = re.fullmatch(r"\s*\d*\s*([A-Za-z]+)(-[A-Za-z0-9]+)?\s*", freq or "")
    token = match and match.group(1)
    unit = token and _UNITS.get(token if token == "MS" else token.lower())
    if not unit:
        raise InputError(
            f"unknown frequency '{freq}'; use a pandas-style alias such as 'h', '15min', "
            "'D', 'W', 'M' (TSLib's 't' for minutes is accepted too)"
        )
    return unit


def n_time_features(freq: str) -> int:
    return len(FEATURES_BY_UNIT[freq_unit(freq)])


def calendar_zone(time_type: dict[str, Any] | None, local: bool = True) -> str | None:
    """The zone whose clock calendar features read: a zone-aware frame's whose times are held
    as UTC instants (sub-daily); None where they are wall-clock times already, or naive."""
    if not local or not time_type or time_type.get("wall"):
        return None
    zone = time_type.get("tz")
    return None if zone in (None, "UTC") else zone


def time_features(dates: np.ndarray, freq: str, zone: str | None = None) -> np.ndarray:
    """``[T, C]`` float32 calendar features of ``dates`` for frequency ``freq``; ``zone``:
    ``dates`` are UTC instants and the features read that zone's clock."""
    funcs = FEATURES_BY_UNIT[freq_unit(freq)]
    index = pd.DatetimeIndex(dates)
    if zone is not None:
        index = index.tz_localize("UTC").tz_convert(zone).tz_localize(None)
    if not funcs:
        return np.zeros((len(index), 0), dtype=np.float32)
    return np.stack([np.asarray(f(index), dtype=np.float64) for f in funcs], axis=1).astype(
        np.float32
    )


def series_time_features(
    times: Sequence[np.ndarray], freq: str, zone: str | None = None
) -> np.ndarray:
    """:func:`time_features` of every series' ``times``, concatenated in order: the same
    array as one call per series, computed once per distinct timestamp (each feature reads
    one timestamp alone, so gathering a shared calendar's rows changes no value).

    Where every timestamp lies on one regular grid (fixed steps: hours, minutes, days;
    rows may be missing) the grid's features are indexed by ``(t - first) // step``; else
    (months, quarters, irregular rows) the sorted distinct timestamps are."""
    if not len(times):
        return np.zeros((0, n_time_features(freq)), dtype=np.float32)
    flat = np.concatenate([np.asarray(t) for t in times])
    grid = _regular_grid(times, flat)
    if grid is not None:
        axis, index = grid
    else:
        axis, index = np.unique(flat, return_inverse=True)
    return np.take(time_features(axis, freq, zone), index.reshape(-1), axis=0)


def _regular_grid(
    times: Sequence[np.ndarray], flat: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(grid, index)`` with ``grid[index] == flat`` for an evenly spaced ``grid`` (its step
    the smallest of the first series' steps) no longer than about twice ``flat``; None
    where there is none (calendar steps, irregular rows, no step to read, NaT)."""
    if flat.dtype.kind != "M" or not len(flat) or np.isnat(flat).any():
        return None
    ticks = flat.view(np.int64)  # in the unit of flat, the series' finest
    start = 0
    for t in times:  # the steps of the first series with two rows
        if len(t) > 1:
            break
        start += len(t)
    steps = np.diff(ticks[start : start + len(t)])
    steps = steps[steps > 0]
    if not len(steps):
        return None
    step, first = int(steps.min()), int(ticks.min())
    index = (ticks - first) // step
    size = int(index.max()) + 1
    if size > 2 * len(flat) + 1024 or not np.array_equal(index * step + first, ticks):
        return None
    grid = (first + np.arange(size, dtype=np.int64) * step).view(flat.dtype)
    return grid, index
