"""``evaluate``'s scores of windows given a chunk at a time (:mod:`tsfm.estimator.window_chunks`),
so that its memory does not grow with the number of windows.

Every score is a ratio of float64 sums: the sums of each chunk's windows are added to those of
the chunks before, and the ratios taken at the end. Per-series sums go on element by element
in the windows' order (``index_add_`` into the running totals), so a series' metrics are the
very ones of all its windows in one go; pooled sums add chunk totals, so pooled metrics agree
with one go to float64 rounding (about 1e-15 relative). Left-out windows
(:mod:`tsfm.estimator.scored_windows`) are counted per series over the chunks and warned about
once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.estimator.accuracy import Scores, season_length
from tsfm.estimator.interval_scores import IntervalSums, pooled_result
from tsfm.estimator.rolling import Backtest, PointErrors
from tsfm.estimator.scored_windows import (
    empty_lookbacks,
    left_counts,
    refuse_unscored,
    warn_left_windows,
    without,
)


class WindowScores:
    """The scores of windows of the series ``names``: each variate of a wide frame is one,
    or (``panel``) window ``w`` of a chunk is of series ``names[series[w]]``.
    ``pooled``, ``per_series``: which interval metrics to keep (the others are not summed)."""

    def __init__(
        self,
        est: Any,
        names: list,
        panel: bool = False,
        pooled: bool = True,
        per_series: bool = True,
    ) -> None:
        self.est, self.names, self.panel = est, list(names), panel
        self.lag = season_length(est)
        self.scores: Scores | None = None
        self.errors = PointErrors()
        self.intervals = IntervalSums(est, len(self.names), pooled, per_series)
        self.left = np.zeros(len(self.names), dtype=np.int64)  # windows left out, per series
        self.observed = False  # some window has a target to score

    def add(self, result: Backtest, series: np.ndarray | None = None) -> None:
        """A chunk of windows (``series``: each one's index into ``names``, for a panel)."""
        empty = empty_lookbacks(result)  # look-backs without an observed value: left out
        self.left += left_counts(empty, len(self.names), series)
        scored = without(result, empty)
        self.observed = self.observed or not np.isnan(scored.actual).all()
        original = (scored.forecast, scored.actual, scored.lookback)
        scaled = (scored.forecast_scaled, scored.actual_scaled, scored.lookback_scaled)
        seen, scale = scored.lookback_observed, scored.scale
        if self.scores is None:
            n = len(self.names) if self.panel else None
            self.scores = Scores(original, scaled, self.lag, series, n, seen, scale)
        else:
            self.scores.add(original, scaled, series, seen, scale)
        self.errors.add(scored)
        self.intervals.add(scored, series)

    def left_out(self, what: str = "evaluate") -> set:
        """One warning for every window left out; the names of their series."""
        return warn_left_windows(self.names, self.left, self.est.lookback_, what)

    def require_scored(self, what: str = "evaluate") -> None:
        """Refuse windows without one target to score (every target missing or left out)."""
        if not self.observed:
            refuse_unscored(what)

    def pooled(self) -> dict[str, float]:
        """``evaluate``'s pooled dict (:func:`~tsfm.estimator.interval_scores.pooled_result`)."""
        return pooled_result(self.errors.metrics(), self.intervals.pooled(), self.scores)
