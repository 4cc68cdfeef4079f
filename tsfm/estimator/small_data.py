"""Training defaults of a model the fit sizes by the data, where the user chose none.

The paper presets (iTransformer's Adam at 1e-4, halved after every epoch from the second on,
for 10 epochs) suit the benchmarks they were written for, where an epoch is hundreds of
steps. On a frame of a few hundred rows an epoch is a couple of batches: 10 epochs give ~20
steps whose learning-rate multipliers sum to 3, and the model stays untrained (more epochs
change nothing, as the rate is halved away). So where the width is data-sized (no
experiment, no width chosen: :func:`~tsfm.estimator.sizing.data_sized`), the learning rate
is :data:`DEFAULT_LR` unless the user set ``lr`` (``learning_rate``), ``optimizer`` or the
optimizer preset (``overrides=["optim=..."]``).

:func:`schedule_record` is what ``fit_metrics_`` records of the schedule a fit ran.
"""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig

DEFAULT_LR = 1e-3
# settings of the user's that keep the preset's learning rate
LR_KEYS = {"optim", "optim.lr", "optim.optimizer"}


def small_data_defaults(
    cfg: DictConfig, given: set[str], sized: dict[str, Any], n_windows: int
) -> None:
    """Set the default learning rate (module docstring) in ``cfg`` where ``sized`` (what
    :func:`~tsfm.estimator.sizing.data_sized` chose) holds the width; ``given``: the config
    keys the user set, ``n_windows``: the training windows of one epoch."""
    if "model.d_model" not in sized:
        return
    if not given & LR_KEYS:
        cfg.optim.lr = DEFAULT_LR


def schedule_record(cfg: DictConfig, trainer: Any) -> dict[str, Any]:
    """The learning rate, schedule and step budget a fit ran: ``lr``, ``scheduler``,
    ``lr_halving_epochs`` (epochs per halving of an exponential schedule, else None),
    ``max_epochs``, ``step_budget`` (the optimizer steps ``max_epochs`` epochs hold, or
    ``max_steps`` if fewer) and ``steps`` (those taken)."""
    optim = cfg.optim
    gamma = float(optim.get("gamma") or 0.0)
    halving = None
    if optim.scheduler == "exponential" and 0 < gamma < 1:
        halving = math.log(0.5) / math.log(gamma)
    epochs = cfg.trainer.get("max_epochs")
    epochs = epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
    batches = getattr(trainer, "num_training_batches", None)
    budget = None
    if epochs is not None and epochs > 0 and batches is not None and math.isfinite(batches):
        accumulate = getattr(trainer, "accumulate_grad_batches", 1) or 1
        budget = epochs * math.ceil(int(batches) / accumulate)
    max_steps = cfg.trainer.get("max_steps")
    if isinstance(max_steps, int) and max_steps >= 0 and (budget is None or max_steps < budget):
        budget = max_steps
    return {
        "lr": float(optim.lr),
        "scheduler": str(optim.scheduler),
        "lr_halving_epochs": halving,
        "max_epochs": epochs,
        "step_budget": budget,
        "steps": int(getattr(trainer, "global_step", 0)),
    }
