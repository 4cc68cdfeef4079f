"""``checkpoints/last.ckpt`` written at the end of every epoch, as ``resume=true`` needs.

Since Lightning 2.6, ``ModelCheckpoint(save_last=True)`` writes ``last.ckpt`` only when it
saves a top-k checkpoint at the same step: with ``save_top_k=1``, only when the monitored
loss improves, so after epochs that did not improve, ``last.ckpt`` is the best epoch's and a
resumed run would train those epochs again. :class:`EpochCheckpoint` writes it after every
epoch (and every validation), as Lightning did before; its state in a checkpoint keeps
``ModelCheckpoint``'s key, so runs checkpointed by either resume alike.
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

NOT_EMPTY = r"Checkpoint directory .* exists and is not empty"  # Lightning's, on every resume


class EpochCheckpoint(ModelCheckpoint):
    """A ``ModelCheckpoint`` whose ``last.ckpt`` is always the latest epoch's. ``resuming``:
    the run continues in its own directory, where Lightning's warning that the checkpoint
    folder "exists and is not empty" says only what resuming means (kept elsewhere)."""

    resuming = False

    def setup(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        if not self.resuming:
            super().setup(trainer, pl_module, stage)
            return
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=NOT_EMPTY, category=UserWarning)
            super().setup(trainer, pl_module, stage)

    @property
    def state_key(self) -> str:
        key = super().state_key
        return ModelCheckpoint.__qualname__ + key[len(type(self).__qualname__) :]

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_latest(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_latest(trainer)

    def _save_latest(self, trainer: L.Trainer) -> None:
        # skipped when Lightning saved at this step (last.ckpt with it), as in sanity checks
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


VALIDATION_LOSS = "val/loss"


def best_scores(callback: ModelCheckpoint | None) -> dict[str, float]:
    """The best checkpoint's monitored value, under a name that says what it is:
    ``val/best_loss`` when it monitors the validation loss, else ``best/<monitor>`` (say
    ``best/train/loss``); nothing without a checkpoint or a score."""
    if callback is None or callback.best_model_score is None:
        return {}
    score = float(callback.best_model_score)
    if callback.monitor == VALIDATION_LOSS:
        return {"val/best_loss": score}
    return {f"best/{callback.monitor}": score}
