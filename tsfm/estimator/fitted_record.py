"""The record of the rows a Forecaster was fitted on, over all its fits.

A fit records, as timestamps, where its rows begin, where its validation rows begin (the
targets it validated on: early stopping and the epoch kept; none without validation) and where
they end: once for a wide frame, whose series share its rows, per series for
``mode="independent"`` (:class:`FittedRows`, with the series' ids). A warm fit
(``warm_start=True``) trains weights that have seen every earlier fit's rows, so its record
keeps the earlier fits' records beside its own: per series, the spans of every fit that held
it (:meth:`FittedRows.fits`). Saved as a list with one entry per fit; a save of one fit's
record (a mapping, without ids: the saved model's series) is still read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

TIMES = ("start", "validation", "end")


@dataclass(frozen=True, eq=False)
class FittedRows:
    """``[S]`` timestamps of each series one fit held (one for a wide frame): its first row
    (None: not recorded), its first validation row (None: no validation) and its last row;
    ``series``: their ids (None: a wide frame's rows); ``earlier``: the records of the fits a
    warm fit continued, latest first."""

    start: np.ndarray | None
    validation: np.ndarray | None
    end: np.ndarray
    series: tuple | None = None
    earlier: tuple[FittedRows, ...] = ()

    def fits(self) -> tuple[FittedRows, ...]:
        """Every fit's record, this one (the latest) first, each without ``earlier``."""
        return (replace(self, earlier=()), *self.earlier)

    def same_span(self, other: FittedRows) -> bool:
        """Whether ``other`` records the same rows of the same series (a repeated fit)."""

        def same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            return (a is None) == (b is None) and (a is None or np.array_equal(a, b))

        return (
            self.series == other.series
            and same(self.start, other.start)
            and same(self.validation, other.validation)
            and same(self.end, other.end)
        )

    def to_state(self, ids: Any = lambda series: series) -> list[dict[str, Any]]:
        """Every fit's record as JSON values (``ids``: the series ids as JSON)."""

        def ints(times: np.ndarray | None) -> list[int] | None:
            return None if times is None else np.asarray(times).astype(np.int64).tolist()

        return [
            {
                "start": ints(fit.start),
                "validation": ints(fit.validation),
                "end": ints(fit.end),
                "series": None if fit.series is None else ids(list(fit.series)),
            }
            for fit in self.fits()
        ]

    @classmethod
    def from_state(
        cls, state: list[dict[str, Any]] | dict[str, Any], dtype: np.dtype, series: list | None
    ) -> FittedRows:
        """The record :meth:`to_state` saved, or one fit's mapping saved before (its series:
        ``series``, the saved model's ids; None for a wide frame)."""

        def times(fit: dict[str, Any], key: str) -> np.ndarray | None:
            value = fit.get(key)
            return None if value is None else np.asarray(value, np.int64).astype(dtype)

        fits = [
            cls(
                times(fit, "start"),
                times(fit, "validation"),
                times(fit, "end"),
                _ids(fit.get("series", series)),
            )
            for fit in ([state] if isinstance(state, dict) else state)
        ]
        return replace(fits[0], earlier=tuple(fits[1:]))


def saved_form(state: Any, count: int, times: Callable[[Any, int], bool]) -> bool:
    """Whether ``state`` is the record of every fit (a list: start, validation and end times
    of each series the fit held, with their ids) or, saved before, one fit's (a mapping of
    ``count`` times each, without ids); ``times(value, n)``: whether value is n times."""

    def one_fit(fit: dict[str, Any], n: int) -> bool:
        return all(fit[k] is None and k != "end" or times(fit[k], n) for k in TIMES)

    if isinstance(state, dict):
        return set(state) == set(TIMES) and one_fit(state, count)
    return (
        isinstance(state, list)
        and len(state) > 0
        and all(isinstance(f, dict) and set(f) == {*TIMES, "series"} for f in state)
        and all(
            (f["series"] is None or isinstance(f["series"], list))
            and one_fit(f, count if f["series"] is None else len(f["series"]))
            for f in state
        )
    )


def _ids(series: list | None) -> tuple | None:
    return None if series is None else tuple(series)


def fitted_rows(
    times: list[np.ndarray],
    n_train: list[int],
    validate: bool,
    n_fitted: list[int] | None = None,
    series: list | None = None,
) -> FittedRows:
    """The record of series whose ``times`` were fitted: the first ``n_train`` rows of each
    trained, the rest (up to row ``n_fitted``, default all) validated when ``validate``;
    ``series``: their ids (None: a wide frame's rows)."""
    ends = [len(t) for t in times] if n_fitted is None else list(n_fitted)
    pairs = list(zip(times, n_train, ends, strict=True))
    validated = validate and all(n < end for _, n, end in pairs)
    return FittedRows(
        start=np.array([t[0] for t in times]),
        validation=np.array([t[n] for t, n, _ in pairs]) if validated else None,
        end=np.array([t[end - 1] for t, _, end in pairs]),
        series=_ids(series),
    )


def record(est: Any) -> FittedRows | None:
    """The fitted rows of ``est``: its record, else (a Forecaster saved before it was kept)
    the end of what it trained and validated on; None without timestamps. A panel's record
    names its series (a record saved without ids: ``est.series_``)."""
    rows = getattr(est, "fitted_rows_", None)
    if rows is None:
        until = getattr(est, "trained_until_", None)  # Forecaster.from_run's, saved before
        times = est.history_.times
        if until is None and times is None:
            return None
        end = until if until is not None else times[..., -1][()]
        rows = FittedRows(None, None, np.atleast_1d(np.asarray(end)))
    panel = getattr(est, "mode_", "joint") == "independent"
    if panel and rows.series is None:
        rows = replace(rows, series=tuple(est.series_))
    return rows


def merged(new: FittedRows | None, old: FittedRows | None) -> FittedRows | None:
    """The record of a warm fit: its own ``new`` rows, and the ``old`` record of the fits it
    continued (a fit of the same rows again recorded once)."""
    if new is None or old is None:
        return new if new is not None else old
    kept = tuple(fit for fit in old.fits() if not fit.same_span(new))
    return replace(new, earlier=kept)


def fitted_until(est: Any) -> dict[Any, Any]:
    """The last fitted time (training or validation) of each series over every fit: its id ->
    time, the key None for a wide frame's rows; empty without timestamps."""
    rows = record(est)
    last: dict[Any, Any] = {}
    for fit in () if rows is None else rows.fits():
        keys = fit.series if fit.series is not None else [None] * len(fit.end)
        for key, end in zip(keys, fit.end, strict=True):
            last[key] = end if key not in last else max(last[key], end)
    return last


def reached(seen: FittedRows, first: Any, last: Any, key: Any = None) -> np.ndarray:
    """Which targets, from ``first`` to ``last`` (times), forecast rows of series ``key``
    (None: a wide frame's rows) that a fit of ``seen`` held: every fit the starting weights
    went through (warm fits too)."""
    reach = np.zeros(np.shape(first), dtype=bool)
    for fit in seen.fits():
        if fit.series is None or key is None:
            at = 0 if fit.series is None and key is None else None
        else:
            at = fit.series.index(key) if key in fit.series else None
        if at is None:
            continue
        hit = first <= fit.end[at]
        if fit.start is not None:
            hit &= last >= fit.start[at]
        reach |= hit
    return reach


def fitted_targets(est: Any, times: np.ndarray | None, rows: np.ndarray, columns: list) -> Any:
    """``[*rows.shape, N]``: whether target row ``rows[...]`` (of a wide frame with timestamps
    ``times``) of each of the target ``columns`` is one a fit of ``est`` held (a fitted
    variate's row, training or validation, by timestamp; every fit a warm fit went through):
    an outcome the model was fitted or calibrated on. False for variates the model was not
    fitted on, and all False without timestamps or a record of them."""
    seen = record(est)
    fitted = {str(c) for c in est.columns_}
    held = np.array([str(c) in fitted for c in columns], dtype=bool)
    out = np.zeros((*np.shape(rows), len(columns)), dtype=bool)
    if seen is None or times is None or np.asarray(seen.end).dtype.kind != times.dtype.kind:
        return out
    stamps = times[rows]
    out[...] = reached(seen, stamps, stamps)[..., None] & held
    return out
