"""What ``Forecaster.tune`` refuses before its first trial: settings it takes otherwise or
has no use for, and search-space entries that would fail every trial (a key that names no
parameter, a value of the wrong type or that the model or optimizer refuses)."""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import OmegaConf

from tsfm.errors import InputError
from tsfm.estimator.params import config_key, param_name, set_value
from tsfm.estimator.preset_config import compose_for
from tsfm.training.runtime import check_seed
from tsfm.tuning.config import TuneConfig
from tsfm.tuning.space_models import space_for

LOOKBACK = "data.seq_len"  # the study's name of a searched lookback, as on the command line


def check_lookbacks(values: list[Any]) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(
                f"search space entry lookback: {value!r} is not a positive whole number of "
                "steps; use e.g. [48, 96, 192] or 'int(interval(24, 192))'"
            )


def _run_config(est: Any, overrides: list[str]) -> Any:
    """The forecaster's run config with ``overrides``: its lengths and parameters set (what
    a trial builds its model from, before the data's settings)."""
    cfg = compose_for(est.model, est.experiment, overrides)
    values = {"data.pred_len": est.horizon, "train": True, "test": False}
    if est.lookback is not None:  # None: the preset's until the data chooses (lookback.py)
        values[LOOKBACK] = est.lookback
    values.update({config_key(est.model, k): v for k, v in est.extra_params().items()})
    for key, value in values.items():
        set_value(cfg, key, value, f"the setting {key}")
    return cfg


def check_one_process(est: Any, space: dict[str, Any], overrides: list[str]) -> None:
    """Refuse settings or search-space entries with which a trial would start more than one
    process: Lightning would start the others by running the user's script again."""
    from tsfm.tuning.one_process import multi_process_trial

    def group_trainer(group: str, choice: Any) -> Any:
        return _run_config(est, [*overrides, f"{group}={choice}"]).trainer

    trainer = _run_config(est, overrides).trainer
    name = lambda key: param_name(est.model, f"trainer.{key}")  # noqa: E731
    why = multi_process_trial(trainer, space, group_trainer, name)
    if why is not None:
        raise InputError(
            f"Forecaster.tune trains each trial in one process, and {why}: Lightning would "
            "start the others by running your script again. Pass devices=1; to use several "
            "devices, run one process per device, each calling tune with the same storage= "
            "and study_name= (README: 'Tuning with Optuna: python -m tsfm.tune')"
        )


def check_space(
    est: Any, space: dict[str, Any], shipped: bool = False, metric: str = "val/best_loss"
) -> dict[str, Any]:
    """Every search-space entry against the forecaster's run config before the first trial:
    the key must become a parameter, and each choice (or both ends of a range) must fit, pass
    the run's checks and give a model and optimizer (built on the meta device). Returns the
    space to search: with ``shipped`` (the model's default space, not the user's), choices
    that no trial can use are dropped with a warning (:func:`~tsfm.tuning.checks.fit_space`);
    a search over the scaling is refused where ``metric`` is in the scaled units."""
    from tsfm.tuning.checks import fit_space, refuse_unit_changes
    from tsfm.tuning.space import candidate_values, format_override, space_error

    monitor = param_name(est.model, "callbacks.checkpoint.monitor")
    refuse_unit_changes(
        space,
        lambda key: f"Forecaster(..., {param_name(est.model, key)}=...)",
        metric,
        f"{monitor}='val/mae_original' with metric='best/val/mae_original'",
    )
    overrides = list(est.overrides or [])
    check_one_process(est, space, overrides)
    for key, dist in space.items():
        if key == LOOKBACK:  # the Forecaster's own argument, not a config value
            check_lookbacks(candidate_values(dist))
        elif "." in key:
            config_key(est.model, param_name(est.model, key))  # refuses keys it manages

    def configure(values: dict[str, Any]) -> Any:
        chosen = [format_override(k, v) for k, v in values.items() if "." not in k]
        cfg = _run_config(est, [*overrides, *chosen])
        for key, value in values.items():
            if "." in key:
                OmegaConf.update(cfg, key, value, merge=False)  # the schema checks it
        return cfg

    def describe(key: str, value: Any, why: str, fitting: Any, default: bool) -> str:
        base = compose_for(est.model, est.experiment, overrides)
        message = space_error(key, value, why, base, f"the run config of model '{est.model}'")
        if message.startswith("search space key"):  # a key that is not there
            return message
        if default:
            return (
                f"{message}; no value of this entry in the default search space "
                f"(conf/hparams_search/{space_for(est.model)}.yaml) fits: pass search_space={{...}} "
                "without it, or with values that fit"
            )
        values = repr(fitting) if fitting else "[values that fit]"
        return (
            f"{message}; to search other values, change the entry: "
            f"search_space={{{key!r}: {values}, ...}} (or leave it out)"
        )

    groups = {k: candidate_values(v) for k, v in space.items() if "." not in k}
    keys = set(space) if shipped else set()
    return fit_space(space, configure, groups, keys, describe, skip=(LOOKBACK,))


# TuneConfig fields tune spells otherwise or has no use for; the rest are STUDY_SETTINGS.
NOT_SETTINGS = {
    "params": "the search space is search_space={...}",
    "model": "the model is the forecaster's own (Forecaster(model, ...)); the default search "
    "space is the conf/hparams_search file that names it",
    "dir": "the study's folder is output_dir=...",
    "keep_checkpoints": "a Forecaster's trials keep no checkpoint (the best trial's model "
    "is kept on the forecaster, with refit=True)",
}
ARGUMENTS = ("n_trials", "timeout", "study_name", "storage")  # tune's own arguments
STUDY_SETTINGS = tuple(
    key for key in TuneConfig.__dataclass_fields__ if key not in (*NOT_SETTINGS, *ARGUMENTS)
)


def study_settings(settings: dict[str, Any]) -> Any:
    """The ``TuneConfig`` of ``tune``'s keyword settings, each one of :data:`STUDY_SETTINGS`
    (checked against its type); a setting tune takes otherwise, or ignores, is refused."""
    tune = OmegaConf.structured(TuneConfig)
    for key, value in settings.items():
        if key in NOT_SETTINGS:
            raise InputError(f"tune does not take {key}=...: {NOT_SETTINGS[key]}")
        if key not in STUDY_SETTINGS:
            raise InputError(
                f"unknown tuning setting '{key}'; tune takes {', '.join(ARGUMENTS)}, "
                "search_space, output_dir, val_df, val_size, static_df, refit and the study "
                f"settings {', '.join(sorted(STUDY_SETTINGS))}"
            )
        if key == "seed":  # as the Forecaster's: no text, bool or out-of-range value
            check_seed(value)
            value = int(value)
        tune[key] = value
    return tune
