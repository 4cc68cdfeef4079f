"""The warning when ``evaluate`` scores rows a Forecaster was fitted on.

``evaluate`` compares each window's target span with its series' fitted rows in every fit's
record (:mod:`tsfm.estimator.fitted_record`: a warm fit's weights have seen the rows of the
fits before it too; two comparisons per window and fit, never row by row) and warns with
:class:`~tsfm.data.user_warnings.InSampleWarning` when some windows forecast fitted rows:
their scores measure how well the model fits what it was trained on. A Forecaster saved
before the record was kept is compared with the end of its fitted rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import InSampleWarning, warn_user
from tsfm.estimator.fitted_record import FittedRows, fitted_until, record

SILENCE = "warnings.filterwarnings('ignore', category=tsfm.InSampleWarning)"


def warn_in_sample(
    est: Any,
    first: np.ndarray,
    last: np.ndarray,
    series_in: Callable[[FittedRows], np.ndarray],
    tz: str | None = None,
) -> None:
    """Warn when windows forecast rows ``est`` was fitted on: window ``w``'s targets span
    ``first[w]`` .. ``last[w]``; ``series_in(fit)[w]``: its series' index in one fit's record
    (-1: a series that fit did not hold)."""
    rows = record(est)
    if rows is None or not len(first):
        return
    fits = rows.fits()
    overlap, reach = np.zeros(len(first), dtype=bool), {}
    for fit in fits:
        at = series_in(fit)
        held = at >= 0
        at = np.where(held, at, 0)
        hit = held & (first <= fit.end[at])
        if fit.start is not None:
            hit &= last >= fit.start[at]
        overlap |= hit
        for kind, mask in _reached(fit, hit, first, last, at):
            reach[kind] = reach.get(kind, False) | mask
    if not overlap.any():
        return
    wide = len(rows.end) == 1 and rows.series is None
    which = _which(fits, {k: int(m.sum()) for k, m in reach.items()}, wide, tz)
    ends = fitted_until(est)
    after = (
        f"the rows after {show_time(ends[None], tz)}"
        if wide
        else "each series' rows after its last fitted one"
    )
    warn_user(
        f"evaluate: {int(overlap.sum())} of {len(first)} windows forecast rows the model was "
        f"fitted on (the same series and timestamps): {which}. Their scores measure its fit to "
        f"data it has seen, not its forecasts. To score held-out data, pass only {after} and "
        f"the lookback ({est.lookback_}) rows before them; for in-sample scores on purpose, "
        f"silence this with {SILENCE}",
        InSampleWarning,
    )


def _reached(fit: FittedRows, hit: np.ndarray, first, last, at) -> list[tuple[str, np.ndarray]]:
    """The windows ``hit`` that reach one fit's training rows, its validation rows, or (a
    record saved with its end only) either."""
    if fit.start is None:
        return [("either", hit)]
    if fit.validation is None:
        return [("training", hit)]
    validation = fit.validation[at]
    return [("training", hit & (first < validation)), ("validation", hit & (last >= validation))]


def _which(fits: tuple[FittedRows, ...], counts: dict[str, int], wide: bool, tz) -> str:
    """Which fitted rows the windows reach: training and validation rows, with their dates
    for a wide frame; over every fit's rows after warm fits."""
    one = fits[0] if len(fits) == 1 else None
    dated = wide and one is not None

    def span(since: Any, until: Any) -> str:
        return f" ({show_time(since, tz)} to {show_time(until, tz)})" if dated else ""

    if set(counts) == {"either"} and one is not None:  # saved before the record: its end only
        until = f" up to {show_time(one.end[0], tz)}" if wide else ""
        return f"they reach its training or validation rows{until}"
    if set(counts) == {"training"} and one is not None:
        return f"they reach the rows it trained on{span(one.start[0], one.end[0])}"
    parts = []
    if counts.get("training"):
        since = f" (from {show_time(one.start[0], tz)})" if dated else ""
        parts.append(f"{counts['training']} reach its training rows{since}")
    if counts.get("validation"):
        dates = span(one.validation[0], one.end[0]) if dated else ""
        parts.append(
            f"{counts['validation']} reach its validation rows{dates}, on which the fit chose "
            "the epoch it kept (early stopping)"
        )
    if counts.get("either"):
        parts.append(f"{counts['either']} reach its training or validation rows")
    if one is None:
        parts.append(
            f"over its {len(fits)} fits (a warm fit trains further on new rows){_spans(fits, wide, tz)}"
        )
    return ", ".join(parts)


def _spans(fits: tuple[FittedRows, ...], wide: bool, tz) -> str:
    """A wide frame's fitted rows per fit, earliest first: `` (a to b; c to d)``."""
    if not wide:
        return ""
    spans = sorted(
        (fit.end[0] if fit.start is None else fit.start[0], fit.start is not None, fit.end[0])
        for fit in fits
    )
    shown = [
        f"{show_time(s, tz)} to {show_time(e, tz)}" if known else f"up to {show_time(e, tz)}"
        for s, known, e in spans
    ]
    return f" ({'; '.join(shown)})"


def check_windows(est: Any, table: Any, origins: np.ndarray, columns: list) -> None:
    """:func:`warn_in_sample` for the windows of a wide ``table`` whose first targets are at
    rows ``origins``, forecasting ``columns`` (none of the fitted ones: nothing to warn of)."""
    fitted = {str(c) for c in est.columns_}
    if table.times is None or not any(str(c) in fitted for c in columns):
        return
    first, last = table.times[origins], table.times[origins + est.horizon - 1]
    every = np.zeros(len(origins), dtype=np.int64)  # a wide frame's one span per fit
    warn_in_sample(est, first, last, lambda fit: every, table.tz)


def check_panel_windows(
    est: Any, ids: list, series: np.ndarray, first: np.ndarray, last: np.ndarray
) -> None:
    """:func:`warn_in_sample` for panel windows: window ``w`` of series ``ids[series[w]]``,
    its targets from ``first[w]`` to ``last[w]`` (timestamps)."""
    series = np.asarray(series, dtype=np.int64)

    def series_in(fit: FittedRows) -> np.ndarray:
        position = {s: j for j, s in enumerate(fit.series or ())}
        return np.array([position.get(s, -1) for s in ids], dtype=np.int64)[series]

    warn_in_sample(est, first, last, series_in)
