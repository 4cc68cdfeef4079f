"""Timestamps: checking them, frequencies, and future timestamps (dates written as text are
read in ``date_text``; timestamps out of order or repeated are refused in ``timestamp_order``).

Timestamps are ``datetime64[ns]`` (time-zone-aware input is held as UTC instants) or plain
integers. A frequency is a pandas offset alias (``"h"``, ``"15min"``, ``"D"``, ``"W-SUN"``,
``"MS"``) or, for integer time, the integer step.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsfm.data.frames.anchors import refuse_anchored
from tsfm.data.frames.freq_names import parse_freq
from tsfm.errors import InputError

Freq = str | int


def is_integer_time(times: np.ndarray) -> bool:
    return np.issubdtype(times.dtype, np.integer)


def infer_freq(times: np.ndarray) -> str | None:
    """The frequency pandas infers from ``times`` (None where it finds none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pandas 4 returns an offset
        inferred = pd.infer_freq(pd.DatetimeIndex(times))
    return None if inferred is None else to_offset(inferred).freqstr


class LocalTimeSteps(InputError):
    """Timestamps regular on the local clock of their time zone but not as instants."""


def resolve_freq(
    times: np.ndarray, freq: Freq | None = None, tz: str | None = None, masked: bool = False
) -> Freq:
    """The frequency of ``times``: inferred, or ``freq`` checked against them. ``tz``: the
    time zone the input was given in (``times`` are its UTC instants), to explain days of 23
    or 25 hours (:class:`LocalTimeSteps`) instead of calling them irregular. Timestamps
    regular on another anchor of ``freq`` (weekly on Fridays, ``freq='W-SAT'``) are refused as
    :class:`~tsfm.data.frames.anchors.AnchoredElsewhere`; ``masked``: absent steps are missing
    values already (``missing='mask'``), so the refusal of irregular ones does not offer it."""
    try:
        return _resolve_freq(times, freq, masked)
    except ValueError as err:
        local_freq = _local_freq(times, freq, tz)
        if local_freq is None or _absent_steps_only(times, local_freq):
            if tz and isinstance(err, IrregularSteps):  # with a zone: no clock to skip
                raise InputError(err.plain) from None
            raise  # instants on the step's grid with some missing (an hour dropped at a change)
        raise LocalTimeSteps(
            f"the timestamps step by {local_freq!r} on the clock of {tz}, but daylight saving "
            "makes some of those steps an hour shorter or longer, which tsfm (holding "
            "time-zone-aware input as UTC instants) cannot forecast in calendar steps: pass them "
            "without the time zone (pandas: df[col].dt.tz_localize(None); polars: "
            "pl.col(col).dt.replace_time_zone(None)), or in UTC for steps of fixed length"
        ) from None


def _absent_steps_only(times: np.ndarray, freq: Freq) -> bool:
    """Whether every gap between the instants ``times`` is a whole number of steps of the
    fixed-length ``freq``: steps are missing, none was stretched by daylight saving."""
    try:
        step = pd.Timedelta(to_offset(freq)).value
    except ValueError:  # calendar steps (months, anchored weeks) have no fixed length
        return False
    return bool((np.diff(times.astype("datetime64[ns]").astype(np.int64)) % step == 0).all())


def _local_freq(times: np.ndarray, freq: Freq | None, tz: str | None) -> Freq | None:
    """The frequency of ``times`` read on the clock of ``tz``, or None if not regular there."""
    if not tz or is_integer_time(times) or len(times) < 3:
        return None
    local = pd.DatetimeIndex(times).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    try:
        return _resolve_freq(local.values.astype("datetime64[ns]"), freq)
    except ValueError:
        return None


def _resolve_freq(times: np.ndarray, freq: Freq | None = None, masked: bool = False) -> Freq:
    if len(times) < 3 and freq is None:
        raise InputError(
            f"{len(times)} timestamps are too few to infer the frequency; give it (freq=... in "
            "Python, data.freq=... in the CLI; e.g. 'h', '15min', 'D') or a longer frame"
        )
    if is_integer_time(times):
        steps = np.unique(np.diff(times))
        step = int(steps[0]) if len(steps) == 1 else None
        if freq is not None and not isinstance(freq, (int, np.integer)):
            raise InputError(
                f"the time column holds integers, so freq must be an integer step, got {freq!r}"
            )
        expected = int(freq) if freq is not None else step
        if expected is None or expected <= 0 or (len(steps) and (steps != expected).any()):
            raise_irregular(times, expected or int(np.median(np.diff(times))), masked)
        return expected
    if freq is None:
        inferred = infer_freq(times)
        if inferred is None:
            raise_irregular(times, None, masked)
        return inferred
    offset = parse_freq(freq)
    expected = pd.date_range(pd.Timestamp(times[0]), periods=len(times), freq=offset)
    expected = expected.values.astype("datetime64[ns]")
    if not np.array_equal(expected, times):
        own = infer_freq(times) if len(times) >= 3 else None
        refuse_anchored(times, offset.freqstr, own, expected)
        raise_irregular(times, offset.freqstr, masked)
    return offset.freqstr


def calendar_candidates(times: np.ndarray) -> list[str]:
    """The calendar frequencies (months, quarters: no fixed step) pandas infers from runs of
    12, 6, 4 or 3 consecutive rows at the start of ``times`` and at their end, longest runs
    first, each once."""
    found = []
    for rows in (12, 6, 4, 3):
        for run in (times[:rows], times[-rows:]):
            if len(times) > rows and (freq := infer_freq(run)) is not None and freq not in found:
                found.append(freq)
    return found


def calendar_candidate(times: np.ndarray) -> str | None:
    """The first of :func:`calendar_candidates`, or None."""
    return next(iter(calendar_candidates(times)), None)


def raise_irregular(times: np.ndarray, freq: Freq | None, masked: bool = False) -> None:
    """Refuse ``times`` as not regular, saying where they depart from ``freq`` (or their usual
    step) and how to fix it; ``masked``: under ``missing='mask'``, which is not offered then."""
    if freq is None:
        steps, counts = np.unique(np.diff(times), return_counts=True)
        step = steps[np.argmax(counts)]
        if not is_integer_time(times) and step >= np.timedelta64(28, "D"):
            freq = calendar_candidate(times)  # months have no fixed step
    if freq is None:  # the most common step, to say where the series departs from it
        expected = times[0] + step * np.arange(len(times))
        what = f"the usual step ({pd.Timedelta(step)})"
    elif isinstance(freq, int):
        expected = times[0] + freq * np.arange(len(times))
        what = f"a step of {freq}"
    else:
        expected = pd.date_range(pd.Timestamp(times[0]), periods=len(times), freq=freq).values
        what = f"frequency {freq!r}"
    mismatch = np.flatnonzero(expected.astype(times.dtype) != times)
    row = int(mismatch[0]) if len(mismatch) else len(times) - 1
    skipped = _clock_skip(times, row)
    hint = f"If these are local times, clocks skip {skipped} at the start of daylight saving "
    start = (
        f"timestamps are not regular: row {row} is {show_time(times[row])}, but {what} puts "
        f"{show_time(expected[row])} there. "
    )
    verb, end = (
        "Fill",
        (
            " the missing steps (e.g. interpolate), give the intended frequency (freq=... in "
            "Python, data.freq=... in the CLI), or forecast with absent steps as missing values "
            "(missing='mask' in Python, data.missing=mask in the CLI)"
        ),
    )
    if masked:  # absent steps become missing values already, of the frequency given
        verb, end = (
            "Give",
            (
                " the intended frequency (freq=... in Python, data.freq=... in the CLI): "
                "missing='mask' inserts the steps of it a series skips as missing values, but "
                "cannot place a row between two of its steps (fix or drop such rows)"
            ),
        )
    plain = f"{start}{verb}{end}"
    raise IrregularSteps(
        f"{start}{hint}time: {DST_FIX}. Otherwise {verb.lower()}{end}" if skipped else plain,
        plain,
    )


class IrregularSteps(InputError):
    """Irregular timestamps; ``plain``: the message without the daylight-saving hint, for
    timestamps given with their time zone."""

    def __init__(self, message: str, plain: str):
        super().__init__(message)
        self.plain = plain


def _clock_skip(times: np.ndarray, row: int) -> str | None:
    """How much local time skips at ``row`` when the gap there looks like daylight saving's
    start: at night, sub-daily steps, half an hour or an hour more than the step before,
    regular after it."""
    if is_integer_time(times) or not 0 < row < len(times) - 1:
        return None
    steps = np.diff(times[row - 1 : row + 4].astype("int64"))
    extra = int(steps[0] - steps[1])
    if (
        steps[1] >= 24 * HOUR_NS
        or extra not in (HOUR_NS // 2, HOUR_NS)
        or (steps[1:] != steps[1]).any()
    ):
        return None
    if pd.Timestamp(times[row - 1]).hour > 3:  # clocks change at night
        return None
    return clock_duration(extra)


def clock_duration(ns: int) -> str:
    """``ns`` nanoseconds as a clock change is told (``an hour``, ``30 minutes``)."""
    if ns % 60_000_000_000:
        return f"{ns / 1e9:g} seconds"
    minutes = ns // 60_000_000_000
    return "an hour" if minutes == 60 else f"{minutes} minutes"


def show_time(value, tz: str | None = None) -> str:
    """A timestamp or integer step as people write it; ``tz``: the zone whose UTC instant
    ``value`` is, shown on that zone's clock."""
    if isinstance(value, (int, np.integer)):
        return str(value)
    stamp = pd.Timestamp(value)
    return str(stamp.tz_localize("UTC").tz_convert(tz) if tz else stamp)


def same_freq(a: Freq, b: Freq, at: np.generic | None = None) -> bool:
    """Whether ``a`` and ``b`` are one frequency; with ``at`` (a timestamp), also whether
    they step alike from it (``7D`` and ``W-TUE`` from a Tuesday: weekly data named two ways)."""
    if isinstance(a, (int, np.integer)) or isinstance(b, (int, np.integer)):
        return a == b
    if to_offset(a) == to_offset(b):
        return True
    if at is None:
        return False
    start = pd.Timestamp(at)
    steps = [pd.date_range(start, periods=8, freq=to_offset(f)) for f in (a, b)]
    return bool((steps[0] == steps[1]).all())


def future_times(last: np.generic, freq: Freq, horizon: int) -> np.ndarray:
    """The ``horizon`` timestamps after ``last``."""
    if isinstance(freq, (int, np.integer)):
        return np.asarray(last, dtype=np.int64) + freq * np.arange(1, horizon + 1, dtype=np.int64)
    stamps = pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
    return stamps.values.astype("datetime64[ns]")


def future_times_each(lasts: Sequence[Any], freq: Freq, horizon: int) -> np.ndarray:
    """``[S, horizon]``: :func:`future_times` after each of ``lasts``, computed once per
    distinct timestamp (a panel's series mostly end, or start, on a few)."""
    known: dict[Any, np.ndarray] = {}
    for t in lasts:
        if t not in known:
            known[t] = future_times(t, freq, horizon)
    return np.stack([known[t] for t in lasts])


def next_time(last: np.generic, freq: Freq) -> np.generic:
    return future_times(last, freq, 1)[0]


HOUR_NS = 3_600_000_000_000
DST_FIX = (
    "give the timestamps with their time zone (e.g. pandas "
    "df['date'].dt.tz_localize('Europe/Berlin', ambiguous='infer')) or in UTC"
)
