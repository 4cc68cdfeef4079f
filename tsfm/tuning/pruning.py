"""What a study prunes its trials with (Optuna's pruner) and on (an epoch value every trial
logs, in the units of the metric the trials are ranked by)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from tsfm.errors import InputError

PRUNE_MONITOR = "val/loss"  # pruned on where the metric ranks no other validation value
ORIGINAL_MONITOR = "val/mae_original"  # in the data's own units whatever the scaling


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


def pruning_monitor(metric: str, monitor: str, space: Mapping[str, Any] | None = None) -> str:
    """The epoch value trials ranked by ``metric`` are pruned on (each logged at every
    validation epoch): the checkpoint's ``monitor`` where ``metric`` is its best value
    (``best/val/mae_original``: pruned on ``val/mae_original``), so a trial is pruned on what
    it is ranked by, in the same units; else, where ``space`` searches the scaling
    (:data:`~tsfm.tuning.checks.RANKING_UNITS`, whose settings change the units of
    ``val/loss``), ``val/mae_original``, in the data's own units whatever the scaling, so the
    pruner compares trials in one unit; ``val/loss`` otherwise (``val/best_loss``,
    ``fit_seconds``, ``epochs``)."""
    from tsfm.tuning.checks import RANKING_UNITS, searched

    metric, monitor = str(metric), str(monitor)
    if metric == f"best/{monitor}" and monitor.startswith("val/"):
        return monitor
    if space is not None and searched(space, RANKING_UNITS):
        return ORIGINAL_MONITOR
    return PRUNE_MONITOR


def pruned_in_metric_units(metric: str) -> bool:
    """Whether a pruned trial's last value (of :func:`pruning_monitor`) is in ``metric``'s
    units: for the validation loss or a best checkpoint's validation value, which trials are
    pruned on; not for ``fit_seconds`` or ``epochs``."""
    return str(metric) == "val/best_loss" or str(metric).startswith("best/val/")


PRUNED_ON_ATTR = "pruned_on"  # the study's user attribute: the value its trials are pruned on


def check_pruned_on(
    study: optuna.Study, pruned_on: str, pruner: str, where: str, rename: str
) -> None:
    """Record with ``study`` the value its trials are pruned on (:func:`pruning_monitor`),
    or, where it recorded another, refuse to resume it with an active ``pruner``: its trials'
    intermediate values, in the other value's units, would be compared with this run's. A
    study whose trials stored intermediate values without a record (a tsfm before this
    record) pruned on :data:`PRUNE_MONITOR`. With ``pruner`` none nothing is compared and
    the study resumes (its record stands)."""
    recorded = study.user_attrs.get(PRUNED_ON_ATTR)
    stored_before = recorded is None and any(
        t.intermediate_values for t in study.get_trials(deepcopy=False)
    )
    if recorded is None:
        recorded = PRUNE_MONITOR if stored_before else pruned_on
    if recorded != pruned_on and pruner != "none":
        setting = "tune.pruner=none" if rename.startswith("tune.") else "pruner='none'"
        why = " (stored before tsfm recorded it, when every study pruned on it)"
        raise InputError(
            f"study '{study.study_name}' in {where} pruned its trials on {recorded}"
            f"{why if stored_before else ''}, and this run prunes on {pruned_on} (what its "
            f"metric and search space rank trials by): the {pruner} pruner would compare the "
            f"study's epoch values with this run's in other units. Start a new study for this "
            f"metric and search space ({rename}), or resume this one without pruning "
            f"({setting})"
        )
    if PRUNED_ON_ATTR not in study.user_attrs:  # the study's own, which a resume keeps
        study.set_user_attr(PRUNED_ON_ATTR, recorded)
