"""Values far outside the rest of their column's training rows (a 1e7 typed into a series
around 100): found at every fit, by the Forecaster and the command line's data layer alike.

Such a value ruins a fit silently: the scaler's mean and standard deviation are the training
rows', so one value thousands of spreads out makes the column's standard deviation thousands
of times the spread of every other value, all of which are then squashed into a sliver of the
scaled range (and the windows holding it dominate the loss, whatever the loss). A value is
*extreme* when all of these hold, per column (per series and column in a panel of
independent series), over the observed training rows:

- it lies more than :data:`ROBUST_SDS` (20) robust standard deviations from the column's
  median, the robust standard deviation being the interquartile range / 1.349 (a normal's
  standard deviation); where the quartiles tie (a column mostly of one value), the
  10 %-90 % range / 2.563, then the 1 %-99 % range / 4.653; a column all but constant
  beyond those has no robust spread and is not judged;
- such values are few: at most :data:`MOST_SHARE` (1 %) of the column's observed rows (more
  are the column's own distribution, a level shift say, not a few errors);
- together they make the column's standard deviation, which scales it, at least
  :data:`INFLATION` (3) times the standard deviation of its other values: they dominate the
  scaling. A heavy-tailed column's rare large values (electricity price spikes, Student-t
  noise) leave it within a small factor, and are not flagged.

:func:`find_extreme_values` is vectorised: one sort of each column (a panel's series padded
into rows of one array and sorted along them, or sorted by series and rank), about 0.1 s for
a column of 1,000,000 rows. The warning a fit gives of them is :mod:`tsfm.data.extreme_notes`'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

ROBUST_SDS = 20.0  # robust standard deviations from the median
MOST_SHARE = 0.01  # at most this share of a column's observed rows
INFLATION = 3.0  # they make its standard deviation at least this many times the others'
KEPT = 1000  # at most this many are recorded (the farthest out first)
# (lower quantile, the normal's distance between it and its mirror, in standard deviations)
SPREADS = ((0.25, 1.349), (0.10, 2.563), (0.01, 4.653))


def find_extreme_values(
    blocks: Sequence[np.ndarray],
    columns: Sequence[Any],
    times: Sequence[np.ndarray | None],
    series: Sequence[Any] | None = None,
    show_time: Callable[[Any], str] = str,
    labels: Sequence[tuple[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The extreme values (see the module docstring) of ``blocks``: each series' training
    rows ``[T_i, C]`` (one block for one table), its ``times`` (None: the row numbers), the
    ``series`` ids of a panel of independent series. ``labels``: each column's (name, series)
    where a joint table's columns are series (a long frame's ``y`` of series ``A``).

    Returns one record per value, the farthest out first (at most :data:`KEPT`): its
    ``column``, ``series`` (None for one series), ``time`` (``show_time``'s text), ``value``,
    the column's ``median`` and ``robust_sd`` and the value's ``robust_sds`` from the median,
    and ``std_ratio``: the column's standard deviation with the extreme values against
    without them."""
    kept = [i for i, b in enumerate(blocks) if len(b)]  # a series without training rows: none
    blocks = [np.asarray(blocks[i], dtype=np.float64) for i in kept]
    times = [times[i] for i in kept]
    series = None if series is None else [series[i] for i in kept]
    if not blocks or blocks[0].shape[1] == 0:
        return []
    values = np.concatenate(blocks)
    lengths = np.array([len(b) for b in blocks])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    group = np.repeat(np.arange(len(blocks)), lengths)
    found = []
    for c in range(values.shape[1]):
        x = values[:, c]
        candidate = far_out(x, group, starts, lengths)
        if candidate is None:
            continue
        far, median, scale = candidate
        for g in np.unique(group[far]):
            rows = slice(starts[g], starts[g] + lengths[g])
            found += judged(x[rows], far[rows], median[g], scale[g], c, g)
    found.sort(key=lambda f: -f[2])
    records = []
    for c, g, sds, row, median, scale, ratio in found[:KEPT]:
        name, of = labels[c] if labels is not None else (columns[c], None)
        if series is not None:
            of = series[g]
        when = times[g][row] if times[g] is not None else row
        records.append(
            {
                "column": str(name),
                "series": json_id(of),
                "time": show_time(when),
                "value": float(blocks[g][row, c]),
                "median": float(median),
                "robust_sd": float(scale),
                "robust_sds": float(sds),
                "std_ratio": float(ratio),
            }
        )
    return records


