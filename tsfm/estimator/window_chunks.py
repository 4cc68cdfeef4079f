"""How many windows ``evaluate`` (and the folds of a panel) forecast and score at a time.

Scoring every window of a long frame at once would hold its forecasts, actuals, look-backs
and quantiles, on both scales, for all windows together: hundreds of bytes per forecast
value, gigabytes for M4's larger groups. The windows are forecast and scored a chunk at a
time instead, their scores accumulated as float64 sums
(:class:`~tsfm.estimator.window_scores.WindowScores`), so that memory holds one chunk
whatever the number of windows (and the forecasts the caller asks back). A chunk is a whole
number of ``eval_batch_size`` batches: the model sees the very batches it would see with the
windows in one go, so the forecasts do not depend on the chunking.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CHUNK_VALUES = 1 << 18  # values (window rows x columns, and quantiles) of a chunk's arrays


def spans(n: int, size: int) -> Iterator[slice]:
    """``0 .. n`` in consecutive slices of ``size`` (the last one shorter)."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def chunk_size(est: Any, n_columns: int, n_taus: int = 0) -> int:
    """Windows per chunk for a fitted ``est`` whose windows hold ``n_columns`` columns over
    ``lookback + horizon`` rows (and ``n_taus`` quantiles per forecast value): the whole
    ``eval_batch_size`` batches that fit in :data:`CHUNK_VALUES`, at least one."""
    batch = int(est.config_.data.eval_batch_size)
    per_window = (est.lookback_ + est.horizon) * n_columns + est.horizon * n_columns * n_taus
    return max(batch, CHUNK_VALUES // max(1, per_window) // batch * batch)
