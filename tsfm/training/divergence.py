"""Stop a run whose loss is no longer a number, and say why.

Without this, a diverged run looks finished: the optimizer keeps stepping on NaN, early
stopping quietly ends training on the first non-finite validation loss, and NaN or infinite
numbers reach metrics.json, the Forecaster's forecasts and tuning results.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

LIKELY_CAUSES = (
    "Likely causes: a learning rate too high (optim.lr), input values of a very large or "
    "badly scaled magnitude (data.scale=true standardises them), or fp16 overflow "
    "(trainer.precision=16-mixed; bf16-mixed or 32-true avoid it); "
    "trainer.gradient_clip_val may also help"
)


class DivergedError(RuntimeError):
    """Training or validation produced a loss that is NaN or infinite."""


class StopOnDivergence(Callback):
    """Raise :class:`DivergedError` at the first non-finite training or validation loss.

    The training loss is checked after every step. On an accelerator the check stays on the
    device (no host synchronisation per step): the first bad step is recorded there and read
    every ``log_every_n_steps`` steps and at the end of each epoch. ``deferred`` forces one
    way or the other (None: deferred off the CPU).
    """

    def __init__(self, deferred: bool | None = None) -> None:
        self.deferred = deferred
        self._first_bad: torch.Tensor | None = None  # global step of the first bad loss, or -1

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        *_: Any,
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor):
            return
        loss = loss.detach()
        steps_before = trainer.global_step - 1  # this hook runs after the batch's own step
        deferred = loss.device.type != "cpu" if self.deferred is None else self.deferred
        if not deferred:
            if not torch.isfinite(loss).all():
                where = f"batch {batch_idx} of epoch {trainer.current_epoch}"
                self._raise(f"is {float(loss.float().mean())} at {where}", steps_before)
            return
        step = torch.tensor(steps_before, device=loss.device)
        if self._first_bad is None or self._first_bad.device != loss.device:
            self._first_bad = torch.full((), -1, device=loss.device, dtype=step.dtype)
        bad = ~torch.isfinite(loss).all() & (self._first_bad < 0)
        self._first_bad = torch.where(bad, step, self._first_bad)
        if trainer.global_step % max(1, trainer.log_every_n_steps) == 0:
            self._check_device(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check_device(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get("val/loss")
        if value is not None and not math.isfinite(float(value)):
            raise DivergedError(
                f"the validation loss is {float(value)} after epoch {trainer.current_epoch} "
                f"(global step {trainer.global_step}); the model no longer produces finite "
                f"forecasts, so no result is reported. {LIKELY_CAUSES}"
            )

    def _check_device(self, trainer: L.Trainer) -> None:
        if self._first_bad is not None and int(self._first_bad) >= 0:
            where = f"is not finite in epoch {trainer.current_epoch}"
            self._raise(where, int(self._first_bad))

    @staticmethod
    def _raise(what: str, steps_before: int) -> None:
        raise DivergedError(
            f"training diverged: the training loss {what}, after {steps_before} optimizer "
            f"step(s); the run is stopped and no result is reported. {LIKELY_CAUSES}"
        )
