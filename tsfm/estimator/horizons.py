"""The horizon a refusal suggests when none is given (``Forecaster(...)`` without
``horizon``): by the calendar unit of the data's frequency, never assumed."""

from __future__ import annotations

from typing import Any

import numpy as np

# A horizon people often need, by the data's frequency (the M4 competition's for Y/Q/M/W/D/h;
# one day of steps below an hour; integer time, having no calendar, a quarter of the
# look-back): suggested when the horizon is missing, never assumed.
SUGGESTED_HORIZONS = {"year": 6, "quarter": 8, "month": 18, "week": 13, "day": 14, "hour": 48}


def integer_step(freq: Any) -> bool:
    return isinstance(freq, (int, np.integer)) and not isinstance(freq, bool)


def suggested_horizon(freq: Any, lookback: int | None = None) -> int:
    """A horizon to suggest when none is given: by the calendar unit of ``freq`` (see
    ``SUGGESTED_HORIZONS``; one day of sub-hourly steps); for integer time, which has no
    calendar, a quarter of ``lookback`` (24 without one)."""
    from tsfm.data.timefeatures import freq_unit

    if freq is None:
        return 24
    if integer_step(freq):
        return 24 if lookback is None else max(1, lookback // 4)
    unit = freq_unit(str(freq))
    if unit in SUGGESTED_HORIZONS:
        return SUGGESTED_HORIZONS[unit]
    import pandas as pd

    return max(1, int(pd.Timedelta("1D") / pd.Timedelta(pd.tseries.frequencies.to_offset(freq))))


def horizon_reason(freq: Any, lookback: int | None, suggested: int) -> str:
    if freq is None:
        return ")"
    if integer_step(freq):  # integer time: steps of no calendar length
        share = f", a quarter of lookback={lookback}" if lookback is not None else ""
        return (
            f"{share}; the time column holds integers (steps of {freq}), which have no "
            "calendar length to suggest a horizon by: choose how many steps ahead the forecast "
            "must reach)"
        )
    from tsfm.data.timefeatures import freq_unit

    why = "the M4 competition's choice" if freq_unit(str(freq)) in SUGGESTED_HORIZONS else "one day"
    return f"; {suggested} steps of {freq!r} is {why})"
