"""Windows over a panel of univariate series of different lengths (the M4 short-term task).

Training (``M4TrainWindows``): one sample per series per epoch, cut at a random point within
the last ``history_size x horizon`` points of the series; the look-back is the ``seq_len``
points before the cut (zero-padded on the left, ``x_mask`` 0 there) and the target the
``pred_len`` points from the cut on (zero-padded past the end, ``y_mask`` 0 there). This is
TSLib's ``Dataset_M4`` sampler (from N-BEATS), with the target aligned to the cut point even
for cuts closer than ``pred_len`` to the start of a series (TSLib shifts those).

Evaluation (``M4ForecastWindows``): one sample per series, the last ``seq_len`` points of its
history and the horizon that follows.

Batches are :class:`~tsfm.data.batch.Batch` dicts: ``x [B, L, 1]``, ``y [B, H, 1]``, plus
``x_mask [B, L, 1]`` and ``y_mask [B, H, 1]``. Evaluation batches carry ``index [B]``, the
series' row in the file, which names their one fixed window (a valid cache key), and the
values as read (``x_original``, ``y_original``, float64). Training windows are drawn afresh
every pass, so they have no stable position: their batches carry
``series [B]`` (the row) instead of ``index``, and a model that caches per-``index``
features (TimesCLIP's image view) computes them on the fly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from tsfm.data.batch import Batch
from tsfm.data.draws import SampleDraws
from tsfm.errors import InputError


class RaggedSeries:
    """Series of different lengths stored in one flat tensor (float32: the models')."""

    def __init__(self, series: Sequence[np.ndarray], dtype: type = np.float32):
        if not len(series):
            raise InputError("no series")
        self.lengths = torch.tensor([len(s) for s in series], dtype=torch.long)
        self.offsets = torch.cumsum(self.lengths, 0) - self.lengths
        self.values = torch.from_numpy(np.concatenate(series).astype(dtype))

    def __len__(self) -> int:
        return len(self.lengths)

    def before(self, rows: Tensor, cuts: Tensor, size: int) -> tuple[Tensor, Tensor]:
        """``series[cut - size : cut]`` of each row, right-aligned: values and mask ``[B, size]``."""
        position = cuts[:, None] - size + torch.arange(size)
        valid = position >= 0
        flat = self.offsets[rows][:, None] + position.clamp(min=0)
        return torch.where(valid, self.values[flat], 0.0), valid.float()

    def after(self, rows: Tensor, cuts: Tensor, size: int) -> tuple[Tensor, Tensor]:
        """``series[cut : cut + size]`` of each row, left-aligned: values and mask ``[B, size]``."""
        length = self.lengths[rows][:, None]
        position = cuts[:, None] + torch.arange(size)
        valid = position < length
        flat = self.offsets[rows][:, None] + torch.minimum(position, length - 1)
        return torch.where(valid, self.values[flat], 0.0), valid.float()


def windows_at(
    ragged: RaggedSeries, rows: Tensor, cuts: Tensor, seq_len: int, pred_len: int
) -> Batch:
    """The batch for cut points ``cuts [B]`` of series ``rows [B]`` (see the module docstring)."""
    x, x_mask = ragged.before(rows, cuts, seq_len)
    y, y_mask = ragged.after(rows, cuts, pred_len)
    return Batch(
        x=x[..., None],
        y=y[..., None],
        x_mask=x_mask[..., None],
        y_mask=y_mask[..., None],
        series=rows,
    )


class M4TrainWindows(Dataset):
    """Random training windows, ``samples_per_series`` per series per epoch (TSLib: 1, so
    ``len`` = number of series; sample ``i`` belongs to series ``i % n_series``).

    Cut points are drawn uniformly from ``[max(1, n - limit), n)`` for a series of ``n``
    points, ``limit = int(history_size * pred_len)``: at least one target point always
    exists, and at least one look-back point. A sample's cut follows from the pass's seed and
    the sample's index (``draws``, a :class:`~tsfm.data.draws.SampleDraws`), in whichever
    process reads it.
    """

    def __init__(
        self,
        series: Sequence[np.ndarray],
        seq_len: int,
        pred_len: int,
        history_size: float,
        samples_per_series: int = 1,
    ):
        if history_size <= 0:
            raise InputError(f"history_size must be positive, got {history_size}")
        if samples_per_series < 1:
            raise InputError(f"samples_per_series must be >= 1, got {samples_per_series}")
        self.samples_per_series = samples_per_series
        self.ragged = RaggedSeries(series)
        short = int((self.ragged.lengths < 2).sum())
        if short:
            raise InputError(
                f"{short} training series have fewer than 2 points (one to look back on, one "
                "to forecast); remove them or use validation=test, which keeps whole series"
            )
        self.seq_len, self.pred_len = seq_len, pred_len
        limit = int(history_size * pred_len)
        self.low = (self.ragged.lengths - limit).clamp(min=1)
        self.high = self.ragged.lengths  # exclusive
        self.draws = SampleDraws()

    def __len__(self) -> int:
        return len(self.ragged) * self.samples_per_series

    def draw_cuts(self, indices: Tensor) -> Tensor:
        """The cut point of each sample of ``indices`` (in series ``index % n_series``)."""
        rows = indices % len(self.ragged)
        low, high = self.low[rows], self.high[rows]
        drawn = (self.draws.uniforms(indices) * (high - low)).long()
        return low + drawn.clamp(max=high - low - 1)

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        rows = index % len(self.ragged)
        return windows_at(self.ragged, rows, self.draw_cuts(index), self.seq_len, self.pred_len)

    def __getitem__(self, index: int) -> Batch:
        return Batch(**{k: v[0] for k, v in self.__getitems__([index]).items()})


class M4ForecastWindows(Dataset):
    """The last look-back window of every history and the horizon after it (also as read,
    in float64: ``x_original``, ``y_original``)."""

    def __init__(self, histories: Sequence[np.ndarray], targets: np.ndarray, seq_len: int):
        if len(histories) != len(targets):
            raise InputError(f"{len(histories)} histories for {len(targets)} targets")
        ragged = RaggedSeries(histories, np.float64)
        rows = torch.arange(len(ragged))
        x, x_mask = ragged.before(rows, ragged.lengths, seq_len)
        self.x_original, self.x_mask = x[..., None], x_mask[..., None]
        self.y_original = torch.as_tensor(np.asarray(targets, dtype=np.float64))[..., None]
        self.x, self.y = self.x_original.float(), self.y_original.float()
        self.y_mask = torch.ones_like(self.y)

    def __len__(self) -> int:
        return len(self.x)

    def rolling_origin(self, n_windows: int, step: int) -> list[int]:
        """Every series' one window: an M4 evaluation set has no older windows."""
        if n_windows != 1:
            raise InputError(
                "an M4 validation set holds one window per series (its last horizon), so "
                f"conformal.windows must be 1 (the scores pool over the series), not {n_windows}"
            )
        return list(range(len(self)))

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        rows = torch.as_tensor(indices, dtype=torch.long)
        return Batch(
            x=self.x[rows],
            y=self.y[rows],
            x_mask=self.x_mask[rows],
            y_mask=self.y_mask[rows],
            index=rows,
            x_original=self.x_original[rows],
            y_original=self.y_original[rows],
        )

    def __getitem__(self, index: int) -> Batch:
        return Batch(**{k: v[0] for k, v in self.__getitems__([index]).items()})
