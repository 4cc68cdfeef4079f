"""What is done to a table's values before they are windowed: the check that models can
compute with them (within the square root of float32's range), the forward fill of missing values (whose positions
the masks keep), and the warning when a look-back has nothing observed of a target."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError


def carried_forward(values: np.ndarray) -> np.ndarray:
    """``values [T, C]`` with NaN replaced by its column's last observed value (NaN before the
    first): row ``t`` holds what a look-back starting at ``t + 1`` carries in."""
    rows = np.where(np.isnan(values), 0, np.arange(len(values))[:, None])
    np.maximum.accumulate(rows, axis=0, out=rows)
    return values[rows, np.arange(values.shape[1])]


def fill_forward(
    values: np.ndarray, before: np.ndarray | None = None, default: float | np.ndarray = 0.0
) -> np.ndarray:
    """NaN replaced by the last observed value of its column; before the first observation,
    by ``before`` (each column's last value before these rows, as training carried it over
    the whole series; NaN where none), else ``default``: 0, the scaled mean (the columns'
    means, ``[C]``, fill unscaled values as their scaled copies are filled)."""
    if before is not None:
        return fill_forward(np.concatenate([np.asarray(before)[None], values]), None, default)[1:]
    filled = carried_forward(values)
    return np.where(np.isnan(filled), default, filled)


def last_observed(values: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Each column's last observed value in ``values [T, C]`` (float64); where a column has
    none, ``before``'s (the last value before these rows), else NaN. Searched backwards in
    blocks that double, so a column observed near the end costs a few rows, not ``T``."""
    values = np.asarray(values)
    start = np.full(values.shape[1], np.nan) if before is None else before
    found = np.array(start, dtype=np.float64)  # a copy: columns never observed keep it
    missing = np.ones(values.shape[1], dtype=bool)
    end, block = len(values), 64
    while end > 0 and missing.any():
        first = max(0, end - block)
        columns = np.flatnonzero(missing)
        observed = ~np.isnan(values[first:end, columns])
        seen = observed.any(axis=0)
        last = end - 1 - np.argmax(observed[::-1], axis=0)  # the last observed row
        found[columns[seen]] = values[last[seen], columns[seen]]
        missing[columns[seen]] = False
        end, block = first, 2 * block
    return found


# The largest value (scaled, as the models read it) they are given: float32 holds up to
# 3.4e38, but the models square their inputs (a look-back's variance, in normalisation), and
# squares overflow float32 beyond its square root, 1.8e19: their forecasts would be NaN.
INPUT_LIMIT = math.sqrt(float(np.finfo(np.float32).max))


def _beyond(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.abs(values) > INPUT_LIMIT


def _refusal(column: Any, read: float, scaled: float | None, place: str, cli: bool) -> str:
    """Why the value ``read`` (``scaled`` once scaled; None: not scaled) of ``column`` at
    ``place`` is refused, and the fix."""
    why = (
        f"beyond {INPUT_LIMIT:.2g}, the largest value the models can compute with: they compute "
        f"in float32 (up to {float(np.finfo(np.float32).max):.2g}) and square their inputs, "
        "whose squares would overflow into NaN forecasts"
    )
    if scaled is None:
        scaling = "set data.scale=true, or rescale it" if cli else "rescale it"
        return (
            f"column {str(column)!r} holds {read:.3g} {place}, {why}; {scaling} (e.g. divide "
            "by a power of ten)"
        )
    return (
        f"column {str(column)!r} holds {read:.3g} {place}: {scaled:.3g} training standard "
        f"deviations from the training mean once scaled, {why}; fix or drop that value "
        "(dividing the column by a constant leaves its scaled value as it is), or, where the "
        "column is constant over the training rows (scaled by its own size, so a later change "
        "lands this far out), drop the column: the model cannot learn from it"
    )


def check_float32_range(
    values: np.ndarray,
    columns: list,
    scaled: bool,
    given: np.ndarray | None = None,
    when: Any = None,
) -> None:
    """Refuse a value of ``values [T, C]`` (scaled when ``scaled``; ``given``: as read) beyond
    :data:`INPUT_LIMIT`, naming its column, value and row (``when(row)``: its timestamp)."""
    huge = _beyond(values)
    if not huge.any():
        return
    row, col = (int(i) for i in np.argwhere(huge)[0])
    place = f"at row {row}" if when is None else f"at row {row} ({when(row)})"
    place += f" ({int(huge.sum())} such value(s) in all)"
    read = values[row, col] if given is None or not scaled else given[row, col]
    raise InputError(
        _refusal(columns[col], read, values[row, col] if scaled else None, place, cli=True)
    )


def refuse_overflow(
    scaled: np.ndarray, columns: list, where: Any = None, given: np.ndarray | None = None
) -> None:
    """Refuse an input ``[..., C]`` as the model reads it (scaled, unless ``given``, the values
    as read, equals it) beyond :data:`INPUT_LIMIT`, naming its column, its value and, with
    ``where(index)`` (the index of the value as a tuple), its place."""
    huge = _beyond(scaled)
    if huge.any():
        index = tuple(int(i) for i in np.argwhere(huge)[0])
        place = where(index) if where is not None else "in the input"
        read = scaled[index] if given is None else given[index]
        unscaled = given is None or read == scaled[index]
        column = columns[index[-1]]
        raise InputError(
            _refusal(column, read, None if unscaled else scaled[index], place, cli=False)
        )


def warn_unobserved(window: Any, n_targets: int) -> None:
    """Warn when one of the first ``n_targets`` columns of ``window`` (a SeriesTable: the
    look-back a forecast is made from) has no observed value: under ``missing="mask"`` its
    forecast then rests on nothing it has seen lately."""
    empty = np.isnan(window.values[:, :n_targets]).all(axis=0)
    if empty.any():
        names = [str(c) for c, e in zip(window.columns[:n_targets], empty, strict=True) if e]
        warn_empty_lookback(names, len(window))


def warn_empty_lookback(names: list, rows: int) -> None:
    """:func:`warn_unobserved`'s warning for the series ``names`` (columns, or the ids of a
    panel's series) whose look-back of ``rows`` rows observes nothing of a target."""
    warn_user(
        f"{', '.join(map(repr, names))}: no value observed in the look-back of this forecast "
        f"(the last {rows} rows), so the forecast rests on no recent observation; "
        "forecast it from where it was last observed (a frame ending there) or leave it out"
    )
