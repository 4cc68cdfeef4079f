"""Evaluation under DDP without padding: every window is scored by exactly one rank."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import Dataset, DistributedSampler

from tsfm.errors import InputError


class EvalShardSampler(DistributedSampler):
    """Rank ``r`` of ``W`` gets windows ``r, r + W, r + 2W, ...``, in order, none repeated.

    torch's ``DistributedSampler`` (which Lightning installs for every loader under DDP) pads
    the dataset to a multiple of the world size by repeating windows, so up to ``W - 1``
    windows would be counted twice in the test metrics. Shards may differ in length by one;
    that is safe for evaluation, where DDP syncs buffers on the first forward pass only. Being
    a ``DistributedSampler``, Lightning leaves it in place.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)
        n = len(dataset)
        if n < num_replicas:
            raise InputError(
                f"{n} evaluation windows cannot be shared by {num_replicas} processes (each "
                "needs at least one); use fewer devices or a longer validation/test split"
            )
        self.total_size = n
        self.num_samples = len(range(rank, n, num_replicas))

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.total_size, self.num_replicas))

    def __len__(self) -> int:
        return self.num_samples


def eval_shard_sampler(dataset: Dataset, trainer: Any) -> EvalShardSampler | None:
    """An :class:`EvalShardSampler` when ``trainer`` runs several processes, else None."""
    world_size = getattr(trainer, "world_size", 1) if trainer is not None else 1
    if world_size <= 1:
        return None
    return EvalShardSampler(dataset, num_replicas=world_size, rank=trainer.global_rank)
