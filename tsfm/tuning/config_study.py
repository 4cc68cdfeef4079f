"""Studies over a composed run config: the code behind ``python -m tsfm.tune``.

Each trial composes the run config with the drawn values (so group choices can be searched
too), trains with the pruning callback (on ``val/loss``, or on what ``tune.metric`` ranks:
:func:`~tsfm.tuning.pruning.pruning_monitor`) and reports the best validation loss;
the test split is not touched. At the end the worker writes, under ``tune.dir``:
``experiment/<model>_<data>_<horizon>_tuned.yaml`` (the best overrides), ``trials.csv``,
``results.txt``, ``history.png`` and ``importance.png``.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from tsfm.config import CONF_DIR
from tsfm.config_keys import check_known_keys
from tsfm.errors import InputError
from tsfm.tuning.preset_files import config_folders, preset_file, preset_keys

SEARCHED_GROUPS = ("data", "model", "optim")
GROUPS = (*SEARCHED_GROUPS, "trainer", "callbacks", "logger", "experiment")
MACHINE_KEYS = ("data.root",)
NOT_COPIED = ("tune.", "hydra.", "hparams_search", "experiment")


def compose(overrides: Sequence[str], return_hydra_config: bool = False) -> DictConfig:
    """Compose ``conf/config.yaml``, inside a running Hydra app or outside one; inside one
    with the app's ``hydra.searchpath`` (a Hydra override, so not among the task's). A key
    its schema does not declare is refused."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        overrides = [*overrides, *app_searchpath(overrides)]
        cfg = hydra_compose("config", overrides, return_hydra_config=return_hydra_config)
    else:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = hydra_compose("config", list(overrides), return_hydra_config=return_hydra_config)
    check_known_keys(cfg)
    return cfg


def app_searchpath(overrides: Sequence[str]) -> list[str]:
    """``[hydra.searchpath=[...]]`` of the running app, unless ``overrides`` set their own."""
    if not HydraConfig.initialized() or not HydraConfig.get().searchpath:
        return []
    if any(o.lstrip("+~").startswith("hydra.searchpath=") for o in overrides):
        return []
    quoted = ("'" + p.replace("'", "\\'") + "'" for p in HydraConfig.get().searchpath)
    return [f"hydra.searchpath=[{','.join(quoted)}]"]


# Training-budget settings given on the command line to make trials quick; the best preset
# keeps the preset's own (or the defaults), and its header says which were left out.
SHORTCUT_KEYS = (
    "trainer.limit_train_batches",
    "trainer.limit_val_batches",
    "trainer.limit_test_batches",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.max_time",
    "trainer.fast_dev_run",
    "trainer.val_check_interval",
    "callbacks.early_stopping.patience",
)


