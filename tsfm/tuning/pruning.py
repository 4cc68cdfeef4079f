"""What a study prunes its trials with (Optuna's pruner) and on (an epoch value every trial
logs, in the units of the metric the trials are ranked by)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from tsfm.errors import InputError

PRUNE_MONITOR = "val/loss"  # pruned on where the metric ranks no other validation value
ORIGINAL = "_original"  # a value in the data's own units (tsfm.training.epoch_logging)


def make_pruner(kind: str, startup_trials: int, warmup_epochs: int) -> optuna.pruners.BasePruner:
    if kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs
        )
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, warmup_epochs + 1))
    if kind == "none":
        return optuna.pruners.NopPruner()
    raise InputError(f"unknown pruner '{kind}'; use median, hyperband or none")


def pruning_monitor(metric: str, monitor: str) -> str:
    """The epoch value trials ranked by ``metric`` are pruned on: the checkpoint's
    ``monitor`` where ``metric`` is its best value (``best/val/mae_original``: pruned on
    ``val/mae_original``, logged at every validation epoch), so a trial is pruned on what it
    is ranked by, in the same units; ``val/loss`` otherwise (``val/best_loss``,
    ``fit_seconds``, ``epochs``)."""
    metric, monitor = str(metric), str(monitor)
    if metric == f"best/{monitor}" and monitor.startswith("val/"):
        return monitor
    return PRUNE_MONITOR


def check_pruning(
    space: Mapping[str, Any],
    metric: str,
    monitor: str,
    pruner: str,
    names: tuple[str, str] = ("tune.pruner=none", "callbacks.checkpoint.monitor"),
) -> str:
    """The value trials are pruned on (:func:`pruning_monitor`); refuses a pruner where the
    space searches the scaling (:data:`~tsfm.tuning.checks.RANKING_UNITS`) and that value is
    in the scaled units, which the scaling changes: the pruner would compare trials' values
    in different units (a ``data.scale=false`` trial's validation loss in the data's units
    against a scaled one's in standard deviations) and prune the larger units' trials.
    ``names``: the caller's way to turn pruning off, and its name of the checkpoint monitor."""
    from tsfm.tuning.checks import RANKING_UNITS
    from tsfm.tuning.space import candidate_values

    pruned_on = pruning_monitor(metric, monitor)
    if pruner == "none" or pruned_on.endswith(ORIGINAL):
        return pruned_on
    for key in RANKING_UNITS:
        if key in space and len(set(candidate_values(space[key]))) > 1:
            off, monitor_name = names
            raise InputError(
                f"the search space holds {key}, and the {pruner} pruner prunes trials on "
                f"{pruned_on}, whose units {key} changes (scaled, or the data's own units): "
                f"it would compare numbers in different units and prune the trials of the "
                f"larger ones. Turn pruning off ({off}), or rank and prune the trials by an "
                f"error in the data's own units ({monitor_name}=val/mae_original with the "
                f"metric best/val/mae_original: trials are then pruned on val/mae_original)"
            )
    return pruned_on
