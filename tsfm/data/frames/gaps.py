"""Absent timestamps as missing values (``missing="mask"``): a series whose rows skip steps of
its frequency (a closed day, a dropped sensor reading) gets a row of NaN at each absent step,
which the mask then keeps out of every loss and metric. Only whole steps are inserted: a
timestamp off the frequency's grid is still refused, and the user is told how many rows were
added.

Without ``freq``, the steps are those of the most common step between rows, or for calendar
steps (months, quarters, years: no fixed length) the frequency pandas infers from a run of
consecutive rows, used only when it is unambiguous: every row on its grid, and one step of it
the most common gap between rows. The warning then says which frequency was inferred."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tsfm.data.frames.anchors import AnchoredElsewhere, anchored_alike, common_freq, describe
from tsfm.data.frames.column_types import pandas_type, refuse_inexact, time_resolution
from tsfm.data.frames.dates import (
    Freq,
    LocalTimeSteps,
    calendar_candidate,
    calendar_candidates,
    is_integer_time,
    resolve_freq,
    show_time,
)
from tsfm.data.frames.freq_names import parse_freq
from tsfm.data.frames.table import SeriesTable
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError

DAY_NS = 86_400_000_000_000
GIVE_FREQ = "freq=... in Python, data.freq=... in the CLI"


def _calendar_steps(times: np.ndarray) -> bool:
    """Whether the most common step of ``times`` is a calendar one (four weeks or more)."""
    if is_integer_time(times) or len(times) < 2:
        return False
    steps, counts = np.unique(np.diff(times), return_counts=True)
    return bool(steps[np.argmax(counts)].astype("int64") >= 28 * DAY_NS)


def step_grid(times: np.ndarray, freq: Freq | None) -> np.ndarray:
    """Every step of ``freq`` from the first to the last of ``times`` (``freq`` None: the most
    common step; calendar steps such as months come with theirs, see
    :func:`insert_absent_steps`); a ValueError if a timestamp is off that grid."""
    first, last = times[0], times[-1]
    grid_of = f"frequency {freq!r}"
    if freq is not None and not is_integer_time(times):
        grid = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=parse_freq(freq))
        grid = grid.values.astype("datetime64[ns]")
    else:
        if freq is not None:
            step = np.int64(freq)
        else:
            steps, counts = np.unique(np.diff(times), return_counts=True)
            step = steps[np.argmax(counts)]
            usual = step if is_integer_time(times) else pd.Timedelta(step)
            grid_of = f"the usual step ({usual})"
        grid = np.arange(first, last + step, step)
    off = ~np.isin(times, grid)
    if off.any():
        row = int(np.argmax(off))
        where = f"off the grid of {grid_of} from {show_time(first)}"
        if row == 0:  # an anchored frequency whose steps fall elsewhere ('QE' on quarter starts)
            steps = ", ".join(show_time(t) for t in grid[:2])
            where = f"not a step of {grid_of} (its steps from there: {steps}, ...)"
        shown = calendar_candidate(times) if freq is not None and row == 0 else None
        belongs = f"; consecutive rows step by {shown!r}" if shown else ""
        if shown and anchored_alike(shown, freq) and common_freq(shown):
            common = common_freq(shown)  # weekly on another weekday than freq's
            belongs += f", or {common!r} ({describe(common)} from each series' own dates)"
        raise InputError(
            f"row {row} is {show_time(times[row])}, {where}: missing='mask' fills absent "
            "steps, but cannot place a timestamp between two steps. Fix or drop that row, or "
            f"give the frequency it belongs to ({GIVE_FREQ}{belongs})"
        )
    return grid


def calendar_freq(times: np.ndarray) -> str:
    """The calendar frequency of ``times``, which skip some of its steps, when the rows
    present tell it unambiguously (see the module docstring); else a ValueError with the fix.
    Of the frequencies pandas infers from runs of consecutive rows, the finest whose grid
    holds every row."""
    steps, counts = np.unique(np.diff(times), return_counts=True)
    usual = pd.Timedelta(steps[np.argmax(counts)])
    found = calendar_candidates(times)
    if not found:
        raise InputError(
            f"timestamps skip steps of a calendar frequency (the usual step is {usual}) and no "
            f"run of consecutive rows shows which: give the frequency ({GIVE_FREQ}; e.g. 'MS', "
            "'QS', 'YS') to say which steps are absent"
        )
    grids = {freq: _calendar_grid(times, freq) for freq in found}
    holding = [freq for freq in found if np.isin(times, grids[freq]).all()]
    if not holding:
        row = int(np.argmax(~np.isin(times, grids[found[0]])))
        raise InputError(
            f"timestamps skip steps of a calendar frequency: consecutive rows step by "
            f"{found[0]!r}, but row {row} ({show_time(times[row])}) is off its grid from "
            f"{show_time(times[0])}. Give the frequency the series steps by ({GIVE_FREQ}), or "
            "fix that row"
        )
    freq = max(holding, key=lambda f: len(grids[f]))
    jumps, counts = np.unique(np.diff(np.searchsorted(grids[freq], times)), return_counts=True)
    if jumps[np.argmax(counts)] != 1:
        raise InputError(
            f"timestamps skip steps of a calendar frequency: every row lies on the grid of "
            f"{freq!r}, but most rows are {int(jumps[np.argmax(counts)])} of its steps apart, "
            f"so it may not be the series' frequency: give freq={freq!r} to insert its absent "
            f"steps, or the frequency the series steps by ({GIVE_FREQ})"
        )
    return freq


def _calendar_grid(times: np.ndarray, freq: str) -> np.ndarray:
    grid = pd.date_range(pd.Timestamp(times[0]), pd.Timestamp(times[-1]), freq=freq)
    return grid.values.astype("datetime64[ns]")


def empty_steps(table: SeriesTable) -> np.ndarray | None:
    """The timestamps of ``table``'s rows without any value (its inserted absent steps among
    them): a fitted frame's, whose absent steps a later read does not warn about again."""
    if table.times is None:
        return None
    return table.times[np.isnan(table.values).all(axis=1)]


