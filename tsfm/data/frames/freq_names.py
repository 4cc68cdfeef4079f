"""Frequency names: a pandas offset alias read into its offset, or refused with the alias to
use instead. pandas 2.2 and 3 dropped aliases many users still write: ``'Q'``, ``'M'``,
``'Y'``/``'A'`` (the new ones say whether a timestamp marks the start or the end of its
period: ``'QS'``/``'QE'``) and the upper-case ``'H'``, ``'T'``, ``'S'`` (now ``'h'``,
``'min'``, ``'s'``)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset

from tsfm.errors import InputError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# old alias -> (the alias stamping periods at their starts, the one stamping their ends)
PERIOD_ALIASES = {
    "Q": ("QS", "QE"),
    "M": ("MS", "ME"),
    "Y": ("YS", "YE"),
    "A": ("YS", "YE"),
    "BQ": ("BQS", "BQE"),
    "BM": ("BMS", "BME"),
    "BY": ("BYS", "BYE"),
    "BA": ("BYS", "BYE"),
    "SM": ("SMS", "SME"),
    "CBM": ("CBMS", "CBME"),
}
ANCHORED = ("Q", "Y", "A", "BQ", "BY", "BA")  # take a month: 'Q-JUN', quarters ending in June
# old alias -> its new name
RENAMED_ALIASES = {
    "H": "h",
    "BH": "bh",
    "CBH": "cbh",
    "T": "min",
    "S": "s",
    "L": "ms",
    "U": "us",
    "N": "ns",
    "AS": "YS",
    "BAS": "BYS",
}
EXAMPLES = "'h', '15min', 'D', 'W-SUN', 'MS', 'QS', 'YS'"
_ALIAS = re.compile(r"\s*(\d*)\s*([A-Za-z]+)(?:-([A-Za-z]{3}))?\s*")
_PANDAS_HINT = re.compile(r"(Did you mean [^?]+\?|Please use '[^']+' instead\.)")


def parse_freq(freq: Any) -> BaseOffset:
    """The pandas offset of the frequency name ``freq`` (``'h'``, ``'15min'``, ``'QS'``); a
    ValueError naming the alias to use instead when pandas no longer reads it (``'Q'``)."""
    try:
        return to_offset(freq)
    except (ValueError, TypeError) as err:
        raise InputError(freq_refusal(freq, err)) from None


def freq_refusal(freq: Any, err: Exception | None = None) -> str:
    """Why ``freq`` is not a frequency, and which alias to use."""
    start = f"unknown frequency {freq!r}"
    match = _ALIAS.fullmatch(freq) if isinstance(freq, str) else None
    if match:
        count, name, anchor = match.group(1), match.group(2).upper(), match.group(3)
        month = anchor.upper() if anchor else None
        if match.group(2) in ("m", "mo") and anchor is None:  # polars' (and NumPy's) units
            return _polars_unit(start, count, match.group(2))
        if name in PERIOD_ALIASES and (month is None or (name in ANCHORED and month in MONTHS)):
            starts, ends = _period_names(count, name, month)
            return (
                f"{start}: pandas no longer reads it, as it does not say whether a timestamp "
                f"marks the start or the end of its period; use {starts!r} for timestamps at "
                f"period starts ({_first_two(starts)}, ...) or {ends!r} for timestamps at "
                f"period ends ({_first_two(ends)}, ...)"
            )
        if name in RENAMED_ALIASES and anchor is None:
            return f"{start}: pandas now calls it {count + RENAMED_ALIASES[name]!r}"
    hint = _PANDAS_HINT.search(str(err or ""))
    if hint:
        return f"{start} (pandas: {hint.group(1)}); use a pandas alias such as {EXAMPLES}"
    if isinstance(freq, str) and _parses(freq.upper()):
        return f"{start}: pandas aliases are case-sensitive; did you mean {freq.upper()!r}?"
    return f"{start}; use a pandas alias such as {EXAMPLES}"


def _polars_unit(start: str, count: str, unit: str) -> str:
    """The pandas aliases of polars' ``'m'`` (minutes, as NumPy's; pandas' ``'M'`` was
    months) and ``'mo'`` (months)."""
    months = f"{count}MS' for timestamps at month starts or '{count}ME' at month ends"
    if unit == "mo":
        return f"{start}: polars' months; pandas calls them '{months}"
    return (
        f"{start}: for minutes (as polars and NumPy write them) pandas writes "
        f"'{count}min'; for months, '{months}"
    )


def _period_names(count: str, name: str, month: str | None) -> tuple[str, str]:
    """The start and end aliases of the old ``name`` (``Q-JUN``: quarters ending in June,
    so ``QE-JUN``, or ``QS-JUL`` for the same quarters stamped at their starts)."""
    starts, ends = PERIOD_ALIASES[name]
    if month is None:
        return count + starts, count + ends
    after = MONTHS[(MONTHS.index(month) + 1) % 12]
    return f"{count}{starts}-{after}", f"{count}{ends}-{month}"


def _first_two(alias: str) -> str:
    stamps = pd.date_range("1970-01-01", periods=2, freq=alias)
    return ", ".join(str(s.date()) for s in stamps)


def _parses(alias: str) -> bool:
    try:
        to_offset(alias)
    except (ValueError, TypeError):
        return False
    return True
