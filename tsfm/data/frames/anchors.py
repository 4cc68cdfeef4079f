"""Anchored frequencies: steps of one length placed differently on the calendar. Weekly data
falls on a weekday (``'W-FRI'``, ``'W-SUN'``); months, quarters and years are stamped at
their starts or at their ends (``'MS'``, ``'ME'``), quarters and years also in different
months (``'QS-JAN'``, ``'QS-FEB'``: fiscal years). Real panels mix them: M4's weekly series
end on every day of the week.

Such series are regular, each on its own grid. :func:`common_freq` names a frequency that
steps alike from any of those grids' dates (``'7D'`` for weeks on any weekday, ``'3MS'`` for
quarters stamped at their starts in any month), so a panel of independent series can be
fitted on one frequency and each series forecast on its own dates; :func:`anchored_elsewhere`
tells a series that is regular on another anchor from one with missing or irregular steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset

from tsfm.errors import InputError

Freq = str | int

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# offset type -> (months per step, stamped at the period's "start" or "end", business days)
_CALENDAR = {
    offsets.MonthBegin: (1, "start", False),
    offsets.MonthEnd: (1, "end", False),
    offsets.BusinessMonthBegin: (1, "start", True),
    offsets.BusinessMonthEnd: (1, "end", True),
    offsets.QuarterBegin: (3, "start", False),
    offsets.QuarterEnd: (3, "end", False),
    offsets.BQuarterBegin: (3, "start", True),
    offsets.BQuarterEnd: (3, "end", True),
    offsets.YearBegin: (12, "start", False),
    offsets.YearEnd: (12, "end", False),
    offsets.BYearBegin: (12, "start", True),
    offsets.BYearEnd: (12, "end", True),
}


def _offset(freq: Freq | None) -> offsets.BaseOffset | None:
    if freq is None or isinstance(freq, (int, np.integer)):
        return None
    try:
        return to_offset(freq)
    except (ValueError, TypeError):
        return None


def period_of(freq: Freq | None) -> tuple[str, int] | None:
    """``("week", n)`` or ``("month", n)``: the length of an anchored frequency's step (a
    quarter is 3 months); None for a frequency of fixed steps (``'h'``, ``'7D'``) or another."""
    offset = _offset(freq)
    if isinstance(offset, offsets.Week) and offset.weekday is not None:
        return "week", offset.n
    if type(offset) in _CALENDAR:
        return "month", _CALENDAR[type(offset)][0] * offset.n
    return None


def common_freq(freq: Freq | None) -> str | None:
    """A frequency that steps from any date of ``freq``'s kind as ``freq`` steps from its own
    anchor: ``'7D'`` for ``'W-SAT'`` (weeks on any weekday), ``'3MS'`` for ``'QS-JAN'`` and
    ``'QS-FEB'`` alike (quarters stamped at their starts), ``'12ME'`` for years stamped at
    their ends. None for months (``'MS'``, ``'ME'``: their own) and unanchored frequencies."""
    offset, period = _offset(freq), period_of(freq)
    if period is None:
        return None
    if period[0] == "week":
        return f"{7 * period[1]}D"
    months, stamp, business = _CALENDAR[type(offset)]
    if months == 1:
        return None
    return f"{period[1]}{'B' if business else ''}{'MS' if stamp == 'start' else 'ME'}"


def anchored_alike(a: Freq | None, b: Freq | None) -> bool:
    """Whether ``a`` and ``b`` step by periods of one length, anchored differently (weeks on
    two weekdays, months stamped at their starts and at their ends, quarters of fiscal years
    starting in different months)."""
    return period_of(a) is not None and period_of(a) == period_of(b) and _offset(a) != _offset(b)


def describe(freq: Freq) -> str:
    """``freq`` in words: ``'W-FRI'``: weeks on Fridays; ``'QS-FEB'``: quarters stamped at
    their starts, in Feb, May, Aug and Nov; ``'7D'``: steps of 7 days."""
    offset, period = _offset(freq), period_of(freq)
    if offset is None:
        return f"steps of {freq}"
    if isinstance(offset, offsets.Day):
        return f"steps of {offset.n} day{'s' if offset.n > 1 else ''}"
    if period is None:
        return f"steps of {freq!r}"
    if period[0] == "week":
        every = "weeks" if period[1] == 1 else f"every {period[1]} weeks"
        return f"{every} on {DAYS[offset.weekday]}s"
    months, stamp, business = _CALENDAR[type(offset)]
    unit = {1: "months", 3: "quarters", 12: "years"}[months]
    what = f"{unit if offset.n == 1 else f'every {offset.n} {unit}'} stamped at their {stamp}s"
    what += " (business days)" if business else ""
    first = getattr(offset, "startingMonth", None) or getattr(offset, "month", None)
    if months > 1 and first:  # the months its periods are stamped in
        named = [MONTH_NAMES[m] for m in sorted((first - 1 + k) % 12 for k in range(0, 12, months))]
        what += f", in {' and '.join([', '.join(named[:-1]), named[-1]] if named[1:] else named)}"
    return what


def on_grid(time: np.generic, reference: np.generic, freq: Freq) -> bool:
    """Whether ``time`` is a step of ``freq`` counted from ``reference`` (timestamps, or
    integer steps with an integer ``freq``)."""
    if isinstance(freq, (int, np.integer)):
        return (int(time) - int(reference)) % int(freq) == 0
    offset, at, start = _offset(freq), pd.Timestamp(time), pd.Timestamp(reference)
    if offset is None:
        return True
    try:
        step = pd.Timedelta(offset)
    except ValueError:  # anchored: no fixed length, its grid is its anchor's
        return bool(offset.is_on_offset(at)) and at.time() == start.time()
    return (at - start) % step == pd.Timedelta(0)


def refuse_anchored(times: np.ndarray, freq: Freq, own: Freq | None, expected: np.ndarray) -> None:
    """Raise :class:`AnchoredElsewhere` when ``times``, regular on their own frequency ``own``,
    are off ``freq`` only by its anchor (``expected``: where ``freq`` puts each row)."""
    if own is None or not anchored_alike(own, freq):
        return
    row = int(np.argmax(expected.astype(times.dtype) != times))
    common = common_freq(own)
    other = (
        f", or freq={common!r} ({describe(common)} from each series' own dates: a panel's "
        "frequency when its series are anchored differently)"
        if common
        else ""
    )
    raise AnchoredElsewhere(
        f"timestamps are regular, but anchored elsewhere: they step by {own!r} "
        f"({describe(own)}), not by {freq!r} ({describe(freq)}); row {row} is "
        f"{pd.Timestamp(times[row])}, where {freq!r} puts {pd.Timestamp(expected[row])}. Give "
        f"freq={own!r}, the series' own anchor{other} (data.freq on the command line)"
    )


class AnchoredElsewhere(InputError):
    """Timestamps regular on a frequency anchored otherwise than the one they were checked
    against (weekly on Fridays, checked against ``'W-SAT'``)."""