def insert_absent_steps(
    table: SeriesTable,
    freq: Freq | None,
    name: str = "the frame",
    known: np.ndarray | None = None,
    check_coarser: bool = True,
) -> SeriesTable:
    """``table`` with a NaN row at every step of ``freq`` its timestamps skip (see the module
    docstring), with a warning saying how many; unchanged when none is absent. ``known``: the
    steps already warned about (the fitted frame's :func:`empty_steps`), not warned again.
    ``check_coarser``: refuse a given ``freq`` finer than every row's step; a panel's series
    are checked together instead (:func:`refuse_coarser_panel`): one sparse series among
    others on ``freq`` is what masking is for."""
    times = table.times
    if times is None or len(times) < 2:
        return table
    try:
        resolve_freq(times, freq, table.tz)
        return table  # regular already
    except LocalTimeSteps:
        raise  # regular on the local clock: not absent steps
    except AnchoredElsewhere as err:  # regular on another anchor (weekly on another weekday)
        raise InputError(f"{name}: {err}") from None
    except ValueError:
        pass
    inferred = None
    if freq is None and _calendar_steps(times):
        try:
            freq = inferred = calendar_freq(times)
        except ValueError as err:
            raise InputError(f"{name}: {err}") from None
    try:
        grid = step_grid(times, freq)
    except ValueError as err:
        raise InputError(f"{name}: {err}") from None
    absent = np.setdiff1d(grid, times)
    if not len(absent):  # two rows one usual step apart: nothing to insert
        return table
    refuse_finer_steps(absent, table, freq)
    if check_coarser and freq is not None and inferred is None:
        refuse_coarser_rows(times, grid, freq, name)
    values = np.full((len(grid), table.values.shape[1]), np.nan)
    values[np.searchsorted(grid, times)] = table.values
    new = absent if known is None else absent[~np.isin(absent, known.astype(absent.dtype))]
    if len(new):
        _warn_inserted(name, new, inferred)
    return replace(table, values=values, times=grid.astype(times.dtype))


def _warn_inserted(name: str, absent: np.ndarray, inferred: str | None) -> None:
    warn_user(
        f"{name}: {len(absent)} absent step(s) (the first at {show_time(absent[0])}) inserted as "
        "missing values (missing='mask'); they never enter the loss or a metric"
        + (
            f". No frequency was given: the rows present step by {inferred!r} (every row on "
            f"its grid, most one step apart), so the absent steps are its; give the frequency "
            f"({GIVE_FREQ}) if the series steps otherwise"
            if inferred
            else ""
        )
    )


def refuse_coarser_panel(tables: list[SeriesTable], freq: Freq | None, names: list[str]) -> None:
    """Refuse a given ``freq`` finer than the step every series of a panel keeps (all of them
    ``k >= 2`` steps of ``freq`` apart, :func:`refuse_coarser_rows`), named by the first."""
    if freq is None:
        return
    found = []
    for table, name in zip(tables, names, strict=True):
        times = table.times
        if times is None or len(times) < 3:
            continue
        try:
            grid = step_grid(times, freq)
        except ValueError:
            return  # off the grid: insert_absent_steps names it
        k = _row_step(times, grid)
        if k < 2:
            return
        found.append((times, grid, name))
    if found:
        times, grid, name = found[0]
        refuse_coarser_rows(times, grid, freq, name)


def _row_step(times: np.ndarray, grid: np.ndarray) -> int:
    """How many steps of ``grid`` every row is from the next (their common divisor)."""
    jumps = np.diff(np.searchsorted(grid, times))
    return int(np.gcd.reduce(jumps)) if len(jumps) >= 2 else 1


def refuse_coarser_rows(times: np.ndarray, grid: np.ndarray, freq: Freq, name: str) -> None:
    """Refuse a ``freq`` finer than the rows' own step: every row ``k >= 2`` steps of ``freq``
    (or a multiple) from the next (``freq="15min"`` on half-hourly data), where masking would
    insert ``k - 1`` absent steps between every two rows and mask most of every window."""
    k = _row_step(times, grid)
    if k < 2:
        return
    if is_integer_time(times):
        own = str(k * int(freq))
    elif isinstance(parse_freq(freq), pd.offsets.Tick):
        step = pd.Timedelta(grid[k] - grid[0])
        days = step // pd.Timedelta(days=1)
        own = f"{days if days > 1 else ''}D" if step == pd.Timedelta(days=days) else None
        own = own or to_offset(step).freqstr
    else:
        own = f"{k}{parse_freq(freq).freqstr}"
    raise InputError(
        f"{name}: every row lies {k} steps of the frequency {freq!r} (or a multiple) from the "
        f"next: the data steps by {own!r}, and missing='mask' would insert {len(grid) - len(times)} "
        f"absent steps ({k - 1} or more between every two rows), masking {k - 1} of every {k} "
        f"steps of each window. Give the data's step ({GIVE_FREQ}: {own!r}), or leave the "
        "frequency unset to have it inferred"
    )


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