def json_id(value: Any) -> str | int | None:
    """A series id as JSON holds it: a string or an integer as it is (NumPy's as Python's),
    any other id as its text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | int) and not isinstance(value, bool):
        return value
    return str(value)


def table_extreme_values(table: Any, rows: slice) -> list[dict[str, Any]]:
    """:func:`find_extreme_values` of a :class:`~tsfm.data.frames.SeriesTable`'s training
    ``rows``: its timestamps on its clock, a long frame's columns named by column and series."""
    from tsfm.data.frames.dates import show_time

    labels = None
    if table.groups and table.layout is not None and table.layout.target_col in table.groups:
        ids = table.groups[table.layout.target_col]
        named = {
            str(c): (name, s)
            for name, cols in table.groups.items()
            for s, c in zip(ids, cols, strict=True)
        }
        labels = [named.get(str(c), (str(c), None)) for c in table.columns]
    times = None if table.times is None else table.times[rows]
    return find_extreme_values(
        [table.values[rows]], table.columns, [times], None,
        lambda t: show_time(t, table.tz), labels,
    )  # fmt: skip


def panel_extreme_values(
    values: Sequence[np.ndarray], n_train: Sequence[int], columns: Sequence[Any],
    times: Sequence[np.ndarray | None], series: Sequence[Any], layout: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """:func:`find_extreme_values` of a panel of independent series: each series' first
    ``n_train`` rows, its timestamps on the data's clock (``layout``'s time zone)."""
    from tsfm.data.frames.dates import show_time

    kind = (layout.time_type if layout is not None else None) or {}
    tz = None if kind.get("wall") else kind.get("tz")
    return find_extreme_values(
        [v[:n] for v, n in zip(values, n_train, strict=True)],
        columns,
        [None if t is None else t[:n] for t, n in zip(times, n_train, strict=True)],
        series,
        lambda t: show_time(t, tz),
    )


def far_out(
    x: np.ndarray, group: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Whether each row lies beyond :data:`ROBUST_SDS` robust standard deviations from its
    series' median (never where the series has no robust spread), each series' median and
    robust standard deviation; None where no row does."""
    ordered, base = grouped_sort(x, group, starts, lengths)
    observed = np.add.reduceat(~np.isnan(x), starts)
    last = base + np.maximum(observed, 1) - 1

    def quantile(q: float) -> np.ndarray:
        at = base + (q * (np.maximum(observed, 1) - 1)).astype(np.int64)
        return ordered[np.minimum(at, last)]

    median = (quantile(0.5) + ordered[np.minimum(base + observed // 2, last)]) / 2
    scale = np.zeros(len(starts))
    for low, width in SPREADS:
        spread = (quantile(1 - low) - quantile(low)) / width
        scale = np.where(scale > 0, scale, spread)
    scale = np.where(observed > 0, scale, 0.0)
    if not (scale > 0).any():
        return None
    reach = np.where(scale > 0, ROBUST_SDS * scale, np.inf)
    low, high = median - reach, median + reach
    if len(starts) > 1:  # per row
        low, high = np.repeat(low, lengths), np.repeat(high, lengths)
    far = (x < low) | (x > high)  # NaN: neither
    return (far, median, scale) if far.any() else None


def grouped_sort(
    x: np.ndarray, group: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` sorted within each series (rows grouped by series, in order), NaN last, flat, and
    where each series' values begin in it. One series: one sort; series of similar lengths:
    one sort of them padded into rows of the longest; others: one sort of the values and one
    of (series, rank) as integers (``np.lexsort`` is several times slower than either)."""
    if len(starts) == 1:
        return np.sort(x), starts
    longest = int(lengths.max())
    if len(starts) * longest <= 4 * len(x):
        padded = np.full((len(starts), longest), np.nan)
        padded[group, np.arange(len(x)) - starts[group]] = x
        return np.sort(padded, axis=1).ravel(), np.arange(len(starts)) * longest
    order = np.argsort(x)  # NaN last
    rank = np.empty(len(x), dtype=np.int64)
    rank[order] = np.arange(len(x))
    key = np.sort(group.astype(np.int64) * len(x) + rank)
    return x[order[key % len(x)]], starts


def judged(
    x: np.ndarray, far: np.ndarray, median: float, scale: float, column: int, series: int
) -> list[tuple]:
    """One series' column's values beyond :data:`ROBUST_SDS` (``far``), if few and dominating
    its standard deviation (see the module docstring); as ``(column, series, robust sds, row,
    median, robust sd, std ratio)``."""
    observed = int((~np.isnan(x)).sum())
    if far.sum() > max(1, MOST_SHARE * observed) or far.sum() >= observed - 1:
        return []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = np.nanstd(x) / np.nanstd(np.where(far, np.nan, x))
    if not ratio >= INFLATION:  # NaN: no spread at all
        return []
    rows = np.flatnonzero(far)
    sds = np.abs(x[rows] - median) / scale
    return [
        (column, series, float(d), int(r), median, scale, float(ratio))
        for d, r in zip(sds, rows, strict=True)
    ]
