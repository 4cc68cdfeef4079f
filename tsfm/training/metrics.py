"""Error metrics accumulated as sums over every window, so they never depend on batch size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric


class ErrorMetrics(Metric):
    """MSE, MAE and RMSE over every (observed) element seen, accumulated in float64 (synced
    across DDP ranks)."""

    full_state_update = False
    NAMES = ("mse", "mae", "rmse")  # what compute() returns, logged as <stage>/<name>

    def __init__(self) -> None:
        super().__init__()
        for name in ("squared", "absolute", "count"):
            self.add_state(
                name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(self, prediction: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        """Add the errors of a batch; with ``mask`` only where it is 1 (observed targets)."""
        # one float64 temporary: a [B, S, N] float64 copy costs more to allocate than to fill
        error = prediction.detach().to(torch.float64, copy=True).sub_(target.detach())
        if mask is None:
            self.count += error.numel()
        else:
            observed = mask.detach().bool()
            error.masked_fill_(~observed, 0.0)
            self.count += observed.sum()
        magnitude = error.abs_()
        self.absolute += magnitude.sum()
        self.squared += magnitude.square_().sum()

    def compute(self) -> dict[str, Tensor]:
        mse = self.squared / self.count
        return dict(zip(self.NAMES, (mse, self.absolute / self.count, mse.sqrt()), strict=True))


class MeanLoss(Metric):
    """The mean of a per-batch loss, weighted by batch size, summed exactly across DDP ranks.

    Lightning's ``self.log(..., sync_dist=True)`` averages the ranks' means, which is off when
    ranks score different numbers of windows; this accumulates sums instead.
    """

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        for name in ("total", "weight"):
            self.add_state(
                name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(self, loss: Tensor, weight: int) -> None:
        self.total += loss.detach().double() * weight
        self.weight += weight

    def compute(self) -> Tensor:
        return self.total / self.weight


EVAL_STAGES = ("val", "test")


def per_stage(make: Callable[[], nn.Module]) -> nn.ModuleDict:
    """One metric per evaluation stage and scale (``val``, ``val_original``, ``test``, ...)."""
    names = [f"{stage}{suffix}" for stage in EVAL_STAGES for suffix in ("", "_original")]
    return nn.ModuleDict({name: make() for name in names})


def gather_uneven(module: Any, values: Tensor) -> Tensor:
    """All ranks' ``values`` concatenated (``module``: a LightningModule under DDP);
    evaluation shards may differ in length by one."""
    sizes = module.all_gather(torch.tensor(values.shape[0], device=values.device)).flatten()
    padded = values.new_zeros((int(sizes.max()), *values.shape[1:]))
    padded[: values.shape[0]] = values
    gathered = module.all_gather(padded)
    return torch.cat([gathered[rank, :n] for rank, n in enumerate(sizes.tolist())])
