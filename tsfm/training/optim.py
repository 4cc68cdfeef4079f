"""Optimizers and learning-rate schedules from config."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from tsfm.errors import InputError

OPTIMIZERS = ("adam", "adamw", "sgd")  # what build_optimizer builds
SCHEDULERS = ("none", "exponential", "cosine")  # what lr_factor knows


@dataclass
class OptimConfig:
    """Optimizer and schedule (the ``optim.`` node).

    Attributes:
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        lr: base learning rate (a model may give some parameter groups their own).
        weight_decay, betas, momentum: optimizer settings.
        scheduler: ``none``; ``exponential``: ``lr * gamma ** max(0, epoch - decay_start_epoch)``
            per epoch (the papers' ``lradj``: iTransformer halves, S2IP-LLM multiplies by 0.9;
            their loops first lower the rate after the second epoch, hence
            ``decay_start_epoch = 1``); ``cosine``: cosine decay from ``lr`` to ``min_lr``
            over ``epochs`` (default ``trainer.max_epochs``) after ``warmup_epochs`` of
            linear warm-up.
        fused: the fused Adam/AdamW kernel (same update, several times faster on CPU);
            null uses it wherever torch supports it.
    """

    optimizer: str = "adam"
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    momentum: float = 0.9
    scheduler: str = "exponential"
    gamma: float = 0.5
    decay_start_epoch: int = 1
    min_lr: float = 0.0
    warmup_epochs: int = 0
    epochs: int | None = None
    fused: bool | None = None


def _fusable(groups: list[dict]) -> bool:
    params = [p for g in groups for p in g["params"]]
    return all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)


def build_optimizer(groups: list[dict], cfg: OptimConfig) -> torch.optim.Optimizer:
    name = cfg.optimizer.lower()
    if name in ("adam", "adamw"):
        fused = _fusable(groups) if cfg.fused is None else cfg.fused
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(
            groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay, fused=fused
        )
    if name == "sgd":
        return torch.optim.SGD(
            groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    raise InputError(f"unknown optimizer '{cfg.optimizer}'; use {', '.join(OPTIMIZERS)}")


def lr_factor(cfg: OptimConfig, max_epochs: int | None):
    """Epoch -> multiplier of each group's initial learning rate."""
    kind = cfg.scheduler.lower()
    if kind == "none":
        return lambda epoch: 1.0
    if kind == "exponential":
        return lambda epoch: cfg.gamma ** max(0, epoch - cfg.decay_start_epoch)
    if kind == "cosine":
        total = cfg.epochs or max_epochs
        if not total or total < 1:
            raise InputError(
                "the cosine schedule needs optim.epochs or a finite trainer.max_epochs"
            )
        floor = cfg.min_lr / cfg.lr if cfg.lr else 0.0

        def cosine(epoch: int) -> float:
            if epoch < cfg.warmup_epochs:
                return (epoch + 1) / (cfg.warmup_epochs + 1)
            progress = min(1.0, (epoch - cfg.warmup_epochs) / max(1, total - cfg.warmup_epochs))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return cosine
    raise InputError(f"unknown scheduler '{cfg.scheduler}'; use {', '.join(SCHEDULERS)}")


def check_optim(optim: Any, describe: Callable[[str], str] = str) -> None:
    """The optimizer and schedule by name, before any data is read (building them comes
    after the data and the model)."""
    for key, known in (("optimizer", OPTIMIZERS), ("scheduler", SCHEDULERS)):
        value = optim.get(key)
        if not isinstance(value, str) or value.lower() not in known:
            raise InputError(
                f"{describe(f'optim.{key}')}={value!r} is not a known {key}; use one of "
                f"{', '.join(known)}"
            )