def split_shortcuts(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(overrides without the training-budget shortcuts, the shortcuts)``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    kept, shortcuts = [], []
    for text, override in zip(overrides, parsed, strict=True):
        (shortcuts if override.key_or_group in SHORTCUT_KEYS else kept).append(text)
    return kept, shortcuts


def base_of_best(cfg: DictConfig, overrides: Sequence[str]) -> tuple[dict, dict[str, Any]]:
    """Group choices and values the best-overrides file starts from.

    The values are the chosen experiment preset's and the command line's (their effective
    values in ``cfg``), without tuning, Hydra and machine-specific keys; training-budget
    shortcuts of the command line (:data:`SHORTCUT_KEYS`) are not copied: those keys keep
    the preset's own values.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    runtime = _runtime(overrides)
    choices = runtime.choices
    groups = {g: choices[g] for g in SEARCHED_GROUPS if choices.get(g)}
    preset: list[str] = []
    if choices.get("experiment"):
        folders = config_folders(runtime)
        preset = preset_keys(preset_file(choices["experiment"], folders), folders)
    kept, shortcuts = split_shortcuts(overrides)
    cut = {o.split("=", 1)[0].lstrip("+~") for o in shortcuts}
    keys = list(preset)
    for override in OverridesParser.create().parse_overrides(kept):
        key = override.key_or_group
        if key in choices or key.startswith(NOT_COPIED) or key in MACHINE_KEYS:
            continue
        if not override.is_delete():
            keys.append(key)
    clean = (
        compose(kept) if cut else cfg
    )  # with the searchpath: its configs compose again  # the preset's own values of the shortcut keys
    return groups, {
        key: OmegaConf.select(clean if key in cut else cfg, key) for key in dict.fromkeys(keys)
    }


def _runtime(overrides: Sequence[str]) -> DictConfig:
    """``hydra.runtime`` (the choices, the search path) of the running app, or of the config
    ``overrides`` compose outside one."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime
    return compose(overrides, return_hydra_config=True).hydra.runtime


def trial_config(cfg: DictConfig, overrides: Sequence[str], values: dict[str, Any]) -> DictConfig:
    """``cfg`` with a trial's values: composed afresh when a config group is searched, else
    set on a copy (the typed schema checks them either way)."""
    from tsfm.tuning.space import format_override

    if any("." not in key and key in GROUPS for key in values):
        return compose([*overrides, *(format_override(k, v) for k, v in values.items())])
    trial_cfg = copy.deepcopy(cfg)
    for key, value in values.items():
        if OmegaConf.select(trial_cfg, key, default=KeyError) is KeyError:
            raise InputError(f"search space key '{key}' is not in the run config")
        OmegaConf.update(trial_cfg, key, value, merge=False)
    return trial_cfg


def check_space(cfg: DictConfig, overrides: Sequence[str], space: dict[str, Any]) -> dict:
    """Every entry of the search space against the run config, before the first trial: each
    key must exist (in some choice of a searched group) and each choice, or both ends of a
    range, must fit its type, pass the run's checks and give a model and optimizer (built on
    the meta device); otherwise every trial would fail the same way. Returns the space to
    search: choices of the shipped ``hparams_search`` space that no trial of this run can use
    are dropped with a warning (:func:`shipped_keys`); the user's own entries are refused."""
    from tsfm.tuning.checks import fit_space, refuse_unit_changes
    from tsfm.tuning.space import candidate_values, space_error

    refuse_unit_changes(space, metric=cfg.tune.metric)
    groups = {k: candidate_values(v) for k, v in space.items() if "." not in k and k in GROUPS}

    def configure(values: dict[str, Any]) -> DictConfig:  # as train_trial does
        return trial_config(cfg, overrides, {**values, "test": False})

    def describe(key: str, value: Any, why: str, fitting: Any, shipped: bool) -> str:
        message = space_error(key, value, why, cfg, "the run config")
        if message.startswith("search space key"):  # a key that is not there
            return message
        drop = f"drop the entry with '+tune.params={{{key}:null}}'"
        if shipped:
            return f"{message}; no value of the shipped search space fits this run: {drop}"
        values = ",".join(map(str, fitting)) if fitting else "<values that fit>"
        return (
            f"{message}; to search other values, change the entry: "
            f"'+tune.params={{{key}:\"choice({values})\"}}', or {drop}"
        )

    return fit_space(space, configure, groups, shipped_keys(cfg, overrides, space), describe)


def shipped_keys(cfg: DictConfig, overrides: Sequence[str], space: dict[str, Any]) -> set[str]:
    """The entries of ``space`` as the shipped ``hparams_search`` config of ``cfg``
    (``conf/hparams_search/<name>.yaml``) writes them, and not set on the command line."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from tsfm.tuning.space import parse_space

    choices = _runtime(overrides).choices
    path = CONF_DIR / "hparams_search" / f"{choices.get('hparams_search')}.yaml"
    if not choices.get("hparams_search") or not path.is_file():
        return set()
    shipped = OmegaConf.load(path).tune.params
    written = set()
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key == "tune.params" and isinstance(override.value(), dict):
            written |= set(override.value())
        elif key.startswith("tune.params."):
            written.add(key.removeprefix("tune.params."))
    ours = parse_space({k: v for k, v in shipped.items() if k in space and k not in written})
    return {key for key, dist in ours.items() if space[key] == dist}


def tune(cfg: DictConfig, overrides: Sequence[str] = ()) -> tuple[Any, dict[str, Any]]:
    """Run (or resume, or join) the study ``cfg.tune`` describes; returns it and its outputs.

    ``overrides`` are the ones ``cfg`` was composed with; every trial starts from them.
    """
    from tsfm.pipeline import fit_and_test
    from tsfm.training.artifacts import write_run_files
    from tsfm.training.console import quiet
    from tsfm.tuning.checks import check_data, check_metric, checkpoint_monitor
    from tsfm.tuning.one_process import check_one_process
    from tsfm.tuning.outputs import best_trial, write_outputs
    from tsfm.tuning.problem import recorded_check, study_problem
    from tsfm.tuning.pruning import pruning_monitor
    from tsfm.tuning.space import fixed_values, parse_space, searched_entries
    from tsfm.tuning.space_models import check_space_model
    from tsfm.tuning.study import (
        NoBestTrial,
        check_n_trials,
        no_best,
        objective_value,
        open_study,
        run_trials,
    )

    check_known_keys(cfg)  # a key nothing would read, before anything else
    check_space_model(cfg, overrides)  # a space of another model: its keys are not this run's
    runtime = _runtime(overrides)
    if runtime.choices.get("experiment"):  # read after the trials: refused before them
        preset_file(runtime.choices.experiment, config_folders(runtime))
    settings = cfg.tune
    check_n_trials(settings.n_trials, "tune.n_trials")
    params = searched_entries(settings.params)
    if not params:
        raise InputError(
            "no search space: add hparams_search=<model> (conf/hparams_search/), or give one "
            "on the command line ('+tune.params={model.d_model:\"choice(64,128)\",...}') or "
            "as tune.params in a config file"
        )
    space = parse_space(params)
    check_one_process(cfg, space, overrides)  # before the study and any trial's config
    check_metric(settings.metric, "tune.metric", checkpoint_monitor(cfg))
    space = check_space(cfg, overrides, space)
    digest = check_data(cfg, space)  # the data's SHA-256, read once before the first trial
    directory = Path(settings.dir)
    storage = settings.storage or f"sqlite:///{directory / 'study.db'}"
    seed = cfg.seed if settings.seed is None else settings.seed
    rename = "tune.study_name=..." + ("" if settings.storage else " or tune.dir=...")
    problem = study_problem(cfg, space, settings.metric)
    if digest is not None:  # a file changed in place (same data.path) is other data
        problem["data_sha256"] = digest
    monitor = pruning_monitor(settings.metric, checkpoint_monitor(cfg), space)
    study = open_study(settings, storage, seed, problem, rename, monitor)

    def train_trial(trial, values: dict[str, Any], callbacks: list) -> float:
        trial_cfg = trial_config(cfg, overrides, {**values, "test": False})
        run_dir = directory / "trials" / f"{trial.number:04d}"
        try:
            with quiet(verbose=False):
                result = fit_and_test(trial_cfg, run_dir, extra_callbacks=callbacks)
            write_run_files(trial_cfg, run_dir, result.metrics)
            return objective_value(result.metrics, settings.metric, result.trainer)
        finally:
            if not settings.keep_checkpoints:
                shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)

    recheck = recorded_check(study, problem, storage, rename)  # workers opening it together
    run_trials(
        study, space, train_trial, settings.n_trials, settings.timeout, settings.worker_trials,
        recheck=recheck, monitor=monitor,
    )  # fmt: skip
    groups, base_values = base_of_best(cfg, overrides)
    base_values = {**base_values, **fixed_values(space)}
    name = f"{cfg.model.name}_{cfg.data.name}_{cfg.data.pred_len}_tuned"
    shortcuts = split_shortcuts(overrides)[1]
    notes = (
        [f"Trials ran with the shortcuts {', '.join(shortcuts)}; not copied here: this preset "
         "trains with the preset's own settings (or the defaults)."]
        if shortcuts else []
    )  # fmt: skip
    outputs = write_outputs(
        study, directory, name, groups, base_values, settings.metric, settings.plots, notes
    )
    if best_trial(study, space) is None:  # every trial failed: no preset, and a failed command
        reasons = no_best(study, study.study_name, "tune.n_trials")
        raise NoBestTrial(f"{reasons}; {directory / 'results.txt'} lists every trial")
    return study, outputs
