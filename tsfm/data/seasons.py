"""The season length of a frequency: the lag of the seasonal-naive baseline, of MASE's and
MSIS's scale.

Rule (``season_length=None``): the longest natural season of the frequency that fits in the
look-back (at most ``lookback`` steps), in steps:

- below a day (``h``, ``30min``, ``15min``, ``s``): one day of steps, else one hour of steps
  (hourly 24, half-hourly 48, 15-minute 96, 2-hourly 12);
- daily 7 (a week; business days 5), weekly 52 (``'7D'`` too: weeks from each series' own
  weekday, see ``tsfm/data/frames/anchors.py``), monthly 12, quarterly 4 (a year);
- yearly data, integer time steps and unknown frequencies: 1 (the naive forecast).

1 is also the answer when no season fits in the look-back (a 15-minute series with a look-back
of 95 steps gets 4, one hour; a weekly one with a look-back of 24 gets 1).

A look-back of exactly one season keeps it (quarterly ``lookback=4``, monthly 12, hourly 24,
15-minute 96): the seasonal-naive forecast repeats the look-back, a valid forecast. MASE's and
MSIS's default look-back scale then has no pair of values a season apart (it is reported
missing, with the reason); ``mase_scale="history"`` takes it from the series' rows before
each window instead.
"""

from __future__ import annotations

import re
from typing import Any

from tsfm.errors import InputError

# seasons in units of the frequency's own step (before dividing by its multiple)
_CALENDAR = {"day": (7,), "week": (52,), "month": (12,), "quarter": (4,), "year": ()}
_STEP_SECONDS = {"hour": 3600, "minute": 60, "second": 1}


def natural_seasons(freq: str | int | None) -> tuple[int, ...]:
    """The frequency's seasons in steps, longest first (empty when it has none)."""
    if freq is None or isinstance(freq, int):
        return ()
    from tsfm.data.timefeatures import freq_unit

    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)(-[A-Za-z]+)?\s*", str(freq))
    try:
        unit = freq_unit(str(freq))
    except ValueError:
        return ()
    if match is None or match.group(2) in ("ms", "us", "ns", "L", "U", "N"):
        return ()
    multiple = max(1, int(match.group(1) or 1))
    if unit in _STEP_SECONDS:
        step = _STEP_SECONDS[unit] * multiple
        seasons: tuple[float, ...] = (86400 / step, 3600 / step)
    elif unit == "day" and match.group(2).upper() in ("B", "BD"):
        seasons = (5 / multiple,)
    elif unit == "day" and multiple % 7 == 0:  # '7D': weeks, on any weekday
        seasons = (52 / (multiple // 7),)
    else:
        seasons = tuple(s / multiple for s in _CALENDAR[unit])
    return tuple(int(s) for s in seasons if s > 1 and float(s).is_integer())


def default_season_length(freq: str | int | None, lookback: int) -> int:
    """The longest of :func:`natural_seasons` of at most ``lookback`` steps, else 1."""
    return next((s for s in natural_seasons(freq) if s <= lookback), 1)


def check_lookback(lookback: int, name: str) -> None:
    """A look-back of at least two steps: one step normalises every window to zero (the
    models' instance normalisation) and leaves no season shorter than it for the metrics."""
    if lookback < 2:
        raise InputError(
            f"{name}={lookback}: a look-back needs at least 2 steps (with one, the models' "
            "instance normalisation maps every window to 0 and MASE/MSIS have no seasonal "
            "scale); give 2 or more"
        )


def resolve_season_length(season_length: Any, freq: str | int | None, lookback: int) -> int:
    """``season_length`` checked (a whole number in ``[1, lookback]``), or the default of
    ``freq`` when it is None."""
    if season_length is None:
        return default_season_length(freq, lookback)
    if isinstance(season_length, bool) or not isinstance(season_length, int):
        raise InputError(
            f"season_length must be a whole number of steps (or None: from the frequency), "
            f"got {season_length!r}"
        )
    if not 0 < season_length <= lookback:
        raise InputError(
            f"season_length={season_length} must be at least 1 and at most the look-back "
            f"({lookback}): the seasonal-naive forecast repeats look-back values; shorten it "
            f"or lengthen the look-back"
        )
    return season_length
