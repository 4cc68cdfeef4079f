"""Absent timestamps as missing values (``missing="mask"``): a series whose rows skip steps of
its frequency (a closed day, a dropped sensor reading) gets a row of NaN at each absent step,
which the mask then keeps out of every loss and metric. Only whole steps are inserted: a
timestamp off the frequency's grid is still refused, and the user is told how many rows were
added."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsfm.data.frames.column_types import pandas_type, refuse_inexact, time_resolution
from tsfm.data.frames.dates import (
    Freq,
    LocalTimeSteps,
    is_integer_time,
    resolve_freq,
    show_time,
)
from tsfm.data.frames.table import SeriesTable
from tsfm.data.user_warnings import warn_user

DAY_NS = 86_400_000_000_000


def step_grid(times: np.ndarray, freq: Freq | None) -> np.ndarray:
    """Every step of ``freq`` from the first to the last of ``times`` (``freq`` None: the most
    common step, which must be a fixed duration under four weeks; calendar steps such as
    months need ``freq``); a ValueError if a timestamp is off that grid."""
    first, last = times[0], times[-1]
    grid_of = f"frequency {freq!r}"
    if freq is not None and not is_integer_time(times):
        grid = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=to_offset(freq))
        grid = grid.values.astype("datetime64[ns]")
    else:
        if freq is not None:
            step = np.int64(freq)
        else:
            steps, counts = np.unique(np.diff(times), return_counts=True)
            step = steps[np.argmax(counts)]
            usual = step if is_integer_time(times) else pd.Timedelta(step)
            grid_of = f"the usual step ({usual})"
            if not is_integer_time(times) and step.astype("int64") >= 28 * DAY_NS:
                raise ValueError(
                    f"timestamps skip steps of a calendar frequency (the usual step is "
                    f"{pd.Timedelta(step)}); give the frequency (freq=... in Python, data.freq=... in "
                    "the CLI; e.g. 'MS', 'QS', 'W-SUN') to say which steps are absent"
                )
        grid = np.arange(first, last + step, step)
    off = ~np.isin(times, grid)
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(
            f"row {row} is {show_time(times[row])}, off the grid of {grid_of} from "
            f"{show_time(times[0])}: missing='mask' fills absent steps, but cannot place a "
            "timestamp between two steps. Fix or drop that row, or give the frequency it "
            "belongs to (freq=... in Python, data.freq=... in the CLI)"
        )
    return grid


def insert_absent_steps(
    table: SeriesTable, freq: Freq | None, name: str = "the frame"
) -> SeriesTable:
    """``table`` with a NaN row at every step of ``freq`` its timestamps skip (see the module
    docstring), with a warning saying how many; unchanged when none is absent."""
    times = table.times
    if times is None or len(times) < 2:
        return table
    try:
        resolve_freq(times, freq, table.tz)
        return table  # regular already
    except LocalTimeSteps:
        raise  # regular on the local clock: not absent steps
    except ValueError:
        pass
    try:
        grid = step_grid(times, freq)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    absent = np.setdiff1d(grid, times)
    refuse_finer_steps(absent, table, freq)
    values = np.full((len(grid), table.values.shape[1]), np.nan)
    values[np.searchsorted(grid, times)] = table.values
    warn_user(
        f"{name}: {len(absent)} absent step(s) (the first at {show_time(absent[0])}) inserted as "
        "missing values (missing='mask'); they never enter the loss or a metric"
    )
    return replace(table, values=values, times=grid.astype(times.dtype))


def refuse_finer_steps(times: np.ndarray, table: SeriesTable, freq: Freq | None) -> None:
    """Refuse steps the frame's time column cannot hold (``freq="12h"`` on dates, ``"500ms"`` on
    seconds): their forecasts could not be written back without truncating their times."""
    layout = table.layout
    if layout is None or layout.time_col is None or is_integer_time(times):
        return
    kind = layout.time_type.get("kind")
    given = layout.pandas_types.get("time") if layout.library == "pandas" else None
    unit = "D" if kind == "date" else time_resolution(given) or layout.time_type.get("unit")
    name = str(pandas_type(given)) if given else "a date (Date)" if kind == "date" else None
    what = f"an absent step of the frequency {freq!r} (missing='mask' makes it a row)"
    refuse_inexact(times, unit, layout.time_col, name or f"Datetime('{unit}')", what)
