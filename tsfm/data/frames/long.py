"""Long frames: one row per (series, timestamp), a target column, time-varying covariate
columns and static columns (one value per series).

Two ways to use them, chosen by the caller's ``mode``: :func:`joint_table` aligns every series
on one time index into a wide :class:`SeriesTable` (targets: one column per series; a
covariate ``c`` of series ``s`` becomes column ``c[s]``), and :func:`series_tables` keeps each
series on its own time index (lengths and dates may differ).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from tsfm.data.frames.dates import show_time
from tsfm.data.frames.panel_freqs import refuse_offset_grids
from tsfm.data.frames.table import Layout, SeriesTable
from tsfm.data.frames.timestamp_order import duplicate_timestamp
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError


@dataclass
class LongFrame:
    """A checked long frame: rows grouped by series code, values of the target then covariates."""

    ids: list
    codes: np.ndarray  # [R] series code of each row
    times: np.ndarray  # [R]
    values: np.ndarray  # [R, V] float64
    value_columns: list[str]  # the target column(s) first
    statics: pl.DataFrame | None  # one row per series (in ``ids`` order), the static columns
    layout: Layout


def sorted_by_id(long: LongFrame, fitted: list[str] | None = None) -> LongFrame:
    """``long`` with its series in id order (as neuralforecast sorts them), so that what is
    fitted does not depend on the order of the frame's rows. ``fitted``: the series of the
    model a warm fit continues (as text), whose order is kept when it holds every series of
    ``long``: a joint model's columns are its own, and one saved before fits sorted their
    series was fitted in its frame's order."""
    names = [str(s) for s in long.ids]
    if fitted is not None and set(names) <= set(fitted):
        position = {name: k for k, name in enumerate(fitted)}
        order = np.argsort([position[name] for name in names], kind="stable")
    else:
        order = pl.Series(long.ids).arg_sort().to_numpy()
    if (order == np.arange(len(order))).all():
        return long
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    statics = None if long.statics is None else long.statics[order]
    return replace(long, ids=[long.ids[k] for k in order], codes=rank[long.codes], statics=statics)


def covariate_column(covariate: str, series: object) -> str:
    """The wide column of covariate ``covariate`` of series ``series`` in a joint table."""
    return f"{covariate}[{series}]"


def split_static_columns(
    frame: pl.DataFrame, id_col: str, static_columns: list[str]
) -> pl.DataFrame | None:
    """The static columns, one row per series (first-appearance order); each must hold one
    value per series."""
    if not static_columns:
        return None
    varying = (
        frame.group_by(id_col, maintain_order=True)
        .agg(pl.col(c).n_unique().alias(c) for c in static_columns)
        .filter(pl.any_horizontal(pl.col(c) > 1 for c in static_columns))
    )
    if varying.height:
        row = varying.row(0, named=True)
        column = next(c for c in static_columns if row[c] > 1)
        raise InputError(
            f"static covariate '{column}' changes within series {row[id_col]!r}; a static "
            "covariate has one value per series (give a changing column as a past or future "
            "covariate)"
        )
    return frame.group_by(id_col, maintain_order=True).agg(
        pl.col(c).first() for c in static_columns
    )


def joint_table(long: LongFrame, allow_missing: bool = False) -> SeriesTable:
    """Every series on one time index; a series without a row at a timestamp is refused
    unless missing values are allowed (then it is NaN there)."""
    grid, rows = np.unique(long.times, return_inverse=True)
    n_series = len(long.ids)
    counts = np.zeros((len(grid), n_series), dtype=np.int64)
    np.add.at(counts, (rows, long.codes), 1)
    if (counts > 1).any():
        t, j = (int(i) for i in np.argwhere(counts > 1)[0])
        first, second = np.flatnonzero((rows == t) & (long.codes == j))[:2]
        steps = np.diff(grid.astype("int64"))
        message = duplicate_timestamp(grid[t], int(first), int(second), steps)
        raise InputError(f"series {long.ids[j]!r}: {message}")
    blocks, columns, groups = [], [], {}
    for v, name in enumerate(long.value_columns):
        block = np.full((len(grid), n_series), np.nan)
        block[rows, long.codes] = long.values[:, v]
        blocks.append(block)
        names = list(long.ids) if v == 0 else [covariate_column(name, s) for s in long.ids]
        columns += names
        groups[name] = names
    values = np.concatenate(blocks, axis=1)
    if (counts == 0).any():  # series on grids that never meet: refused with or without mask
        refuse_offset_grids(long.ids, [grid[counts[:, j] > 0] for j in range(n_series)])
    if (counts == 0).any() and not allow_missing:
        t, j = (int(i) for i in np.argwhere(counts == 0)[0])
        raise InputError(
            f"series {long.ids[j]!r} has no row at {show_time(grid[t])} while others do; in "
            "mode='joint' the series are forecast together and must share their timestamps: "
            "use mode='independent' (data.mode=independent in the CLI; each series on its own "
            "dates), fill the gaps, or accept them as missing values (missing='mask', "
            "data.missing=mask)"
        )
    if (counts == 0).any():
        _warn_absent_rows(long.ids, grid, counts)
    return SeriesTable(values, grid, columns, long.layout, groups, long.statics)


def _warn_absent_rows(ids: list, grid: np.ndarray, counts: np.ndarray) -> None:
    """Say how many rows of each series the joint table makes missing values, and which
    series end early: the joint forecast starts after the last timestamp of any series."""
    absent = (counts == 0).sum(0)
    named = [f"{ids[j]!r}: {int(absent[j])}" for j in np.flatnonzero(absent)]
    last = len(grid) - 1 - np.argmax(counts[::-1] > 0, axis=0)  # each series' last row
    early = [
        f"{ids[j]!r} ({len(grid) - 1 - int(last[j])})" for j in np.flatnonzero(last < len(grid) - 1)
    ]
    ends = (
        f"; series ending before {show_time(grid[-1])} (steps after their last row: "
        f"{', '.join(early[:5])}{', ...' if len(early) > 5 else ''}) are forecast from that "
        "common end, their own end as missing values (mode='independent' forecasts each series "
        "from its own end)"
        if early
        else ""
    )
    warn_user(
        f"mode='joint': {int(absent.sum())} (series, timestamp) pair(s) without a row are "
        f"missing values ({', '.join(named[:5])}{', ...' if len(named) > 5 else ''}); they "
        f"never enter the loss or a metric{ends}"
    )


def series_tables(long: LongFrame) -> list[SeriesTable]:
    """One table per series (``ids`` order), each over its own sorted, checked timestamps."""
    order = np.argsort(long.codes, kind="stable")
    bounds = np.searchsorted(long.codes[order], np.arange(len(long.ids) + 1))
    tables = []
    for j, series in enumerate(long.ids):
        rows = order[bounds[j] : bounds[j + 1]]
        rows = rows[np.argsort(long.times[rows], kind="stable")]
        times = long.times[rows]
        steps = np.diff(times.astype("int64"))
        if (steps == 0).any():  # named by the caller's rows (``rows``), not the sorted ones
            k = int(np.argmax(steps == 0))
            message = duplicate_timestamp(times[k], int(rows[k]), int(rows[k + 1]), steps)
            raise InputError(f"series {series!r}: {message}")
        tables.append(SeriesTable(long.values[rows], times, list(long.value_columns), long.layout))
    return tables
