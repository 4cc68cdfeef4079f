"""From the estimator's parameters to the run config ``python -m tsfm.run`` would compose.

Extra keyword parameters are, in this order of lookup:

1. a hyperparameter of the model (``d_model=128`` -> ``model.d_model``);
2. a short name for a common setting (``max_epochs``, ``lr``, ``batch_size``, ... below);
3. any config key with ``__`` for the dots (``trainer__gradient_clip_val=1.0``,
   ``callbacks__early_stopping__patience=5``), as in scikit-learn's nested parameters.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.errors import InputError
from tsfm.estimator.cli_settings import check_panel_settings, unused
from tsfm.estimator.config_values import set_value
from tsfm.estimator.fit_calendar import settle_calendar
from tsfm.estimator.guards import check_run_only, override_key
from tsfm.estimator.lookback import lookback_of
from tsfm.estimator.other_names import refuse_other_parameters, unknown_parameter
from tsfm.estimator.preset_config import compose_for
from tsfm.estimator.sizing import calibration_defaults, data_sized
from tsfm.estimator.small_data import small_data_defaults
from tsfm.models import REGISTRY, RENAMED, default_hyperparameters
from tsfm.training.artifacts import settle_levels
from tsfm.training.conformal import check_conformal
from tsfm.training.heads import make_head
from tsfm.training.nonnegative import check_setting
from tsfm.training.processes import multi_process
from tsfm.training.runtime import check_seed
from tsfm.training.scoring import sorted_quantiles

ALIASES = {
    "max_epochs": "trainer.max_epochs",
    "max_time": "trainer.max_time",  # seconds, "DD:HH:MM:SS" or a timedelta
    "accelerator": "trainer.accelerator",
    "devices": "trainer.devices",
    "precision": "trainer.precision",
    "lr": "optim.lr",
    "learning_rate": "optim.lr",
    "optimizer": "optim.optimizer",
    "weight_decay": "optim.weight_decay",
    "scheduler": "optim.scheduler",
    "scaler": "data.scaler",
    "batch_size": "data.batch_size",
    "eval_batch_size": "data.eval_batch_size",
    "patience": "callbacks.early_stopping.patience",
    "seed": "seed",
    "loss": "loss",
    "quantiles": "quantiles",
    "levels": "levels",
    "season_length": "season_length",
    "nonnegative": "nonnegative",
    "conformal_windows": "conformal.windows",
    "conformal_step": "conformal.step",
    "conformal_normalize": "conformal.normalize",
    "conformal_adaptive_rate": "conformal.adaptive_rate",
    "check_memory": "check_memory",
    "threads": "threads",
    "reuse_freed_memory": "reuse_freed_memory",
    "release_freed_memory": "release_freed_memory",
}
SAVE_LAST = "callbacks.checkpoint.save_last"  # off in a fit unless the user sets it
# Set from the estimator's own arguments and the data; a parameter may not change them.
MANAGED = {
    "data.seq_len": "lookback",
    "data.pred_len": "horizon",
    "data.date_col": "date_col",
    "data.name": None,
    "data.path": None,
    "data.root": None,
    "data.id_col": "id_col",  # a long frame's columns and how its series are read
    "data.mode": "mode",
    "data.target": "targets",
    "data.targets": "targets",
    "data.future_covariates": "future_covariates",
    "data.past_covariates": "past_covariates",
    "data.static_covariates": "static_covariates",
    "data.missing": "missing",
    "data.columns": None,
    "data.train_ratio": "val_size",  # the command line's split protocol: the Forecaster's
    "data.test_ratio": "val_size",  # rows are the ones it is given, validation val_size
    "data.percent": None,
    "data.scaler_on_subset": None,
    "train": None,
    "test": None,
}
# Arguments of one call, not settings of the model: passed as parameters, they are pointed to
# the calls that take them.
PER_CALL = {
    "mase_scale": ("evaluate, backtest and cross_validate", "f.evaluate(df, mase_scale='history')"),
    "n_windows": ("cross_validate and backtest", "f.cross_validate(df, n_windows=3, step=24)"),
    "step": ("cross_validate and backtest", "f.backtest(df, n_windows=3, step=24)"),
    "refit": ("cross_validate", "f.cross_validate(df, n_windows=3, refit=False)"),
    "cutoffs": ("cross_validate and backtest", "f.cross_validate(df, cutoffs='shared')"),
    "per_series": ("evaluate", "f.evaluate(df, per_series=True)"),
    "return_forecasts": ("evaluate", "f.evaluate(df, return_forecasts=True)"),
}


def model_hyperparameters(model: str) -> set[str]:
    return set(default_hyperparameters(model)) if model in REGISTRY else set()


def config_key(model: str, name: str) -> str:
    """The config key an extra parameter sets (ValueError for an unknown one)."""
    check_run_only(names=[name])
    if name in model_hyperparameters(model):
        key = f"model.{name}"
    elif name in ALIASES:
        key = ALIASES[name]
    elif "__" in name:
        key = name.replace("__", ".")
    elif name in RENAMED.get(model, {}):
        raise InputError(f"parameter '{name}' of model '{model}' is now '{RENAMED[model][name]}'")
    elif name in PER_CALL:
        calls, example = PER_CALL[name]
        raise InputError(
            f"'{name}' is an argument of {calls}, not a parameter of the Forecaster: pass it to "
            f"the call (e.g. {example}) and drop it from Forecaster(...)/set_params"
        )
    else:
        refuse_other_parameters([name])  # another library's name: tsfm's named
        raise InputError(
            unknown_parameter(model, name, model_hyperparameters(model), ALIASES, PER_CALL)
        )
    if key in MANAGED:
        raise InputError(managed(f"parameter '{name}'", key))
    why = unused(f"parameter '{name}'", key, model)
    if why:
        raise InputError(why)
    return key


def managed(what: str, key: str) -> str:
    """Why ``what`` (a parameter or override) may not set the MANAGED ``key``."""
    instead = MANAGED[key]
    if instead:
        return (
            f"{what} sets {key}, which the Forecaster's '{instead}' argument controls; pass "
            f"{instead}=... instead"
        )
    return f"{what} sets {key}, which the Forecaster sets from the frame you fit"


def check_overrides(overrides: list[str] | None, model: str = "<model>") -> None:
    """Overrides: a list of ``key=value`` strings, none setting what the Forecaster sets or
    what only the command line reads (they would be ignored)."""
    if overrides is not None and (
        isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides)
    ):
        raise InputError(
            "overrides must be a list of 'key=value' strings (Hydra overrides, as on the "
            f"command line), e.g. overrides=['optim=adamw_cosine']; got {overrides!r}"
        )
    check_run_only(overrides)
    for text in overrides or []:
        key = override_key(text)
        if key in MANAGED:
            raise InputError(managed(f"override {text!r}", key))
        why = unused(f"override {text!r}", key, model)
        if why:
            raise InputError(why)


def check_one_process(trainer: Any, model: str) -> None:
    """Refuse trainer settings that would start more than one process: Lightning would start
    the others by running the user's script again, which would fit once more in each."""
    why = multi_process(trainer, lambda key: param_name(model, f"trainer.{key}"))
    if why is not None:
        raise InputError(
            f"the Forecaster trains in one process, and {why}: Lightning would start the "
            "others by running your script again, fitting it once more in each. Pass "
            "devices=1 (one GPU: accelerator='gpu', devices=1); for multi-device or "
            "multi-node training use python -m tsfm.run trainer=ddp (README: 'Scaling out: "
            "DDP on one or several nodes')"
        )


