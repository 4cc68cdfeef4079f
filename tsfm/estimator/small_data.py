"""Training defaults of a model the fit sizes by the data, where the user chose none.

The paper presets (iTransformer's Adam at 1e-4, halved after every epoch from the second on,
for 10 epochs) suit the benchmarks they were written for, where an epoch is hundreds of
steps. On a frame of a few hundred rows an epoch is a couple of batches: 10 epochs give ~20
steps whose learning-rate multipliers sum to 3, and the model stays untrained (more epochs
change nothing, as the rate is halved away). So where the width is data-sized (no
experiment, no width chosen: :func:`~tsfm.estimator.sizing.data_sized`), or drawn by a tuning
trial's search (:mod:`tsfm.estimator.searched`; the search's other settings count as the
user's):

- the learning rate is :data:`DEFAULT_LR` unless the user set ``lr`` (``learning_rate``),
  ``optimizer`` or the optimizer preset (``overrides=["optim=..."]``);
- when ``max_epochs`` epochs of the training windows hold fewer than :data:`MIN_STEPS`
  optimizer steps, the schedule is stretched over the epochs that hold them: s times the
  epochs, the rate held for s times the preset's epochs before it decays, then halved every
  s epochs (``gamma ** (1 / s)`` per epoch), so it falls as far over the fit as the preset's
  does; early stopping's patience (epochs) grows by s too. Not where the user set
  ``max_epochs``, ``max_steps``, the schedule or what an epoch holds
  (``limit_train_batches``, ``channel_independent``); ``lr`` alone keeps the stretch.
  The floor is low on purpose: without validation nothing stops a long fit from
  over-fitting, and on us_change (71 windows close to noise) 100 steps forecast 7 % worse
  than 20 and 150 worse than the paper's defaults (README "Defaults from the data").

:func:`schedule_record` is what ``fit_metrics_`` records of the schedule a fit ran.
"""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig

DEFAULT_LR = 1e-3
MIN_STEPS = 100
# settings of the user's that keep the preset's learning rate / its epochs and schedule
LR_KEYS = {"optim", "optim.lr", "optim.optimizer"}
BUDGET_KEYS = {
    "optim",
    "optim.scheduler",
    "optim.gamma",
    "optim.decay_start_epoch",
    "optim.epochs",
    "optim.warmup_epochs",
    "trainer.max_epochs",
    "trainer.min_epochs",
    "trainer.max_steps",
    "trainer.min_steps",
    "trainer.limit_train_batches",
    "data.channel_independent",
}
PATIENCE = "callbacks.early_stopping.patience"


def small_data_defaults(
    cfg: DictConfig, given: set[str], width_sized: bool, n_windows: int
) -> float | None:
    """Set the default learning rate and stretch the schedule (module docstring) in ``cfg``
    where the width is data-sized (``width_sized``: :func:`~tsfm.estimator.sizing.data_sized`
    chose it, or a tuning trial drew it); ``given``: the config keys the user (or the search)
    set, ``n_windows``: the training windows of one epoch. Returns the factor s the epochs
    were stretched by (``fit_metrics_``'s ``schedule_stretch``), None where they were not."""
    if not width_sized:
        return None
    if not given & LR_KEYS:
        cfg.optim.lr = DEFAULT_LR
    epochs = cfg.trainer.get("max_epochs")
    if given & BUDGET_KEYS or isinstance(epochs, bool) or not isinstance(epochs, int):
        return None
    steps = epoch_steps(n_windows, cfg)
    if epochs < 1 or epochs * steps >= MIN_STEPS:
        return None
    stretched = math.ceil(MIN_STEPS / steps)
    factor = stretched / epochs
    cfg.trainer.max_epochs = stretched
    if cfg.optim.scheduler == "exponential":
        cfg.optim.gamma = float(cfg.optim.gamma) ** (1 / factor)
        cfg.optim.decay_start_epoch = int(cfg.optim.decay_start_epoch * factor + 0.5)
    patience = cfg.callbacks.early_stopping.get("patience")
    if PATIENCE not in given and isinstance(patience, int):
        cfg.callbacks.early_stopping.patience = math.ceil(patience * factor)
    return factor


def epoch_steps(n_windows: int, cfg: DictConfig) -> int:
    """Optimizer steps in an epoch of ``n_windows`` training windows (the data module drops
    an incomplete last batch where there is a full one)."""
    batch = max(1, int(cfg.data.batch_size))
    full = cfg.data.drop_last and n_windows >= batch
    batches = n_windows // batch if full else math.ceil(n_windows / batch)
    accumulate = cfg.trainer.get("accumulate_grad_batches") or 1
    return max(1, math.ceil(batches / accumulate))


def schedule_record(cfg: DictConfig, trainer: Any, stretch: float | None = None) -> dict[str, Any]:
    """The learning rate, schedule and step budget a fit ran: ``lr``, ``scheduler``,
    ``lr_halving_epochs`` (epochs per halving of an exponential schedule, else None),
    ``max_epochs``, ``step_budget`` (the optimizer steps ``max_epochs`` epochs hold, or
    ``max_steps`` if fewer), ``steps`` (those taken) and ``schedule_stretch`` (``stretch``:
    the factor :func:`small_data_defaults` stretched the epochs by, None where it did not)."""
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
        "schedule_stretch": stretch,
    }
