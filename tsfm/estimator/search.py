"""``Forecaster.tune``: the study code of ``python -m tsfm.tune``, with the estimator's fits.

Each trial clones the forecaster, sets the drawn values as parameters and fits on the same
train/validation split, with the pruning callback on the validation loss. Afterwards the
forecaster holds the best parameters and, with ``refit``, the best trial's model (a fitted
model is replaced). A fitted forecaster with ``warm_start=True`` is fine-tuned instead: every
trial is a warm fit from its fitted weights (:mod:`tsfm.estimator.warm_tuning`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tsfm.config import CONF_DIR, compose_config
from tsfm.errors import InputError
from tsfm.estimator.fit_metrics import unsaid_validation, warn_extremes, warn_validation
from tsfm.estimator.guards import check_run_only, override_key
from tsfm.estimator.params import config_key, param_name
from tsfm.estimator.preset_config import compose_for
from tsfm.estimator.search_checks import LOOKBACK, check_space, study_settings
from tsfm.estimator.search_fits import trial_fitter
from tsfm.estimator.searched import mark_searched
from tsfm.estimator.warm_tuning import warm_trials, weights_digest

DEFAULT_VAL_SIZE = 0.2


def default_space(model: str) -> dict[str, str]:
    """The entries of the shipped search space that names ``model`` (its ``tune.model``), as
    ``python -m tsfm.tune`` links them; refused, saying what to pass, where none does."""
    from tsfm.tuning.space import searched_entries
    from tsfm.tuning.space_models import space_for

    space = space_for(model)
    return searched_entries(compose_config(f"model={model}", f"hparams_search={space}").tune.params)


NOT_SEARCHED = {
    "horizon": "the horizon is the forecasting problem itself (trials with other horizons "
    "forecast other targets): run one study per horizon",
    "data.pred_len": "the horizon is the forecasting problem itself (trials with other "
    "horizons forecast other targets): run one study per horizon",
    "val_size": "it decides which rows score a trial, so trials with other values do not "
    "compare: pass val_size=... to tune",
}


def space_key(est: Any, key: str) -> str:
    """A search-space key as the study names it: config keys (``model.d_model``) and config
    groups (``optim``) as given, a Forecaster parameter (``d_model``, ``lr``) as its key,
    ``lookback`` as ``data.seq_len``."""
    if key in ("lookback", LOOKBACK):
        return LOOKBACK
    if key in NOT_SEARCHED:
        raise InputError(f"search space key '{key}' cannot be searched: {NOT_SEARCHED[key]}")
    check_run_only(names=[key])
    if "." in key or (CONF_DIR / key).is_dir():
        return key
    if key in est._get_param_names():
        raise InputError(
            f"search space key '{key}' cannot be searched: it is a Forecaster argument that "
            "describes the data, not the model; of the Forecaster's own arguments only "
            "lookback can"
        )
    try:
        return config_key(est.model, key)
    except ValueError as err:
        raise InputError(
            f"search space key '{key}' is not in the run config, nor a Forecaster parameter ({err})"
        ) from None


def as_params(est: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Drawn ``{config key: value}`` -> estimator parameters (group choices -> overrides)."""
    params: dict[str, Any] = {}
    groups = [f"{key}={value}" for key, value in values.items() if "." not in key]
    if groups:
        chosen = {g.split("=", 1)[0] for g in groups}  # replaces the forecaster's own choice
        kept = [o for o in est.overrides or [] if override_key(o) not in chosen]
        params["overrides"] = [*kept, *groups]
    for key, value in values.items():
        if key == LOOKBACK:
            params["lookback"] = value
        elif "." in key:
            params[param_name(est.model, key)] = value
    return params


