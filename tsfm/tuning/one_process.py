"""Tuning trains each trial in one process: settings that would start more than one (DDP,
several devices, several nodes) are refused before the study opens.

Lightning starts DDP's further processes by running the command again; for
``python -m tsfm.tune`` each one joins the study as one more worker, so trials get other
trials' values, and processes that draw different sizes crash. Several devices are used by
running one worker per device on the same study.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig

from tsfm.errors import InputError
from tsfm.training.preflight import plain_node
from tsfm.training.processes import multi_process

GROUPS_WITH_TRAINER = ("trainer", "experiment")  # group entries whose choice sets the trainer
WORKERS = (
    "To use several devices, run one worker per device on the same study instead, each with "
    "trainer.devices=1 and without trainer=ddp (e.g. CUDA_VISIBLE_DEVICES=0 python -m "
    "tsfm.tune ... & CUDA_VISIBLE_DEVICES=1 python -m tsfm.tune ...): they share the study "
    "through tune.storage (README: 'Tuning with Optuna: python -m tsfm.tune')"
)


def multi_process_trial(
    trainer: Mapping[str, Any],
    space: Mapping[str, Any],
    group_trainer: Callable[[str, Any], Mapping[str, Any]] | None = None,
    name: Callable[[str], str] = lambda key: f"trainer.{key}",
) -> str | None:
    """Why some trial would start more than one process (None: none would): the run
    config's ``trainer`` section, or a value of a ``trainer.<name>`` entry of ``space`` (each
    choice, both ends of a range) set on it; ``group_trainer(group, choice)``, where given,
    is the trainer section a ``trainer`` or ``experiment`` group entry's choice gives;
    ``name(key)`` names a trainer setting (:func:`~tsfm.training.processes.multi_process`)."""
    from tsfm.tuning.space import candidate_values

    base = plain_node(trainer)
    why = multi_process(base, name)
    if why is not None:
        return why
    for key, dist in space.items():
        for value in candidate_values(dist):
            if key.startswith("trainer."):
                changed = {**base, key.removeprefix("trainer."): value}
            elif key in GROUPS_WITH_TRAINER and group_trainer is not None:
                changed = plain_node(group_trainer(key, value))
            else:
                continue
            why = multi_process(changed, name)
            if why is not None:
                return f"{why} (search space entry {key}: {value!r})"
    return None


def check_one_process(
    cfg: DictConfig, space: Mapping[str, Any], overrides: list[str] | tuple = ()
) -> None:
    """Refuse a ``python -m tsfm.tune`` run config or search space with which a trial would
    start more than one process (before the study opens or any trial config is built)."""
    from tsfm.tuning.config_study import compose

    def group_trainer(group: str, choice: Any) -> Any:
        return compose([*overrides, f"{group}={choice}"]).trainer

    why = multi_process_trial(cfg.trainer, space, group_trainer)
    if why is not None:
        raise InputError(
            f"python -m tsfm.tune trains each trial in one process, and {why}: Lightning "
            "would start the others by running the tuning command again, each one more "
            "worker of the study (trials with other trials' values, a crash when they draw "
            f"different sizes). {WORKERS}"
        )