def param_name(model: str, key: str) -> str:
    """The parameter name of a config key (inverse of :func:`config_key`)."""
    if key.startswith("model.") and key[6:] in model_hyperparameters(model):
        return key[6:]
    for alias, target in ALIASES.items():
        if target == key:
            return alias
    return key.replace(".", "__")


def given_keys(est: Any) -> dict[str, str]:
    """The config keys the user set, each with the parameter or override that sets it."""
    keys = {override_key(o): f"override {o!r}" for o in est.overrides or []}
    keys.update({config_key(est.model, n): f"parameter '{n}'" for n in est.extra_params()})
    return keys


def build_config(
    est: Any,
    *,
    freq: str | int,
    has_dates: bool,
    time_col: str | None,
    roles: dict[str, Any] | None = None,
    n_windows: int | None = None,
    n_scores: Any = None,
    applied: dict[str, Any] | None = None,
    fitted_model: dict[str, Any] | None = None,
) -> DictConfig:
    """The resolved run config of one fit: the preset, the overrides, the parameters, then
    the column ``roles`` (``data.`` settings, already in the table's column names).
    ``applied`` receives ``schedule_stretch`` (:func:`small_data_defaults`); a warm fit keeps
    its ``fitted_model``'s data-sized values (the weights' own, whatever today's sizing)."""
    check_overrides(est.overrides, est.model)
    cfg = compose_for(est.model, est.experiment, est.overrides)
    settings = {
        "data.name": "custom",
        "data.path": None,
        "data.root": None,
        "data.seq_len": lookback_of(est),
        "data.pred_len": est.horizon,
        "data.date_col": time_col if has_dates else None,
        "data.target": None,
        "data.columns": None,
        **{f"data.{k}": v for k, v in (roles or {}).items()},
        "train": True,
        "test": False,
        "output.plot": False,
        "output.print_table": False,
    }
    if not any(o.startswith("logger=") for o in est.overrides or []):
        settings["logger.name"] = "none"
    if not {"callbacks", "callbacks.checkpoint", SAVE_LAST} & set(given_keys(est)):
        settings[SAVE_LAST] = False  # last.ckpt is for resume=true, which a fit never does
    sized = {} if n_windows is None else data_sized(est, n_windows, freq, cfg.model)
    # a width a tuning trial drew trains as a data-sized one would (estimator/searched.py)
    drawn = {} if n_windows is None else data_sized(est, n_windows, freq, cfg.model, True)
    width_sized = "model.d_model" in {**sized, **drawn}
    if fitted_model is not None:
        sized = {k: fitted_model.get(k.removeprefix("model."), v) for k, v in sized.items()}
    settings.update(sized)  # the composed defaults
    for key, value in settings.items():
        set_value(cfg, key, value, "the estimator")
    named: dict[str, str] = {}
    for name, value in est.extra_params().items():
        key = config_key(est.model, name)
        if key in named:
            raise InputError(
                f"parameters '{named[key]}' and '{name}' both set {key}; keep one of them"
            )
        named[key] = name
        set_value(cfg, key, value, f"parameter '{name}'")
    check_panel_settings(est, given_keys(est))
    if OmegaConf.is_list(cfg.get("quantiles")):  # any order, as predict(quantiles=...) takes
        cfg.quantiles = sorted_quantiles(list(cfg.quantiles))
    if n_windows is not None:  # a data-sized width's learning rate and least steps
        stretch = small_data_defaults(cfg, set(given_keys(est)), width_sized, n_windows)
        if applied is not None:
            applied["schedule_stretch"] = stretch
    check_seed(cfg.seed)  # an override's too
    if cfg.conformal.windows and n_scores is not None:
        calibration_defaults(est, cfg, n_scores(cfg.conformal.windows))
    settle_levels(cfg)  # None: the default
    check_setting(cfg.get("nonnegative"))
    head = make_head(cfg.loss, cfg.quantiles, cfg.levels)  # checks them before any training
    conformal = cfg.conformal
    check_conformal(conformal.windows, conformal.step, conformal.adaptive_rate, prefix="conformal_")
    if cfg.conformal.windows and getattr(est, "mode", "joint") != "joint":
        if est.val_size is None:
            raise InputError(
                "conformal_windows with mode='independent' calibrates on each series' last "
                "windows: hold them out with val_size=... (e.g. val_size=0.2)"
            )
        if cfg.conformal.adaptive_rate:
            raise InputError(
                "conformal_adaptive_rate adapts along one series' windows; mode='independent' "
                "pools the calibration scores of every series: leave it at 0"
            )
    if cfg.conformal.windows and head.probabilistic:
        raise InputError(
            f"conformal_windows calibrates point models; loss={cfg.loss!r} already forecasts "
            "intervals (use a point loss, e.g. loss='mse', for conformal intervals)"
        )
    if has_dates:
        settle_calendar(est, cfg, freq)  # data.freq: the frame's, or one that fits it
    check_one_process(cfg.trainer, est.model)
    OmegaConf.resolve(cfg)
    return cfg


def describe_key(model: str, key: str) -> str:
    """A config key in the estimator's terms: its parameter name, with the key."""
    name = MANAGED.get(key) or param_name(model, key)
    return key if name == key else f"{name} ({key})"
