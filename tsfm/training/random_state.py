"""The random number generators' states in every checkpoint, so that a resumed run continues
exactly as a run that was never interrupted.

Training draws from torch's global CPU generator (the training loader's shuffle: its
``RandomSampler`` seeds itself from that generator at the start of every epoch, tsfm's loaders
have no generator of their own; dropout masks on a CPU; the seed of each pass from which M4's
training windows and ``data.train_variates``' sampled variates follow,
:mod:`tsfm.data.draws`) and from the CUDA generators (dropout on a GPU).
Nothing in tsfm's training draws from numpy's or Python's global generators, but a model's
third-party code may: they are kept too. :class:`RandomStates` writes them all into each
checkpoint as plain tensors and numbers (so they load under ``weights_only=True``) and sets
them again when training continues from a checkpoint (``resume=true``, or ``ckpt_path`` with
``train=true``), at the start of fitting: after what setting the run up drew (the initial
weights the checkpoint replaces), before the first training window is drawn. A checkpoint
written at the end of an epoch (``last.ckpt`` is) then continues bit for bit as the
uninterrupted run did, on the same machine and software, with any ``data.num_workers`` (the
same as the interrupted run's or another): a worker process reads windows, and what a dataset
draws while reading one follows from the main process's generator (:mod:`tsfm.data.loader`).
"""

from __future__ import annotations

import logging
import random
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

from tsfm.errors import InputError

log = logging.getLogger(__name__)


def random_states() -> dict[str, Any]:
    """The global generators' states as tensors and numbers (``weights_only`` loads them).

    CUDA's are included once CUDA has started (before that nothing drew from them)."""
    states: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = list(torch.cuda.get_rng_state_all())
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states["numpy"] = {
        "kind": str(kind),
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }
    version, internal, gauss_next = random.getstate()
    states["python"] = {
        "version": int(version),
        "state": torch.tensor(internal, dtype=torch.int64),
        "has_gauss": gauss_next is not None,
        "gauss_next": 0.0 if gauss_next is None else float(gauss_next),
    }
    return states


def _check_states(states: Any) -> None:
    if not isinstance(states, dict) or not isinstance(states.get("torch"), torch.Tensor):
        found = sorted(states) if isinstance(states, dict) else type(states).__name__
        raise InputError(
            "the checkpoint's random number generator states are not the ones tsfm writes (a "
            f"'torch' state tensor, then 'cuda', 'numpy', 'python'; found {found}); resume from "
            "a checkpoint written by tsfm, or delete the entry to resume without them"
        )


def restore_random_states(states: dict[str, Any]) -> None:
    """Set the global generators to ``states`` (from :func:`random_states`); CUDA's are set on
    as many devices as both this machine and the states have."""
    _check_states(states)
    torch.set_rng_state(states["torch"])
    cuda = states.get("cuda") or []
    if cuda and torch.cuda.is_available():
        for device in range(min(len(cuda), torch.cuda.device_count())):
            torch.cuda.set_rng_state(cuda[device], device)
    saved = states.get("numpy")
    if saved is not None:
        keys = saved["keys"].numpy().astype(np.uint32)
        np.random.set_state(
            (saved["kind"], keys, saved["pos"], saved["has_gauss"], saved["cached_gaussian"])
        )
    saved = states.get("python")
    if saved is not None:
        gauss = saved["gauss_next"] if saved["has_gauss"] else None
        random.setstate((saved["version"], tuple(saved["state"].tolist()), gauss))


class RandomStates(Callback):
    """Keeps the generators' states in each checkpoint and restores them when training
    continues from one. A checkpoint written before tsfm kept them still resumes, with one
    log line saying the run will not repeat an uninterrupted one exactly."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None
        self._fitting = False

    def state_dict(self) -> dict[str, Any]:
        return random_states()

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if trainer.state.fn != TrainerFn.FITTING:  # testing a checkpoint draws nothing
            return
        states = (checkpoint.get("callbacks") or {}).get(self.state_key)
        if states is None:
            log.warning(
                "%s holds no random number generator states (written before tsfm kept "
                "them): training continues from it, but its shuffling and dropout will not "
                "repeat an uninterrupted run bit for bit",
                trainer.ckpt_path or "the checkpoint",
            )
            return
        _check_states(states)
        self._pending = states
        if self._fitting:  # a strategy that restores checkpoints after fitting started
            self._restore()

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fitting = True
        self._restore()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fitting = False

    def _restore(self) -> None:
        if self._pending is not None:
            restore_random_states(self._pending)
            self._pending = None
