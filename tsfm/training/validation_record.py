"""What a fit's validation says beyond its best loss: the baselines' loss on the very same
windows, and whether the loss was still falling when training ended.

:class:`ValidationRecord` (a callback every training gets, :func:`tsfm.pipeline.fit_and_test`)
adds to the run's metrics, when the run validates:

- ``val/snaive_loss``, ``val/naive_loss``: the validation loss of the seasonal-naive forecast
  (each step repeats the look-back's value ``season_length`` steps earlier) and of the naive
  one (the look-back's last value) of every validation window, in ``val/loss``'s units: the
  run's loss function on the scaled values, over the same windows and targets (missing ones
  left out as the model's loss leaves them). Computed once, in the first validation (the
  windows do not change). ``loss=quantile`` scores the baseline as every quantile (a forecast
  without spread); ``loss=normal`` and ``student_t`` have no baseline loss (a point has no
  likelihood). A window whose baseline would repeat padding before a short series' start
  (``x_mask``) is left out of that baseline's loss;
- ``val/last_loss``: the last validation's loss (the model's, when no checkpoint picks one);
- ``val/improving_epochs``: how many of the last validations in a row each improved on the
  lowest loss before it (:func:`~tsfm.training.validation_notes.improving_run`).

The record (every validation loss, the baselines') is part of each checkpoint, so a run
resumed from one (``resume=true``) reports what the uninterrupted run would have.

:mod:`tsfm.training.validation_notes` reads them (is the model worse than a baseline, was its
loss still improving when training stopped), without Lightning.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from tsfm.errors import InputError
from tsfm.training.scoring import seasonal_naive
from tsfm.training.series_metrics import has_baselines
from tsfm.training.validation_notes import BASELINES, improving_run

NO_BASELINE = ("normal", "student_t")  # likelihood losses: a point forecast has none


class ValidationRecord(Callback):
    """Records every validation loss, and the baselines' losses in the first validation."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.sums: dict[str, list[Tensor]] = {}  # baseline -> [loss * weight, weight]
        self.baselines: dict[str, float] = {}

    def state_dict(self) -> dict[str, Any]:
        """The losses so far and the baselines' (plain numbers: a checkpoint keeps them, so
        that a resumed run reports what an uninterrupted one would)."""
        return {"losses": list(self.losses), "baselines": dict(self.baselines)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue the record of a checkpoint (one written before tsfm kept it has none:
        the record starts empty, with the first validation after resuming)."""
        losses, baselines = state_dict.get("losses"), state_dict.get("baselines")
        if not isinstance(losses, list) or not isinstance(baselines, dict):
            raise InputError(
                "the checkpoint's validation record is not the one tsfm writes (a list of "
                f"'losses' and a mapping of 'baselines'; found {sorted(state_dict)}); resume "
                "from a checkpoint written by tsfm, or delete the entry to resume without it"
            )
        self.losses = [float(v) for v in losses]
        self.baselines = {str(k): float(v) for k, v in baselines.items()}
        self.sums = {}

    def on_validation_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:  # fmt: skip
        if trainer.sanity_checking or self.losses:  # the windows do not change: once
            return
        lag = int(pl_module.hparams.season_length)
        for name, (total, weight) in baseline_sums(pl_module.head, batch, lag).items():
            mine = self.sums.setdefault(name, [total.new_zeros(()), total.new_zeros(())])
            mine[0] += total
            mine[1] += weight

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        loss = trainer.callback_metrics.get("val/loss")
        if loss is None:
            return
        if not self.losses:  # the first validation: every rank's sums together, each rank
            zero = torch.zeros((), dtype=torch.float64, device=pl_module.device)  # reducing
            for name in BASELINES:  # both, in one order, whatever its own batches held
                total, weight = self.sums.get(name, (zero, zero))
                both = trainer.strategy.reduce(torch.stack([total, weight]), reduce_op="sum")
                if float(both[1]) > 0:
                    self.baselines[name] = float(both[0] / both[1])
            self.sums = {}
        self.losses.append(float(loss))

    def metrics(self) -> dict[str, float]:
        """The keys of the module docstring (finite values only; none without validation)."""
        if not self.losses:
            return {}
        values = {f"val/{name}_loss": value for name, value in self.baselines.items()}
        values["val/last_loss"] = self.losses[-1]
        values["val/improving_epochs"] = float(improving_run(self.losses))
        return {k: v for k, v in values.items() if math.isfinite(v)}


def baseline_sums(head: Any, batch: Any, lag: int) -> dict[str, tuple[Tensor, Tensor]]:
    """Each baseline's loss on ``batch`` times its weight (elements), and the weight: the
    head's loss over the (window, target) pairs that have the baseline."""
    x, target = batch["x"].float(), batch.get("y")
    if target is None or head.name in NO_BASELINE or x.shape[-1] != target.shape[-1]:
        return {}
    if not 0 < lag <= x.shape[1]:
        return {}
    target, horizon = target.float(), target.shape[1]
    mask = batch.get("y_mask")
    forecasts = {"snaive": seasonal_naive(x, horizon, lag), "naive": x[:, -1:].expand_as(target)}
    seen = batch.get("x_mask")
    has = dict(zip(BASELINES, has_baselines(seen, lag, x[:, 0]), strict=True))  # [B, N] each

    def pairs(values: Tensor, rows: Tensor) -> Tensor:  # [B, H, N] -> [pairs, H, 1]
        return values.transpose(1, 2).reshape(-1, horizon, 1)[rows]

    out = {}
    with torch.no_grad():
        for name in BASELINES:
            rows = has[name].reshape(-1)
            count = int(rows.sum())
            if not count:
                continue
            forecast = pairs(forecasts[name], rows).unsqueeze(-1).expand(-1, -1, -1, head.size)
            given = None if mask is None else pairs(mask.float(), rows)
            loss = head.loss(forecast, pairs(target, rows), given).double()
            weight = torch.tensor(float(count * horizon), dtype=torch.float64, device=x.device)
            out[name] = (loss * weight, weight)
    return out


def validation_metrics(trainer: Any) -> dict[str, float]:
    """:meth:`ValidationRecord.metrics` of the trainer's record (none without one)."""
    records = [c for c in trainer.callbacks if isinstance(c, ValidationRecord)]
    return records[0].metrics() if records else {}
