"""Sliding windows as index arithmetic over one tensor per split.

A batch is gathered in one indexing operation (``__getitems__``), so there is no per-sample
copying, no Python loop over samples and no pandas on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from tsfm.data.batch import Batch
from tsfm.data.draws import SampleDraws
from tsfm.errors import InputError


@dataclass
class SideInputs:
    """What a split carries besides its target values, row-aligned with them.

    Attributes:
        past, future: ``[T, P]`` past and ``[T, F]`` future covariates (scaled).
        static_real, static_cat: ``[N, Sr]`` and ``[N, Sc]`` static covariates per target.
        values_mask, past_mask, future_mask: 1 where observed (only with missing values).
    """

    past: Tensor | None = None
    future: Tensor | None = None
    static_real: Tensor | None = None
    static_cat: Tensor | None = None
    values_mask: Tensor | None = None
    past_mask: Tensor | None = None
    future_mask: Tensor | None = None

    def rows(self, start: int, end: int) -> SideInputs:
        """The same inputs for rows ``[start, end)`` (statics are per target, not per row)."""

        def cut(t: Tensor | None) -> Tensor | None:
            return None if t is None else t[start:end]

        return SideInputs(
            cut(self.past),
            cut(self.future),
            self.static_real,
            self.static_cat,
            cut(self.values_mask),
            cut(self.past_mask),
            cut(self.future_mask),
        )


class WindowDataset(Dataset):
    """Windows ``x = values[t : t + seq_len]``, ``y = values[t + seq_len : t + seq_len + pred_len]``.

    A batch is a :class:`~tsfm.data.batch.Batch`: ``x [B, L, N]``, ``y [B, S, N]``,
    ``x_mark [B, L, C]`` and ``y_mark [B, S, C]`` when calendar features exist, and
    ``index [B]``, the window's position in the split (stable across epochs, a cache key);
    with ``side`` inputs also the covariates (past ones over the look-back, future ones over
    look-back + horizon: nothing observed after the origin but future covariates reaches a
    batch's inputs) and the observation masks.

    Args:
        values: ``[T, N]`` scaled values of one split.
        marks: ``[T, C]`` calendar features, or None.
        seq_len, pred_len: look-back and horizon.
        channel_independent: one sample per (window, variate), ``N = 1`` per sample, ordered
            variate-major as in S2IP-LLM's ``Dataset_Custom``; the batch then carries
            ``variate [B]``.
        sample_variates: draw this many variates at random for each batch (iTransformer's
            "efficient training"); the batch then carries the chosen ``variates [k]``. They
            follow from the pass's seed and the batch's first sample (``draws``, a
            :class:`~tsfm.data.draws.SampleDraws`), in whichever process reads it.
        stride: distance between consecutive window starts.
        side: covariates, statics and masks of the split (:class:`SideInputs`).
        originals: ``[T, N]`` the targets as read (float64, gaps filled as in ``values``),
            for evaluation splits: their batches then carry ``x_original`` and
            ``y_original``.
    """

    def __init__(
        self,
        values: torch.Tensor,
        marks: torch.Tensor | None,
        seq_len: int,
        pred_len: int,
        *,
        channel_independent: bool = False,
        sample_variates: int | None = None,
        stride: int = 1,
        side: SideInputs | None = None,
        originals: torch.Tensor | None = None,
    ):
        if values.ndim != 2:
            raise InputError(f"values must be [T, N], got shape {tuple(values.shape)}")
        if marks is not None and marks.shape[0] != values.shape[0]:
            raise InputError("marks and values must have the same number of rows")
        span = values.shape[0] - seq_len - pred_len
        if span < 0:
            raise InputError(
                f"{values.shape[0]} rows hold no window of seq_len + pred_len = "
                f"{seq_len + pred_len}; use a longer series or shorter windows"
            )
        n_vars = values.shape[1]
        if sample_variates is not None and not 0 < sample_variates <= n_vars:
            raise InputError(f"sample_variates must be in [1, {n_vars}], got {sample_variates}")
        if channel_independent and sample_variates is not None:
            raise InputError("channel_independent and sample_variates cannot be combined")
        if originals is not None and originals.shape != values.shape:
            raise InputError(
                f"originals {tuple(originals.shape)} must match values {tuple(values.shape)}"
            )
        self.values, self.marks, self.side = values, marks, side or SideInputs()
        self.originals = originals
        self.seq_len, self.pred_len, self.stride = seq_len, pred_len, stride
        self.channel_independent = channel_independent
        self.sample_variates = sample_variates
        self.draws = SampleDraws() if sample_variates is not None else None
        self.n_windows = span // stride + 1
        self.n_vars = n_vars
        self._x_offsets = torch.arange(seq_len)
        self._y_offsets = torch.arange(seq_len, seq_len + pred_len)
        self._all_offsets = torch.arange(seq_len + pred_len)

    def __len__(self) -> int:
        return self.n_windows * (self.n_vars if self.channel_independent else 1)

    def rolling_origin(self, n_windows: int, step: int) -> list[int]:
        """Sample indices of the last ``n_windows`` windows, ``step`` rows apart, oldest
        first (variate-major, every variate's sample, when channel-independent)."""
        if n_windows < 1 or step < 1 or step % self.stride:
            raise InputError(
                f"need at least one window and a step that is a multiple of the windows' "
                f"stride ({self.stride}); got {n_windows} windows, step {step}"
            )
        last, gap = self.n_windows - 1, step // self.stride
        if last - (n_windows - 1) * gap < 0:
            most = last // gap + 1
            raise InputError(
                f"{n_windows} windows {step} rows apart do not fit in {self.n_windows} windows "
                f"of this split; at most {most} do: use fewer windows or a smaller step"
            )
        windows = [last - j * gap for j in reversed(range(n_windows))]
        if not self.channel_independent:
            return windows
        return [v * self.n_windows + w for v in range(self.n_vars) for w in windows]

    def __getitem__(self, index: int) -> Batch:
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        batch = self.__getitems__([index % len(self)])
        return Batch(**{k: v if k == "variates" else v[0] for k, v in batch.items()})

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        window = index % self.n_windows if self.channel_independent else index
        start = (window * self.stride)[:, None]
        x_rows, y_rows = start + self._x_offsets, start + self._y_offsets
        batch = Batch(index=window)
        mask = self.side.values_mask
        if self.channel_independent:
            variate = (index // self.n_windows)[:, None]
            cols: Tensor | slice = variate
            batch["x"] = self.values[x_rows, variate].unsqueeze(-1)
            batch["y"] = self.values[y_rows, variate].unsqueeze(-1)
            batch["variate"] = variate[:, 0]
            if self.originals is not None:
                batch["x_original"] = self.originals[x_rows, variate].unsqueeze(-1)
                batch["y_original"] = self.originals[y_rows, variate].unsqueeze(-1)
            if mask is not None:
                batch["x_mask"] = mask[x_rows, variate].unsqueeze(-1)
                batch["y_mask"] = mask[y_rows, variate].unsqueeze(-1)
        else:
            cols = slice(None)
            if self.sample_variates is not None:
                chosen = torch.randperm(self.n_vars, generator=self.draws.generator(int(index[0])))
                cols = chosen[: self.sample_variates].sort().values
                batch["variates"] = cols
            batch["x"], batch["y"] = self.values[x_rows][..., cols], self.values[y_rows][..., cols]
            if self.originals is not None:  # evaluation: the targets as read
                batch["x_original"] = self.originals[x_rows][..., cols]
                batch["y_original"] = self.originals[y_rows][..., cols]
            if mask is not None:
                batch["x_mask"], batch["y_mask"] = mask[x_rows][..., cols], mask[y_rows][..., cols]
        if self.marks is not None:
            batch["x_mark"], batch["y_mark"] = self.marks[x_rows], self.marks[y_rows]
        self._add_side_inputs(batch, x_rows, start + self._all_offsets, cols)
        return batch

    def _add_side_inputs(self, batch: Batch, x_rows: Tensor, all_rows: Tensor, cols) -> None:
        side = self.side
        if side.past is not None:
            batch["past_covariates"] = side.past[x_rows]
            if side.past_mask is not None:
                batch["past_covariates_mask"] = side.past_mask[x_rows]
        if side.future is not None:
            batch["future_covariates"] = side.future[all_rows]
            if side.future_mask is not None:
                batch["future_covariates_mask"] = side.future_mask[all_rows]
        for key, static in (("static_real", side.static_real), ("static_cat", side.static_cat)):
            if static is None:
                continue
            if isinstance(cols, Tensor) and cols.ndim == 2:  # channel-independent: [B, 1]
                batch[key] = static[cols]
            else:
                batch[key] = static[cols].unsqueeze(0).expand(len(x_rows), -1, -1)


def side_inputs(
    roles: Any, values: Tensor, mask: Tensor | None, static: dict[str, Any] | None
) -> SideInputs:
    """The covariate columns (``roles``' past and future, after its targets in ``values``),
    statics and masks beside the target columns of ``values``."""
    n_t, n_p = len(roles.targets), len(roles.past)
    parts = {"values": slice(0, n_t), "past": slice(n_t, n_t + n_p)}
    parts["future"] = slice(n_t + n_p, values.shape[1])
    side = SideInputs()
    if mask is not None:
        side.values_mask = mask[:, parts["values"]]
    for role in ("past", "future"):
        if getattr(roles, role):
            setattr(side, role, values[:, parts[role]])
            if mask is not None:
                setattr(side, f"{role}_mask", mask[:, parts[role]])
    if static is not None:
        if static.get("real") is not None and static["real"].shape[1]:
            side.static_real = torch.as_tensor(static["real"], dtype=torch.float32)
        if static.get("cat") is not None and static["cat"].shape[1]:
            side.static_cat = torch.as_tensor(static["cat"], dtype=torch.long)
    return side
