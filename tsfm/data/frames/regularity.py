"""Whether timestamps step as they should, and whether calendar features fit them.

A window is ``seq_len + pred_len`` consecutive rows, so a missing timestamp makes windows run
across the gap: the model learns that the step after 09:00 can be 14:00. A registered
benchmark must also be the published file: the papers' splits are fixed row counts (12/4/4
months for ETT), and a copy with rows missing silently shifts every split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsfm.data.timefeatures import freq_unit
from tsfm.errors import InputError

PAPERS_CALENDAR_FREQ = "h"
"""The calendar-feature frequency the official scripts pass for every long-term benchmark."""


def check_steps(
    times: np.ndarray,
    freq: str,
    *,
    breaks: Sequence[str] = (),
    allow_duplicates: bool = False,
    source: str = "the data",
) -> None:
    """Every step of ``times`` is ``freq`` (a fixed length such as ``h`` or ``15min``), except
    a repeated timestamp when ``allow_duplicates`` and a step ending at one of ``breaks``."""
    step = pd.Timedelta(to_offset(freq)).to_timedelta64()
    steps = np.diff(times)
    odd = steps != step
    if allow_duplicates:
        odd &= steps != np.timedelta64(0, "ns")
    if breaks:
        odd &= ~np.isin(times[1:], np.array(breaks, dtype="datetime64[ns]"))
    if odd.any():
        row = int(np.argmax(odd)) + 1
        count = int(odd.sum())
        raise InputError(
            f"{source}: timestamps do not step by {freq!r}: row {row} is "
            f"{pd.Timestamp(times[row])}, {freq!r} after row {row - 1} "
            f"({pd.Timestamp(times[row - 1])}) would be {pd.Timestamp(times[row - 1] + step)} "
            f"({count} irregular step(s) in all)"
        )


def check_span(
    times: np.ndarray,
    rows: int | None,
    span: tuple[str, str] | None,
    source: str,
) -> None:
    """``times`` has the published file's row count and first/last timestamps."""
    problems = []
    if rows is not None and len(times) != rows:
        problems.append(f"{len(times)} rows where the published file has {rows}")
    if span is not None:
        first, last = (pd.Timestamp(t) for t in span)
        if pd.Timestamp(times[0]) != first or pd.Timestamp(times[-1]) != last:
            problems.append(
                f"timestamps {pd.Timestamp(times[0])} to {pd.Timestamp(times[-1])} where the "
                f"published file runs from {first} to {last}"
            )
    if problems:
        raise InputError(
            f"{source} is not the published file: {' and '.join(problems)}. The papers' "
            "splits are fixed row counts, so an edited copy shifts every split. Use the "
            "published file (datasets/README.md says where to get it), or read this one as "
            "custom data (data=custom data.path=...), which splits by ratios"
        )


def check_calendar_freq(calendar: str, sampling: str, *, benchmark: bool = False) -> None:
    """Calendar features of frequency ``calendar`` must describe data sampled at
    ``sampling``: the same calendar unit (``15min`` and ``t`` are minutes, ``h`` and ``2h``
    hours). A registered benchmark may also use ``h``, as the official scripts do for all."""
    if benchmark and calendar == PAPERS_CALENDAR_FREQ:
        return
    if freq_unit(calendar) != freq_unit(sampling):
        papers = benchmark and freq_unit(sampling) != freq_unit(PAPERS_CALENDAR_FREQ)
        extra = " (or h, the papers' choice for every benchmark)" if papers else ""
        raise InputError(
            f"data.freq={calendar!r} does not fit the data, which steps by {sampling!r}: its "
            f"calendar features describe {freq_unit(calendar)}s, the data's steps are "
            f"{freq_unit(sampling)}s. Set data.freq={sampling}{extra}, or null to use the "
            "data's own frequency"
        )
