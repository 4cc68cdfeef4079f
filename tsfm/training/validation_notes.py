"""What a run's validation says is wrong with the model it ends with, from the numbers
:class:`~tsfm.training.validation_record.ValidationRecord` adds to its metrics (no Lightning
here: the Forecaster reads them from ``fit_metrics_``):

- *worse than a baseline*: the model's validation loss (``val/best_loss``, the best
  checkpoint's; ``val/last_loss`` when no checkpoint picks one) is above the lower of the
  seasonal-naive and naive forecasts' validation losses on the same windows
  (``val/snaive_loss``, ``val/naive_loss``, same loss function, same scaled values). Where
  the training rows hold extreme values (``extreme_values`` in the metrics,
  :mod:`tsfm.data.extreme_values`), the note says so: they can cause it on their own;
- *still improving*: training stopped at ``max_epochs`` while each of its last
  :data:`STILL_IMPROVING` (2) validations *improved*, that is was lower than every validation
  loss before it by more than :data:`IMPROVEMENT` (0.01 %, so that rounding-level wiggles
  do not count) of that lowest loss (``l_i < m - IMPROVEMENT * |m|``,
  ``m = min(l_1 .. l_{i-1})``; the first validation has nothing to improve on, so it takes
  three validations at least). A loss that falls by ever smaller steps (a learning rate
  decayed to almost nothing) still counts: more epochs or a higher learning rate lower it. ``val/improving_epochs``
  counts the last validations in a row that improved (:func:`improving_run`); one validation
  per epoch unless ``trainer.check_val_every_n_epoch`` says otherwise.

What the notes advise for training longer (:func:`train_longer`) keeps the schedule's shape:
under an exponential schedule (iTransformer's halving), twice the epochs with the decay
stretched over them, as the Forecaster's small-data defaults stretch it
(:mod:`tsfm.estimator.small_data`); more ``max_epochs`` alone would keep the decay per epoch,
and where those defaults stretched the schedule (``schedule_stretch`` in the metrics) it
would turn the stretch off and bring back the paper's halving after every epoch, which
trains less (on aus_production, a validation loss 2.9 times higher).

The front doors word the notes in their own settings' names (:func:`validation_notes`'s
``setting``) and show them: the Forecaster's ``fit`` as warnings, ``python -m tsfm.run`` in
its log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

IMPROVEMENT = 1e-4  # a validation improves on the lowest loss before it by more than 0.01 %
STILL_IMPROVING = 2  # that many last validations improving in a row: training was not done
BASELINES = ("snaive", "naive")
LABELS = {"snaive": "seasonal-naive", "naive": "naive"}


def improving_run(losses: Sequence[float]) -> int:
    """How many of the last ``losses`` in a row each improved on the lowest before it (see
    the module docstring); 0 for fewer than two."""
    run, lowest = 0, losses[0] if losses else math.inf
    for loss in losses[1:]:
        run = run + 1 if loss < lowest - IMPROVEMENT * abs(lowest) else 0
        lowest = min(lowest, loss)
    return run


def validation_notes(
    metrics: dict[str, Any], cfg: Any, setting: Callable[[str], str] = str
) -> dict[str, str]:
    """What the run's validation says is wrong (see the module docstring), in sentences by
    key (``baselines``, ``still_improving``); ``setting`` spells a config key as the caller's
    user sets it (``optim.lr`` on the command line, ``lr`` in Python)."""
    notes = {}
    lr, epochs = setting("optim.lr"), setting("trainer.max_epochs")
    longer = train_longer(metrics, cfg, setting)
    more = f"a higher {lr} than {cfg.optim.lr:g}, or longer: {longer}"
    model = metrics.get("val/best_loss")
    if model is None and not any(k.startswith("best/") for k in metrics):
        model = metrics.get("val/last_loss")  # no checkpoint: the last epoch's model
    named = {n: metrics.get(f"val/{n}_loss") for n in BASELINES}
    named = {n: v for n, v in named.items() if v is not None}
    if model is not None and named and min(named.values()) < model:
        best = min(named, key=lambda n: named[n])
        losses = ", ".join(f"{LABELS[n]} {v:.4g}" for n, v in named.items())
        notes["baselines"] = (
            f"the fitted model's validation loss ({model:.4g}, loss={cfg.loss} on the scaled "
            f"values) is worse than the {LABELS[best]} forecast's on the same validation "
            f"windows ({losses}): the model is not worth having as it is. Train it more "
            f"({more}), give it a longer {setting('data.seq_len')} (it is "
            f"{cfg.data.seq_len}), or use the {LABELS[best]} forecast itself"
        )
        extremes = metrics.get("extreme_values")
        if extremes:  # the likelier cause: tsfm/data/extreme_values.py
            from tsfm.data.extreme_notes import scaler_of

            one = len(extremes) == 1
            some = "an extreme value" if one else f"{len(extremes)} extreme values"
            does = (  # the robust scaler keeps the others' scale (tsfm/data/extreme_values.py)
                f"{'lies' if one else 'lie'} far outside {'its' if one else 'their'} column's "
                "scaled range"
                if scaler_of(cfg.data) == "robust"
                else f"{'squashes its' if one else 'squash their'} column's scaled values"
            )
            notes["baselines"] += (
                f". First, though: the training rows hold {some} (named by a warning of "
                f"{'its' if one else 'their'} own, recorded under extreme_values), which "
                f"{does} and can cause this on "
                + (
                    "its own: correct it, or mask it"
                    if one
                    else "their own: correct them, or mask them"
                )
            )
    run = int(metrics.get("val/improving_epochs", 0))
    if metrics.get("stopped") == "max_epochs" and run >= STILL_IMPROVING:
        notes["still_improving"] = (
            f"training stopped at {epochs}={cfg.trainer.max_epochs} while the validation loss "
            f"was still falling: each of the last {run} validations was the lowest so far (the "
            f"last {metrics.get('val/last_loss', math.nan):.4g}). Training longer would likely "
            f"lower it ({longer}), or a higher learning rate ({lr}, now {cfg.optim.lr:g}) where "
            "the falls have become small"
        )
    return notes


def train_longer(metrics: dict[str, Any], cfg: Any, setting: Callable[[str], str] = str) -> str:
    """The settings that train for twice the epochs with the schedule's shape kept (see the
    module docstring), in ``setting``'s names; ``more max_epochs than N`` where the
    schedule is not exponential."""
    epochs, key = cfg.trainer.get("max_epochs"), setting("trainer.max_epochs")
    optim = cfg.optim
    gamma = optim.get("gamma") if optim.get("scheduler") == "exponential" else None
    whole = isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0
    if not (whole and isinstance(gamma, int | float) and 0 < gamma < 1):
        return f"more {key} than {epochs}"
    named = [f"{setting('optim.gamma')}={math.sqrt(gamma):.4g}"]
    start = optim.get("decay_start_epoch")
    if isinstance(start, int) and start > 0:
        named.append(f"{setting('optim.decay_start_epoch')}={2 * start}")
    stopping = cfg.get("callbacks", {}).get("early_stopping", {})
    patience = stopping.get("patience")
    if stopping.get("enabled", True) and isinstance(patience, int) and patience > 0:
        named.append(f"{setting('callbacks.early_stopping.patience')}={2 * patience}")
    if metrics.get("schedule_stretch"):
        alone = (
            f"{key} alone turns off the small-data stretch of the schedule and brings back "
            "the paper's halving after every epoch, which trains less"
        )
    else:
        halving = f"{math.log(0.5) / math.log(gamma):.3g}"
        every = "after every epoch" if halving == "1" else f"every {halving} epochs"
        alone = f"{key} alone keeps the rate halving {every}"
    stretch = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else named[0]
    return f"{key}={2 * epochs} with {stretch}, which stretch the rate's decay over them; {alone}"
