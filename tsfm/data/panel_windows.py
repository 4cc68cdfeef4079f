"""The windows of a panel of independent series (:class:`~tsfm.data.panel.PanelDataModule`):
each sample is one series' look-back and horizon, gathered from flat storage where every
series is preceded by ``L`` padded rows (value 0, mask 0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from tsfm.data.batch import Batch
from tsfm.errors import InputError


class PanelWindows(Dataset):
    """Windows ``(series, cut)``: look-back rows ``[cut - L, cut)``, horizon ``[cut, cut + H)``
    of each series, over flat storage where every series is preceded by ``L`` padded rows;
    ``originals`` (evaluation windows): batches carry the targets as read (the storage's
    ``originals``) as ``x_original`` and ``y_original``."""

    def __init__(
        self,
        storage: dict[str, Any],
        cuts: np.ndarray,
        series: np.ndarray,
        originals: bool = False,
    ):
        self.s, self.cuts, self.series = storage, torch.as_tensor(cuts), torch.as_tensor(series)
        self.originals = originals
        lookback, horizon = storage["seq_len"], storage["pred_len"]
        self._x = torch.arange(lookback)
        self._all = torch.arange(lookback + horizon)

    def __len__(self) -> int:
        return len(self.cuts)

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        series, s = self.series[index], self.s
        start = s["offsets"][series] + self.cuts[index]  # flat row of the look-back's start
        rows = start[:, None] + self._all
        lookback, n = s["seq_len"], s["n_targets"]
        x_rows, y_rows = rows[:, :lookback], rows[:, lookback:]
        values, mask = s["values"], s["mask"]
        batch = Batch(x=values[x_rows][..., :n], y=values[y_rows][..., :n], index=index)
        batch["series"] = series
        batch["x_mask"], batch["y_mask"] = mask[x_rows][..., :n], mask[y_rows][..., :n]
        if self.originals:
            batch["x_original"], batch["y_original"] = (
                s["originals"][x_rows],
                s["originals"][y_rows],
            )
        past, future = s["past"], s["future"]
        if past.stop > past.start:
            batch["past_covariates"] = values[x_rows][..., past]
            batch["past_covariates_mask"] = mask[x_rows][..., past]
        if future.stop > future.start:
            batch["future_covariates"] = values[rows][..., future]
            batch["future_covariates_mask"] = mask[rows][..., future]
        if s["marks"] is not None:
            batch["x_mark"], batch["y_mark"] = s["marks"][x_rows], s["marks"][y_rows]
        for key in ("static_real", "static_cat"):
            if s[key] is not None:
                batch[key] = s[key][series].unsqueeze(1).expand(-1, n, -1)
        return batch

    def __getitem__(self, index: int) -> Batch:
        return Batch(**{k: v[0] for k, v in self.__getitems__([index]).items()})

    def rolling_origin(self, n_windows: int, step: int) -> list[int]:
        """Sample indices of every series' last ``n_windows`` windows, ``step`` rows apart
        (conformal calibration: the scores of all series are pooled, each in its own scaled
        units, so a series the model never saw gets intervals too)."""
        if n_windows < 1 or step < 1:
            raise InputError(f"need at least one window and step; got {n_windows}, step {step}")
        series = self.series.numpy()
        starts = np.flatnonzero(np.r_[True, series[1:] != series[:-1]])
        ends = np.r_[starts[1:], len(series)]
        span = (n_windows - 1) * step + 1
        picked = []
        for start, end in zip(starts, ends, strict=True):
            if end - start < span:
                name = self.s.get("names", [])[int(series[start])]
                raise InputError(
                    f"series {name!r} has {end - start} validation windows; {n_windows} windows "
                    f"{step} rows apart need {span}: use fewer windows or a smaller step, or "
                    "hold out more rows per series (val_size; data.train_ratio on the command line)"
                )
            picked += [int(end - 1 - j * step) for j in reversed(range(n_windows))]
        return picked
