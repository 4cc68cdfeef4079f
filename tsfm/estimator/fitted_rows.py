"""The rows a Forecaster was fitted on, and the warning when ``evaluate`` scores them.

A fit records, as timestamps, where its rows begin, where its validation rows begin (the
targets it validated on: early stopping and the epoch kept; none without validation) and where
they end: once for a wide frame, whose series share its rows, per series for
``mode="independent"`` (:class:`FittedRows`). ``evaluate`` compares each window's target span
with its series' (two comparisons per window, never row by row) and warns with
:class:`~tsfm.data.user_warnings.InSampleWarning` when some windows forecast fitted rows:
their scores measure how well the model fits what it was trained on. A Forecaster saved
before the record was kept is compared with the end of its fitted rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import InSampleWarning, warn_user

SILENCE = "warnings.filterwarnings('ignore', category=tsfm.InSampleWarning)"


@dataclass(frozen=True)
class FittedRows:
    """``[S]`` timestamps of each fitted series (one for a wide frame): its first row (None:
    not recorded), its first validation row (None: no validation) and its last row."""

    start: np.ndarray | None
    validation: np.ndarray | None
    end: np.ndarray

    def to_dict(self) -> dict[str, list[int] | None]:
        def ints(times: np.ndarray | None) -> list[int] | None:
            return None if times is None else np.asarray(times).astype(np.int64).tolist()

        return {
            "start": ints(self.start),
            "validation": ints(self.validation),
            "end": ints(self.end),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any], dtype: np.dtype) -> FittedRows:
        def times(key: str) -> np.ndarray | None:
            value = state.get(key)
            return None if value is None else np.asarray(value, np.int64).astype(dtype)

        return cls(times("start"), times("validation"), times("end"))


def fitted_rows(
    times: list[np.ndarray],
    n_train: list[int],
    validate: bool,
    n_fitted: list[int] | None = None,
) -> FittedRows:
    """The record of series whose ``times`` were fitted: the first ``n_train`` rows of each
    trained, the rest (up to row ``n_fitted``, default all) validated when ``validate``."""
    ends = [len(t) for t in times] if n_fitted is None else list(n_fitted)
    pairs = list(zip(times, n_train, ends, strict=True))
    validated = validate and all(n < end for _, n, end in pairs)
    return FittedRows(
        start=np.array([t[0] for t in times]),
        validation=np.array([t[n] for t, n, _ in pairs]) if validated else None,
        end=np.array([t[end - 1] for t, _, end in pairs]),
    )


def record(est: Any) -> FittedRows | None:
    """The fitted rows of ``est``: its record, else (a Forecaster saved before it was kept)
    the end of what it trained and validated on; None without timestamps."""
    rows = getattr(est, "fitted_rows_", None)
    if rows is not None:
        return rows
    from tsfm.estimator.backtests import last_trained

    end = last_trained(est)
    return None if end is None else FittedRows(None, None, np.atleast_1d(np.asarray(end)))


def warn_in_sample(
    est: Any,
    first: np.ndarray,
    last: np.ndarray,
    series: np.ndarray,
    tz: str | None = None,
) -> None:
    """Warn when windows forecast rows ``est`` was fitted on: window ``w``'s targets span
    ``first[w]`` .. ``last[w]`` of fitted series ``series[w]`` (an index into the record;
    -1: a series the model was not fitted on)."""
    rows = record(est)
    if rows is None or not len(first):
        return
    fitted = series >= 0
    at = np.where(fitted, series, 0)
    start = None if rows.start is None else rows.start[at]
    overlap = fitted & (first <= rows.end[at])
    if start is not None:
        overlap &= last >= start
    if not overlap.any():
        return
    which = _which(rows, overlap, first, last, at, tz)
    panel = len(rows.end) > 1
    after = (
        "each series' rows after its last fitted one"
        if panel
        else f"the rows after {show_time(rows.end[0], tz)}"
    )
    warn_user(
        f"evaluate: {int(overlap.sum())} of {len(first)} windows forecast rows the model was "
        f"fitted on (the same series and timestamps): {which}. Their scores measure its fit to "
        f"data it has seen, not its forecasts. To score held-out data, pass only {after} and "
        f"the lookback ({est.lookback}) rows before them; for in-sample scores on purpose, "
        f"silence this with {SILENCE}",
        InSampleWarning,
    )


def _which(rows: FittedRows, overlap, first, last, at, tz) -> str:
    """Which fitted rows the windows reach: training and validation rows, with their dates
    for a wide frame."""
    wide = len(rows.end) == 1

    def span(since: Any, until: Any) -> str:
        return f" ({show_time(since, tz)} to {show_time(until, tz)})" if wide else ""

    if rows.start is None:  # saved before the record: only the end is known
        until = f" up to {show_time(rows.end[0], tz)}" if wide else ""
        return f"they reach its training or validation rows{until}"
    if rows.validation is None:
        return f"they reach the rows it trained on{span(rows.start[0], rows.end[0])}"
    validation = rows.validation[at]
    training = int((overlap & (first < validation)).sum())
    validated = int((overlap & (last >= validation)).sum())
    parts = []
    if training:
        since = f" (from {show_time(rows.start[0], tz)})" if wide else ""
        parts.append(f"{training} reach its training rows{since}")
    if validated:
        dates = span(rows.validation[0], rows.end[0])
        parts.append(
            f"{validated} reach its validation rows{dates}, on which the fit chose the epoch "
            "it kept (early stopping)"
        )
    return ", ".join(parts)


def check_windows(est: Any, table: Any, origins: np.ndarray, columns: list) -> None:
    """:func:`warn_in_sample` for the windows of a wide ``table`` whose first targets are at
    rows ``origins``, forecasting ``columns`` (none of the fitted ones: nothing to warn of)."""
    fitted = {str(c) for c in est.columns_}
    if table.times is None or not any(str(c) in fitted for c in columns):
        return
    first, last = table.times[origins], table.times[origins + est.horizon - 1]
    warn_in_sample(est, first, last, np.zeros(len(origins), dtype=np.int64), table.tz)


def check_panel_windows(est: Any, ids: list, series: np.ndarray, stamps: np.ndarray) -> None:
    """:func:`warn_in_sample` for panel windows: window ``w`` of series ``ids[series[w]]``,
    its timestamps ``stamps[w]`` (look-back, then horizon)."""
    position = {s: j for j, s in enumerate(est.series_ or [])}
    fitted = np.array([position.get(s, -1) for s in ids], dtype=np.int64)
    first, last = stamps[:, est.lookback], stamps[:, -1]
    warn_in_sample(est, first, last, fitted[np.asarray(series, dtype=np.int64)])
