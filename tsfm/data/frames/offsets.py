"""Timestamps written as text with UTC offsets, such as pandas' ``to_csv`` writes for a
time-zone-aware column (``2024-03-31 00:00:00+02:00``): read as a zone-aware column is."""

from __future__ import annotations

import numpy as np
import polars as pl

from tsfm.data.frames.date_text import parse_dates
from tsfm.errors import InputError

# a time of day followed by a UTC offset: "2024-03-31 00:00:00+01:00", "...T06:00Z", "+0530"
_OFFSET_STAMP = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"
_OFFSET = r"\s*(Z|[+-]\d{2}:?\d{2})$"


def offset_times(column: pl.Series, wall: bool | None) -> tuple[np.ndarray, dict] | None:
    """Timestamps written as text with UTC offsets (what pandas' ``to_csv`` writes for a
    zone), or None if the text carries none. As a column with a time zone is read, but the
    offsets name no zone: when every timestamp falls at the same time of day (daily and
    longer data, whose steps across daylight saving are 23 or 25 hours as instants), as the
    dates they were written on (``wall``); otherwise as UTC instants, marked UTC. ``wall``
    given (the fitted frame's choice) decides instead, so every frame of a feed is read
    alike whatever offsets it happens to hold."""
    text = column.str.strip_chars()
    found = text.str.contains(_OFFSET_STAMP)
    if not found.any():
        return None
    if not found.all():
        row = int((~found).arg_max())
        raise InputError(
            f"date column '{column.name}' mixes timestamps with and without a UTC offset (row "
            f"{row}: {column[row]!r}); write them all with their offset, or all without"
        )
    local = parse_dates(text.str.replace(_OFFSET, "").alias(column.name))
    if wall is None:
        wall = len(local) >= 2 and pl.Series(local).dt.time().n_unique() == 1
    if wall:
        return local, {"kind": "datetime", "unit": "ns", "tz": None, "wall": True}
    return parse_dates(text), {"kind": "datetime", "unit": "ns", "tz": "UTC"}
