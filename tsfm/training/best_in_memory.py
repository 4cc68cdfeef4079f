"""The best epoch's weights kept in memory instead of ``best.ckpt``: a Forecaster's fit.

A command-line run writes ``checkpoints/best.ckpt`` (users test and load from it); a
Forecaster's validated fit only needs the best epoch's weights back at the end. Writing the
whole checkpoint (weights, optimizer state, loops, callbacks) on every improvement and
reading it back took 0.5-0.8 s of a 20-epoch fit (a copy in memory: 3 ms).
:class:`BestInMemory` chooses the best epoch exactly as ``ModelCheckpoint`` does (it is one,
so ``best_model_score``, early stopping and ``val/best_loss`` are the same) and keeps a CPU
copy of the module's ``state_dict`` instead, which :func:`restore_best` loads: the same
weights, bit for bit, as from the file.

Only what training can change is copied: every buffer (running statistics, the scaler's),
every other state entry and the parameters that require a gradient or that an optimizer
holds. A frozen parameter (S2IP-LLM's GPT-2 matrices and vocabulary: most of its state) is
left out: it holds the best epoch's values at the end of the fit as at its start. One that a
callback unfroze after the best epoch was kept could have changed since: restoring refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from tsfm.errors import InputError
from tsfm.training.checkpoint_files import load_checkpoint


def frozen_parameters(module: torch.nn.Module, optimizers: Iterable = ()) -> set[str]:
    """The names (as in ``module.state_dict()``, tied ones each) of the parameters training
    cannot change: no gradient, in none of ``optimizers``' groups."""
    held = {id(p) for o in optimizers for group in o.param_groups for p in group["params"]}
    return {
        name
        for name, p in module.named_parameters(remove_duplicate=False)
        if not p.requires_grad and id(p) not in held
    }


class BestInMemory(ModelCheckpoint):
    """A ``ModelCheckpoint`` that writes no file: at each save of the best checkpoint it keeps
    a copy of what training can change (``best_state``, of epoch ``best_epoch``, as a
    checkpoint's ``epoch`` says; ``frozen``: the state's parameters left out, unchanged by
    training); nothing is removed, ``last.ckpt`` is never kept."""

    best_state: dict[str, torch.Tensor] | None = None
    best_epoch: int | None = None
    frozen: frozenset[str] = frozenset()

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        if filepath == self.best_model_path:  # the only save with save_last off
            module = trainer.lightning_module
            state = module.state_dict()
            frozen = frozen_parameters(module, trainer.optimizers) & state.keys()
            self.best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in state.items() if k not in frozen
            }
            self.frozen = frozenset(frozen)
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
            _load_kept(callback, module)
        return None
    best = callback.best_model_path if callback is not None else None
    if best:
        module.load_state_dict(load_checkpoint(best, map_location=module.device)["state_dict"])
    return best or None


def _load_kept(callback: BestInMemory, module: torch.nn.Module) -> None:
    """Load ``callback``'s copy; the parameters it left out must still be frozen (else they
    may have trained since the best epoch, whose values were not kept)."""
    trainer = getattr(module, "_trainer", None)
    optimizers = trainer.optimizers if trainer is not None else ()
    unfrozen = sorted(callback.frozen - frozen_parameters(module, optimizers))
    if unfrozen:
        raise InputError(
            f"{len(unfrozen)} parameter(s) frozen when the best epoch's weights were kept in "
            f"memory became trainable later in the fit (e.g. {unfrozen[0]}, by a callback): "
            "their best values were not kept; pass work_dir=... to keep best.ckpt, or unfreeze "
            "them before the fit starts"
        )
    result = module.load_state_dict(callback.best_state, strict=False)
    left_out = set(result.missing_keys)
    if result.unexpected_keys or left_out != callback.frozen:
        raise RuntimeError(  # a state dict whose keys changed during the fit: a tsfm bug
            f"the best epoch's weights kept in memory do not fit the module: unexpected "
            f"{result.unexpected_keys}, missing {sorted(left_out - callback.frozen)}"
        )
