"""Evaluation under DDP without padding: every window is scored by exactly one rank."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from torch.utils.data import Dataset, DistributedSampler

from tsfm.errors import InputError

SPLITS = {"val": "validation", "test": "test"}


def too_few_windows(n: int, processes: int, stage: str | None = None) -> str:
    """Why ``n`` windows of the ``stage`` split cannot be scored by ``processes`` processes,
    and what to do instead."""
    split = SPLITS.get(stage or "", "validation/test")
    message = (
        f"{n} {split} windows cannot be shared by {processes} processes (each needs at least "
        f"one): use fewer devices (trainer.devices) or a longer {split} split"
    )
    if stage == "val":
        return f"{message}, or train in one process (without trainer=ddp)"
    return (
        f"{message}. One process tests any number of windows: train under DDP with "
        "test=false, then test the best checkpoint without trainer=ddp (python -m tsfm.run "
        "... train=false ckpt_path=<run>/checkpoints/best.ckpt)"
    )


def check_shards(trainer: Any, windows: Mapping[str, int], train: bool, test: bool) -> None:
    """Refuse, before training, a validation split (when training validates) or a ``test``
    split holding fewer ``windows`` (by split: ``val``, ``test``) than the processes of
    ``trainer`` that would share it; otherwise the :class:`EvalShardSampler` of its loader
    would, once the training is done."""
    world_size = getattr(trainer, "world_size", 1)
    if world_size <= 1:
        return
    validate = train and getattr(trainer, "limit_val_batches", 1) != 0
    for stage in [s for s, scored in (("val", validate), ("test", test)) if scored]:
        n = windows.get(stage)
        if n is not None and n < world_size:
            raise InputError(too_few_windows(n, world_size, stage))


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
        if n < num_replicas:  # the pipeline checks before training; this is the last guard
            raise InputError(too_few_windows(n, num_replicas))
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
