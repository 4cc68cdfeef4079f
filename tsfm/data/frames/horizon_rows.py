"""Rows of the forecast horizon given as history: the habit (neuralforecast's) of appending the
horizon's rows, target empty and covariates filled in, to the frame a forecast is made from.

tsfm forecasts the ``horizon`` steps after a frame's last row and reads the future covariates
of those steps from ``future_df``. With missing values refused (the default), a long frame
whose series end in rows without a target is refused naming those rows and where they
belong (:func:`refuse_horizon_rows`; a wide frame whose targets all end in such rows while
its covariates have values there: :func:`refuse_table_horizon_rows`); under ``missing="mask"`` they would be masked history,
so a forecast from such a frame starts after them and is warned about
(:func:`warn_horizon_rows`: a joint table when no target is observed at its last row or one
series ends in ``horizon`` or more such rows where its own covariates have values, a panel
series when its own last row has no target).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tsfm.data.frames.dates import show_time
from tsfm.data.frames.table import SeriesTable
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError

BELONG = (
    "rows of the forecast horizon belong in future_df (predict(df, future_df=...), with the "
    "future covariates' values over the horizon; make_future_dataframe(df) lays it out), not "
    "in df, whose last row is the forecast origin: end df at the last observed target"
)
MASK_FIX = (
    "fill or interpolate missing values, drop those rows, or let tsfm mask them "
    "(missing='mask' in Python, data.missing=mask in the CLI)"
)


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def trailing_missing(values: np.ndarray) -> np.ndarray:
    """How many of the last rows of each column of ``values [T, C]`` are missing (NaN) in a
    row; 0 for a column with no observed value (nothing trails an observation there)."""
    observed = ~np.isnan(values)
    last = len(values) - 1 - np.argmax(observed[::-1], axis=0)  # each column's last observed
    return np.where(observed.any(axis=0), len(values) - 1 - last, 0)


def _series_runs(ids: pl.Series, times: np.ndarray, target: np.ndarray) -> list[tuple]:
    """``(id, rows, first time)`` of every series whose last rows (in time order) have no
    target, after an observed one; in the order of the series' first rows."""
    codes = ids.rank("dense").to_numpy().astype(np.int64) - 1
    order = np.lexsort((times, codes))
    sorted_codes, missing = codes[order], np.isnan(target[order])
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    ends = np.r_[starts[1:], len(order)]
    seen = np.where(missing, -1, np.arange(len(order)))
    last_seen = np.maximum.reduceat(seen, starts)
    runs = []
    for start, end, last in zip(starts, ends, last_seen, strict=True):
        if start <= last < end - 1:
            first = order[last + 1]  # the series' first trailing row, in the frame's rows
            runs.append((int(order[start:end].min()), ids[int(first)], end - 1 - last, first))
    return [(name, int(rows), times[first]) for _, name, rows, first in sorted(runs)]


def refuse_horizon_rows(ids: pl.Series, times: np.ndarray, target: np.ndarray, name: str) -> None:
    """Refuse a long frame (missing values refused) whose series end in rows without a target
    (``target``, column ``name``; one id and time per row), saying where horizon rows belong
    before the options for missing history."""
    if not np.isnan(target).any():
        return
    runs = _series_runs(ids, times, target)
    if not runs:
        return
    listed = ", ".join(f"{s!r} ({_rows(n)} from {show_time(t)})" for s, n, t in runs[:5])
    more = f" and {len(runs) - 5} more series" if len(runs) > 5 else ""
    raise InputError(
        f"column '{name}' has no value in the last rows of series {listed}{more} "
        f"({int(np.isnan(target).sum())} NaN/missing value(s) in '{name}' in all): {BELONG}. "
        f"If those rows are history, {MASK_FIX}"
    )


def refuse_table_horizon_rows(table: SeriesTable, covariates: list[str]) -> None:
    """Refuse a wide table (missing values refused) whose targets (the columns not in
    ``covariates``) all end in rows without a value while covariates have values there: the
    horizon's rows given as history, told where they belong before the options for missing
    history."""
    named = {str(c) for c in covariates}
    targets = [j for j, c in enumerate(table.columns) if str(c) not in named]
    others = [j for j in range(len(table.columns)) if j not in targets]
    if not others or not targets:
        return
    trailing = int(trailing_missing(table.values[:, targets]).min())  # rows no target has
    if not trailing or np.isnan(table.values[-trailing:, others]).all():
        return
    first = len(table) - trailing
    when = "" if table.times is None else f", {show_time(table.times[first], table.tz)}"
    raise InputError(
        f"the target column(s) {[table.columns[j] for j in targets]} have no value in the last "
        f"{_rows(trailing)} of the frame (from row {first}{when}), where the covariates have "
        f"values: {BELONG}. If those rows are history, {MASK_FIX}"
    )


def warn_horizon_rows(names: list, counts: np.ndarray, end: str) -> None:
    """Warn, under ``missing="mask"``, that the series ``names`` end in ``counts`` rows without a
    target: the forecast starts after the frame's last row (``end``), not after them."""
    ending = [(n, int(c)) for n, c in zip(names, counts, strict=True) if c > 0]
    if not ending:
        return
    listed = ", ".join(f"{n!r} (its last {'row' if c == 1 else _rows(c)})" for n, c in ending[:5])
    more = f" and {len(ending) - 5} more series" if len(ending) > 5 else ""
    warn_user(
        f"series {listed}{more} end without a target value: under missing='mask' those rows "
        f"are masked history, so the forecast starts after {end}, not after the last observed "
        f"target; {BELONG}"
    )


def _own_covariates(table: SeriesTable, n_targets: int) -> list[list[int]]:
    """For each of a joint long table's targets, the positions of its own covariate columns
    (one per non-target group of ``table.groups``); empty lists for a table without groups."""
    columns = [str(c) for c in table.columns]
    position = {c: j for j, c in enumerate(columns)}
    targets = columns[:n_targets]
    target_groups = [g for g in (table.groups or {}).values() if str(g[0]) in set(targets)]
    if not target_groups:
        return [[] for _ in targets]
    order = [str(c) for c in target_groups[0]]  # the series' order in every group
    own: list[list[int]] = [[] for _ in targets]
    for group in (table.groups or {}).values():
        if group is target_groups[0] or len(group) != len(order):
            continue
        for k, column in enumerate(group):
            if order[k] in position and str(column) in position:
                own[position[order[k]]].append(position[str(column)])
    return own


def warn_table_horizon_rows(table: SeriesTable, n_targets: int, horizon: int) -> None:
    """:func:`warn_horizon_rows` for a joint table (its first ``n_targets`` columns the
    targets) when none of its targets is observed at its last row, or when one series of a
    long frame ends in at least ``horizon`` rows without a target while its own covariates
    have values there: rows given without a target (one masked value, or a short run of them,
    is ordinary masked history). A series that merely ends before the others (its last steps
    absent while others have rows, its covariates empty there too) is not warned about here
    but as the frame is read."""
    trailing = trailing_missing(table.values[:, :n_targets])
    if trailing.min() == 0:  # some target observed at the last row: look for one series' run
        own = _own_covariates(table, n_targets)
        for j, (count, columns) in enumerate(zip(trailing, own, strict=True)):
            rows = table.values[len(table) - count :, columns] if count else None
            if count < horizon or not columns or np.isnan(rows).all():
                trailing[j] = 0
    if trailing.max() > 0:
        end = "the frame's last row"
        end += "" if table.times is None else f" ({show_time(table.times[-1], table.tz)})"
        warn_horizon_rows(table.columns[:n_targets], trailing, end)
