"""Timestamps in order and each once: a step back or a repeated timestamp is refused, and
told apart from a daylight-saving clock change (local time going back an hour), whose fix
is the time zone."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.data.frames.dates import DST_FIX, HOUR_NS, clock_duration, show_time
from tsfm.errors import InputError


def check_timestamps(dates: np.ndarray, *, allow_duplicates: bool = False) -> None:
    steps = np.diff(dates.astype("int64"))
    if (steps < 0).any():
        row = int(np.argmax(steps < 0)) + 1
        back = -int(steps[row - 1])
        before = int(steps[row - 2]) if row >= 2 else 0  # an hour back: one step short of it
        if back + before == HOUR_NS and _sorted_after(steps, row):
            raise InputError(
                f"local time goes back {clock_duration(back)} at row {row} "
                f"({show_time(dates[row])}), as clocks do at the end of daylight saving time: "
                f"{DST_FIX}"
            )
        raise InputError(
            f"timestamps are not sorted: row {row} ({show_time(dates[row])}) comes before row "
            f"{row - 1} ({show_time(dates[row - 1])}); sort the frame by its date column first"
        )
    if not allow_duplicates and (steps == 0).any():
        row = int(np.argmax(steps == 0)) + 1
        raise InputError(duplicate_timestamp(dates[row], row - 1, row, steps))


def duplicate_timestamp(when: Any, first: int, second: int, steps: np.ndarray) -> str:
    """The message for a timestamp ``when`` at frame rows ``first`` and ``second`` (0-based
    positions); ``steps``: the series' steps, to tell whether a clock change may be the cause."""
    daylight = " If the repeat is the hour clocks go back (daylight saving), " + DST_FIX
    return (
        f"duplicate timestamp {show_time(when)} at rows {first} and {second}; drop or "
        f"aggregate duplicate rows first.{daylight if _sub_daily(steps) else ''}"
    )


def _sorted_after(steps: np.ndarray, row: int) -> bool:
    """Only one step back: the frame is otherwise sorted (a clock change, not a shuffle)."""
    return int((steps < 0).sum()) == 1


def _sub_daily(steps: np.ndarray) -> bool:
    positive = steps[steps > 0]
    return bool(len(positive)) and int(np.median(positive)) < 24 * HOUR_NS
