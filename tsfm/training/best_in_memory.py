"""The best epoch's weights kept in memory instead of ``best.ckpt``: a Forecaster's fit.

A command-line run writes ``checkpoints/best.ckpt`` (users test and load from it); a
Forecaster's validated fit only needs the best epoch's weights back at the end. Writing the
whole checkpoint (weights, optimizer state, loops, callbacks) on every improvement and
reading it back took 0.5-0.8 s of a 20-epoch fit (a copy in memory: 3 ms).
:class:`BestInMemory` chooses the best epoch exactly as ``ModelCheckpoint`` does (it is one,
so ``best_model_score``, early stopping and ``val/best_loss`` are the same) and keeps a CPU
copy of the module's ``state_dict`` instead, which :func:`restore_best` loads: the same
weights, bit for bit, as from the file.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from tsfm.training.checkpoint_files import load_checkpoint


class BestInMemory(ModelCheckpoint):
    """A ``ModelCheckpoint`` that writes no file: at each save of the best checkpoint it keeps
    a copy of the weights (``best_state``, of epoch ``best_epoch``, as a checkpoint's
    ``epoch`` says); nothing is removed, ``last.ckpt`` is never kept."""

    best_state: dict[str, torch.Tensor] | None = None
    best_epoch: int | None = None

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        if filepath == self.best_model_path:  # the only save with save_last off
            state = trainer.lightning_module.state_dict()
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
            self.best_epoch = trainer.current_epoch
        self._last_global_step_saved = trainer.global_step  # as Lightning's save records
        self._last_checkpoint_saved = filepath

    def _remove_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        pass  # no file was written


def in_memory(checkpoint: ModelCheckpoint) -> BestInMemory:
    """A :class:`BestInMemory` choosing the best epoch as ``checkpoint`` does (no last.ckpt)."""
    return BestInMemory(
        dirpath=checkpoint.dirpath,
        filename=checkpoint.filename,
        monitor=checkpoint.monitor,
        mode=checkpoint.mode,
        save_top_k=checkpoint.save_top_k,
        auto_insert_metric_name=checkpoint.auto_insert_metric_name,
    )


def restore_best(callback: ModelCheckpoint | None, module: torch.nn.Module) -> str | None:
    """Load the best epoch's weights ``callback`` kept into ``module``: from memory (a
    :class:`BestInMemory`) or from its ``best.ckpt``, whose path it returns (else None;
    nothing is loaded without a checkpoint callback or a validated epoch)."""
    if isinstance(callback, BestInMemory):
        if callback.best_state is not None:
            module.load_state_dict(callback.best_state)
        return None
    best = callback.best_model_path if callback is not None else None
    if best:
        module.load_state_dict(load_checkpoint(best, map_location=module.device)["state_dict"])
    return best or None
