"""The frequency of a panel of series: one for independent series, each on its own dates
(:func:`panel_freq`), and one grid for series forecast jointly (:func:`refuse_offset_grids`).

Series regular on grids of one step anchored differently (weekly on Fridays and on Sundays,
quarters of fiscal years starting in different months, :mod:`~tsfm.data.frames.anchors`) are
one panel of independent series: its frequency is one that steps alike from every series'
own dates (``'7D'``, ``'3MS'``), so each series is forecast on its own dates. Jointly they are
refused: their timestamps never meet, so one time index would make most rows missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsfm.data.frames.anchors import anchored_alike, common_freq, describe, on_grid, period_of
from tsfm.data.frames.dates import Freq, resolve_freq, same_freq, show_time
from tsfm.data.frames.table import SeriesTable
from tsfm.errors import InputError


def panel_freq(
    ids: Sequence[Any], tables: Sequence[SeriesTable], freq: Freq | None, masked: bool = False
) -> Freq:
    """The panel's frequency: ``freq`` checked against every series, else the longest series'
    own, or, when series are anchored otherwise than it (weeks on other weekdays), the
    frequency every series follows from its own dates (:func:`~tsfm.data.frames.anchors.
    common_freq`). A series of other steps is refused by name; ``masked``: under
    ``missing='mask'`` (absent steps inserted already), which the refusals do not offer."""
    index = max(range(len(tables)), key=lambda j: len(tables[j]))
    given = freq is not None
    try:
        freq = resolve_freq(tables[index].times, freq, tables[index].tz, masked)
    except ValueError as err:
        raise InputError(f"series {ids[index]!r}: {err}") from None
    common = None if given else common_freq(freq)
    moved = False
    for series, table in zip(ids, tables, strict=True):
        if len(table) < 2:
            continue
        try:
            resolve_freq(table.times, freq, table.tz, masked)
        except ValueError as err:
            if common is not None and _follows(table, common):
                moved = True  # on another anchor: the panel steps by ``common``
                continue
            if given:
                raise InputError(f"series {series!r}: {err}") from None
            raise InputError(_other_freq(series, table, ids[index], freq, err, masked)) from None
    return common if moved else freq


def refuse_off_freq(ids: Sequence[Any], tables: Sequence[SeriesTable], freq: Freq) -> None:
    """Refuse, by name, a series of a frame a fitted panel forecasts from whose timestamps
    are not every step of the model's ``freq`` (an absent step, a row off its grid), as
    :func:`panel_freq` refuses it at fit: rows either side of a gap read as consecutive
    would shift the look-back, and an off-grid origin would date the forecasts off the grid
    too (under ``missing='mask'`` absent steps are inserted instead, as at fit)."""
    for series, table in zip(ids, tables, strict=True):
        if table.times is None or len(table) < 2:
            continue
        try:
            resolve_freq(table.times, freq, table.tz)
        except ValueError as err:
            common = common_freq(freq)
            if common is not None and _follows(table, common):  # regular, on another anchor
                raise InputError(
                    f"series {series!r} steps regularly but is anchored otherwise than the "
                    f"model's freq {_named(freq)}, which dates its forecasts (every series it "
                    f"was fitted on is on that anchor). A fitted model's freq cannot change: "
                    f"fit with freq={common!r} (a step every series takes from its own "
                    f"dates), or include this series in the frame fit reads, which then "
                    f"takes that step itself"
                ) from None
            raise InputError(f"series {series!r}: {err}") from None


def _follows(table: SeriesTable, freq: Freq) -> bool:
    try:
        resolve_freq(table.times, freq, table.tz)
    except ValueError:
        return False
    return True


def _named(freq: Freq) -> str:
    """``freq``, with its anchor in words where it has one (``'W-FRI' (weeks on Fridays)``)."""
    return f"{freq!r} ({describe(freq)})" if period_of(freq) is not None else repr(freq)


def _other_freq(
    series: Any, table: SeriesTable, longest: Any, freq: Freq, err: Exception, masked: bool
) -> str:
    """Why ``series`` does not step by the panel's ``freq`` (its longest series'): regular on
    a frequency of its own, irregular on its own anchor of ``freq`` (:func:`_own_anchor`), or
    ``err``, the refusal of its irregular steps."""
    try:
        own = resolve_freq(table.times, None, table.tz) if len(table) >= 3 else None
    except ValueError:
        own = None
    if own is None:
        return _irregular_on_own_anchor(series, table, longest, freq, masked) or (
            f"series {series!r}: {err}"
        )
    if anchored_alike(own, freq):  # the same periods, stamped at their ends and starts
        unit = {1: "M", 3: "Q", 12: "Y"}.get(period_of(freq)[1], "M")
        fix = (
            "stamp every series' periods alike, all at their starts or all at their ends "
            f"(pandas: df[col].dt.to_period('{unit}').dt.to_timestamp() stamps them at their "
            "starts)"
        )
    else:
        fix = "resample the series to one frequency, or fit series of other frequencies apart"
    return (
        f"series {series!r} steps by {_named(own)}, but the panel steps by {_named(freq)}, "
        f"the frequency of its longest series, {longest!r}: the series of a panel share one "
        f"frequency; {fix}"
    )


def _own_anchor(freq: Freq, first: np.generic) -> str | None:
    """``freq`` anchored on a series' own first date: ``'W-SUN'`` for ``'W-THU'`` from a
    Sunday; for quarters and years, the frequency stepping alike from any date of theirs
    (``'3MS'``); None for a frequency without an anchor (its steps start at a series' own
    first date already) and for months."""
    period = period_of(freq)
    if period is None:
        return None
    if period[0] == "week":
        return pd.offsets.Week(period[1], weekday=pd.Timestamp(first).weekday()).freqstr
    return common_freq(freq)


def _irregular_on_own_anchor(
    series: Any, table: SeriesTable, longest: Any, freq: Freq, masked: bool
) -> str | None:
    """The refusal of ``series``' irregular steps on its own anchor of the panel's ``freq``
    (an absent week of a series on Sundays, in a panel whose longest series is on Thursdays),
    where its first steps follow that anchor; None otherwise (its own steps are another
    frequency's, or it has none: the refusal against ``freq`` stands)."""
    anchor = _own_anchor(freq, table.times[0])
    if anchor is None or len(table) < 3 or same_freq(anchor, freq):
        return None  # on the longest series' anchor: the refusal against it says it all
    expected = pd.date_range(pd.Timestamp(table.times[0]), periods=3, freq=anchor)
    if not np.array_equal(expected.values.astype(table.times.dtype), table.times[:3]):
        return None  # not even its first steps are of this period: another frequency
    try:
        resolve_freq(table.times, anchor, table.tz, masked)
    except ValueError as err:
        own = "its own weekday" if period_of(freq)[0] == "week" else "from its own dates"
        return (
            f"series {series!r} ({describe(anchor)}, {own}; independent series may be "
            f"anchored otherwise than the longest, {longest!r}, on {_named(freq)}): {err}"
        )
    return None


def refuse_offset_grids(ids: Sequence[Any], times: Sequence[np.ndarray]) -> None:
    """Refuse series forecast jointly that are regular with steps of one length on grids that
    never meet (weekly on different weekdays, hourly on the hour and on the half hour): one
    time index would make most of every series' rows missing values."""
    regular = {}
    for j, stamps in enumerate(times):
        try:
            regular[j] = resolve_freq(stamps) if len(stamps) >= 3 else None
        except ValueError:
            continue
    regular = {j: f for j, f in regular.items() if f is not None}
    if len(regular) < 2:
        return
    ref = max(regular, key=lambda j: len(times[j]))
    freq, start = regular[ref], times[ref][0]
    for j, own in regular.items():
        alike = same_freq(own, freq) or anchored_alike(own, freq)
        if not alike or on_grid(times[j][0], start, freq):
            continue
        raise InputError(
            f"series {ids[j]!r} steps by {_named(own)} from {show_time(times[j][0])} and series "
            f"{ids[ref]!r} by {_named(freq)} from {show_time(start)}: their timestamps never "
            "meet, and mode='joint' forecasts the series together on one time index (most of "
            "each series' rows would be missing values there). Use mode='independent' "
            "(data.mode=independent in the CLI), which forecasts each series from its own "
            "dates, or move the series onto one grid"
        )