def tune_forecaster(
    est: Any,
    df: Any,
    *,
    n_trials: int = 20,
    val_df: Any = None,
    val_size: float | int | None = None,
    search_space: dict[str, Any] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    output_dir: str | Path | None = None,
    timeout: float | None = None,
    refit: bool = True,
    static_df: Any = None,
    **settings: Any,
) -> Any:
    """Run the study and keep the best parameters (and model, with ``refit``).

    Args:
        df, val_df: training frame and an optional validation frame continuing it; without
            ``val_df`` the last ``val_size`` rows (default: the estimator's, else 20 %) validate
            (``mode="independent"``: of every series, as in ``fit``).
        static_df: static covariates, one row per series, as for ``fit``.
        n_trials: finished trials the study should hold (a resumed study runs the rest; a
            failed trial is replaced, up to as many failures as trials were missing).
        search_space: ``{key: expression}``: a config key (``model.d_model``), config group
            (``optim``) or Forecaster parameter (``d_model``, ``lr``), each with an expression
            in Hydra's sweeper grammar (``"choice(64, 128)"``), a list (a choice) or an Optuna
            distribution; default the model's ``conf/hparams_search/<model>.yaml``.
        storage: an Optuna RDB URL; default SQLite in ``output_dir``, or in memory without one.
        output_dir: where the study file, best overrides, results table and plots go.
        **settings: the study settings of :data:`STUDY_SETTINGS` (``pruner``, ``seed``, ...),
            as :class:`~tsfm.tuning.TuneConfig` describes them.
    """
    from tsfm.estimator.search_problem import study_problem
    from tsfm.tuning.checks import check_metric
    from tsfm.tuning.outputs import best_trial, write_outputs
    from tsfm.tuning.problem import recorded_check
    from tsfm.tuning.pruning import pruning_monitor
    from tsfm.tuning.space import fixed_values, parse_space
    from tsfm.tuning.study import (
        NoBestTrial,
        check_n_trials,
        no_best,
        objective_value,
        open_study,
        run_trials,
    )

    check_n_trials(n_trials, "n_trials")
    tune = study_settings(settings)
    check_metric(tune.metric, "metric", checkpoint_monitor(est))
    if search_space is None:
        space_spec = default_space(est.model)
    else:
        space_spec = {space_key(est, key): value for key, value in search_space.items()}
    space = parse_space(space_spec)
    warm = warm_trials(est, space, shipped=search_space is None)  # None: fresh trials
    space = check_space(est, space, shipped=search_space is None, metric=tune.metric)
    size = val_size if val_size is not None else (est.val_size or DEFAULT_VAL_SIZE)
    fit, digest = trial_fitter(est, df, val_df, size, static_df, warm)
    fit = unsaid_validation(fit)  # trials warn nothing of their validation; the model kept does
    directory = Path(output_dir) if output_dir is not None else None
    url = storage or (f"sqlite:///{directory / 'study.db'}" if directory else None)

    lookback = "lookbacks" if LOOKBACK in space else est.lookback  # tune sets the best one
    lookback = "auto" if lookback is None else lookback  # chosen by the data (lookback.py)
    tune.study_name = study_name or f"{est.model}_{lookback}_{est.horizon}" + (
        "" if warm is None else "_warm"
    )
    tune.n_trials = n_trials
    seed = tune.seed if tune.seed is not None else est.extra_params().get("seed")
    if seed is None:
        seed = compose_config().seed
    import optuna

    optuna.logging.set_verbosity(
        optuna.logging.INFO if int(est.verbose) >= 2 else optuna.logging.WARNING
    )
    problem = study_problem(est, space, tune.metric, size, digest, static_df)
    if warm is not None:  # the trials' values are those of fine-tuning these weights
        problem["warm_start_weights_sha256"] = weights_digest(warm)
    rename = "study_name=..." + ("" if storage else " or output_dir=...")
    monitor = pruning_monitor(tune.metric, checkpoint_monitor(est), space)  # its units
    study = open_study(tune, url, seed, problem, rename, monitor)
    kept: dict[str, Any] = {}

    def train_trial(trial, values: dict[str, Any], callbacks: list) -> float:
        from sklearn.base import clone

        drawn = as_params(est, values)
        candidate = clone(est).set_params(**drawn)
        mark_searched(candidate, drawn)  # a drawn width trains as a data-sized one
        result = fit(candidate, callbacks)
        value = objective_value(result.metrics, tune.metric, result.trainer)
        if not kept or value < kept["value"]:
            kept.update(value=value, number=trial.number, model=candidate)
        return value

    tracebacks = int(est.verbose) >= 2
    recheck = recorded_check(study, problem, url or "memory", rename)  # workers racing
    run_trials(
        study, space, train_trial, n_trials, timeout, tune.worker_trials, tracebacks, recheck,
        monitor,
    )  # fmt: skip
    best = best_trial(study, space)
    if best is None:
        raise NoBestTrial(no_best(study, tune.study_name))
    drawn = {**fixed_values(space), **best.params}
    best_values = {key: drawn[key] for key in space if key in drawn}  # in the trials' order
    best_params = as_params(est, best_values)
    if val_df is None:  # the trials validated on that share: a refit of est does the same
        best_params["val_size"] = size
    best_model = kept.get("model") if kept.get("number") == best.number else None
    if refit and best_model is None:  # the best trial ran in another process (shared or
        from sklearn.base import clone  # resumed study); est is changed once it is trained

        best_model = clone(est).set_params(**best_params)
        mark_searched(best_model, best_params)
        fit(best_model, [])
    est.set_params(**best_params)
    mark_searched(est, best_params)  # its next fit (and a clone's) repeats the best trial
    if not refit:  # warm: only training settings changed, and its next fit repeats the best
        if warm is None:
            est._forget()  # a model fitted before no longer matches the parameters
    else:
        _adopt(est, best_model)
        warn_extremes(
            est, est.fit_metrics_.get("extreme_values"), est.config_.data
        )  # unsaid in the trials
        warn_validation(est, est.config_, est.fit_metrics_)  # worse than a baseline, ...
    if directory is not None:
        chosen = getattr(kept.get("model"), "lookback_", None)  # lookback=None: the trials'
        values = {"data.seq_len": getattr(est, "lookback_", est.lookback) or chosen}
        values["data.pred_len"] = est.horizon
        values.update({config_key(est.model, k): v for k, v in est.extra_params().items()})
        groups = {"model": est.model, "data": "custom"}
        name = f"{est.model}_custom_{est.horizon}_tuned"
        est.tuning_outputs_ = write_outputs(
            study, directory, name, groups, values, tune.metric, tune.plots
        )
    est.study_ = study
    est.best_params_ = {"model": est.model, **as_params(est, best_values)}
    return est


def checkpoint_monitor(est: Any) -> str:
    """What ``est``'s fits choose the best checkpoint by (its overrides and parameters)."""
    cfg = compose_for(est.model, est.experiment, est.overrides)
    for name, value in est.extra_params().items():
        if config_key(est.model, name) == "callbacks.checkpoint.monitor":
            cfg.callbacks.checkpoint.monitor = value
    return str(cfg.callbacks.checkpoint.monitor)


def _adopt(est: Any, fitted: Any) -> None:
    for name, value in vars(fitted).items():
        if name.endswith("_") and not name.startswith("_"):
            setattr(est, name, value)
