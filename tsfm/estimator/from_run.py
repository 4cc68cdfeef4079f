"""A run of ``python -m tsfm.run`` as a fitted Forecaster (:meth:`Forecaster.from_run`).

The run directory holds the resolved ``config.yaml``, the checkpoints and ``metrics.json``;
the data it read (a wide table, or a long file of independent series) is read again from
where the run found it (or from ``data_path`` / ``data_root``), split and scaled as the run
did, and checked against the digest metrics.json recorded and the scaling the checkpoint
recorded, so a file changed since the run is refused rather than forecast with other data.
The Forecaster's parameters are the run's settings: every model hyperparameter, and every
other setting the run changed from the defaults (optimizer, trainer, early stopping, loss,
intervals, seed, batch sizes, ...), so that ``fit`` on new data trains the run's model
again. A refit does not repeat the run's train/validation/test protocol: it validates on the
trailing ``val_size`` rows, the share of the rows the run trained and validated on that it
validated on. The layout-specific parts are in :mod:`tsfm.estimator.run_layouts`. The
model's pretrained backbones are built from the architecture configs the checkpoint records
(checkpoints written before it was recorded: read from the backbone's source); ``sources``
say where a backbone is now if it moved (:mod:`tsfm.estimator.moved_sources`).
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from tsfm.data import ForecastDataModule
from tsfm.data.seasons import resolve_season_length
from tsfm.errors import InputError
from tsfm.estimator.checks import remember_fitted_params
from tsfm.estimator.moved_sources import apply_sources, missing_source
from tsfm.estimator.params import MANAGED, build_config, param_name
from tsfm.estimator.persistence import checked_config
from tsfm.estimator.preset_config import compose_for
from tsfm.estimator.roles import role_settings
from tsfm.estimator.run_data import check_same_data, run_data
from tsfm.estimator.run_layouts import (
    check_supported,
    data_arguments,
    is_panel,
    keep_state,
    sampling,
)
from tsfm.local_files import local_path, refuse_url
from tsfm.training.architectures import recorded_in
from tsfm.training.artifacts import levels_of
from tsfm.training.checkpoints import load_checkpoint, module_of
from tsfm.training.runtime import fitted_precision, warn_moved_precision
from tsfm.tuning.problem import flat

# Settings a Forecaster takes from its own arguments and the frame (params.MANAGED, checked
# in `carried`), or that concern how and where the run ran rather than what it trained; the
# rest of these sections is carried over.
CARRIED = ("data", "optim", "trainer", "callbacks.early_stopping", "callbacks.checkpoint")
CARRIED += ("conformal",)
CARRIED_TOP = ("loss", "quantiles", "levels", "season_length", "seed", "threads")
CARRIED_TOP += ("reuse_freed_memory", "release_freed_memory", "check_memory", "nonnegative")
NOT_CARRIED = {
    *(f"data.{k}" for k in ("id_col", "mode", "cutoffs", "features", "allow_irregular")),
    *(f"trainer.{k}" for k in ("accelerator", "strategy", "devices", "num_nodes", "logger")),
    *(f"trainer.enable_{k}" for k in ("progress_bar", "model_summary", "checkpointing")),
    *(f"trainer.limit_{k}_batches" for k in ("test", "predict")),
    "trainer.default_root_dir",
    "callbacks.checkpoint.enabled",  # a Forecaster keeps its best epoch when it validates
    "callbacks.checkpoint.save_last",
}
# What the module's checkpoint records, and the run config key each must equal.
RECORDED = ("model", "optim", "loss", "quantiles", "levels", "season_length")


def from_run(
    cls: type,
    run_dir: str | Path,
    checkpoint: str = "best",
    data_path: str | Path | None = None,
    data_root: str | Path | None = None,
    sources: dict[str, Any] | None = None,
) -> Any:
    run_dir = local_path(run_dir, "run_dir", "runs")
    refuse_url(data_path, "data_path")
    refuse_url(data_root, "data_root", "data folders")
    if not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(
            f"{run_dir} is not the directory of a python -m tsfm.run run (no config.yaml); "
            "each run writes one into outputs/<model>_<data>_<L>_<H>/<time>/"
        )
    check_supported(run_dir / "config.yaml")
    cfg = checked_config(run_dir / "config.yaml", data_files=True)
    ckpt_path = checkpoint_file(run_dir, checkpoint)
    custom = cfg.data.name == "custom"
    if data_path is not None and not custom:
        raise InputError(
            f"this run read the registered dataset {cfg.data.name!r}: pass data_root=... (the "
            "folder of its files), not data_path"
        )
    if not custom and cfg.data.get("path"):  # a run from before data.path was refused there
        warnings.warn(
            f"this run read the registered dataset {cfg.data.name!r}: its "
            f"data.path={cfg.data.path} was ignored (tsfm did not refuse it then), so the run "
            f"trained and was tested on {cfg.data.name!r}, which is read again",
            UserWarning,
            stacklevel=3,
        )
        cfg.data.path = None
    if data_root is not None and custom:
        raise InputError("this run read a custom file: pass data_path=... (where it is now)")
    if data_path is not None:
        cfg.data.path = str(data_path)
    elif custom and cfg.data.path and not Path(cfg.data.path).is_absolute():
        cfg.data.path = str(run_cwd(run_dir) / cfg.data.path)  # where the run found it
    if data_root is not None:
        cfg.data.root = str(data_root)
    datamodule = run_data(cfg)
    state = load_checkpoint(ckpt_path, setting="checkpoint")
    if sources:  # where pretrained parts are now: the run's settings and the checkpoint's
        recorded = recorded_in(state, ckpt_path)
        apply_sources(cfg.model.name, cfg.model, sources, recorded, "Forecaster.from_run")
        hyper = state.get("hyper_parameters")
        if isinstance(hyper, dict) and isinstance(hyper.get("model"), dict):
            hyper["model"].update(sources)
    try:
        module = module_of(state, ckpt_path)
    except FileNotFoundError as err:  # a checkpoint from before the recorded architectures
        raise missing_source(err, cfg.model.name, "Forecaster.from_run") from None
    metrics = run_metrics(run_dir)
    warn_unfinished(metrics, ckpt_path)
    check_same_data(state, datamodule, metrics, ckpt_path)
    if cfg.conformal.windows:  # as the run calibrated before its test
        from tsfm.training.conformal_plan import calibrate, calibration_plan

        conformal = run_conformal(cfg, metrics)
        season = module.hparams.season_length
        plan = calibration_plan(datamodule, conformal, cfg.data.pred_len, season, warn=False)
        module.conformal = calibrate(module, datamodule, conformal, plan)
    est = cls(**run_params(cfg, datamodule))
    est.lookback_ = est.lookback  # the run's data.seq_len
    freq, has_dates = sampling(cfg, datamodule)
    roles = None if is_panel(cfg) else role_settings(est, datamodule.table)
    config = build_config(
        est, freq=freq, has_dates=has_dates, time_col=cfg.data.date_col, roles=roles
    )
    config.season_length = resolve_season_length(config.get("season_length"), freq, est.lookback_)
    check_recorded(config, state["hyper_parameters"], ckpt_path)
    est.config_, est.module_ = config, module.eval()
    keep_state(est, cfg, datamodule, freq)
    est.fit_metrics_ = fit_metrics(metrics)  # the run's precision among them, kept
    warn_moved_precision(
        fitted_precision(est), cfg.trainer.get("precision"), module.device, "Forecaster.from_run"
    )
    remember_fitted_params(est)
    return est


def checkpoint_file(run_dir: Path, checkpoint: str) -> Path:
    """``best`` or ``last`` of the run's ``checkpoints/``."""
    if checkpoint not in ("best", "last"):
        raise InputError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}")
    path = run_dir / "checkpoints" / f"{checkpoint}.ckpt"
    if not path.is_file():
        found = sorted(p.name for p in (run_dir / "checkpoints").glob("*.ckpt"))
        raise FileNotFoundError(
            f"{path} does not exist (the run's checkpoints: {found or 'none'}); a run with "
            "callbacks.checkpoint.enabled=false or train=false leaves no weights to forecast with"
        )
    return path


def run_cwd(run_dir: Path) -> Path:
    """The directory the run was started from (Hydra's record of it), where its relative
    data.path points; the current directory if the record is unreadable."""

    try:
        record = yaml.safe_load((run_dir / ".hydra" / "hydra.yaml").read_text())
        return Path(record["hydra"]["runtime"]["cwd"])
    except Exception:  # no record, or not the mapping Hydra writes
        return Path.cwd()


def run_params(cfg: DictConfig, datamodule: ForecastDataModule) -> dict[str, Any]:
    """The Forecaster parameters of the run: its window, columns, every model hyperparameter
    and every carried setting that differs from the defaults."""
    model = cfg.model.name
    params: dict[str, Any] = {
        "model": model,
        "horizon": int(cfg.data.pred_len),
        "lookback": int(cfg.data.seq_len),
        **data_arguments(cfg, datamodule),
    }
    run = flat(OmegaConf.to_container(cfg, resolve=True))
    defaults = flat(OmegaConf.to_container(compose_for(model, None, None), resolve=True))
    unset = OmegaConf.merge(cfg, {"levels": None})
    if list(cfg.levels or []) == levels_of(unset):  # the run settled its default levels
        run["levels"] = None
    for key, value in run.items():
        if (
            key.startswith("model.")
            and key != "model.name"
            or carried(key)
            and (key not in defaults or defaults[key] != value)
        ):
            params[param_name(model, key)] = value
    return params


def carried(key: str) -> bool:
    if key in NOT_CARRIED or key in MANAGED:
        return False
    return key in CARRIED_TOP or any(key.startswith(f"{section}.") for section in CARRIED)


def check_recorded(config: DictConfig, recorded: dict[str, Any], path: Path) -> None:
    """The Forecaster's config gives the module the checkpoint holds (a refit trains the
    run's model): every recorded setting, compared."""
    composed = OmegaConf.to_container(config, resolve=True)
    differ = [k for k in RECORDED if k in recorded and composed.get(k) != recorded[k]]
    if differ:
        raise InputError(
            f"the run's settings {differ} cannot be given as Forecaster parameters the way "
            f"{path} records them: {[(composed.get(k), recorded[k]) for k in differ]}"
        )


def run_conformal(cfg: DictConfig, metrics: dict[str, Any]) -> DictConfig:
    """The run's conformal settings with the step it calibrated with (its metrics.json
    records it): a run whose step was left to the default keeps that default's windows,
    whichever rule chose them."""
    recorded = metrics.get("conformal_step")
    if (
        cfg.conformal.step is not None
        or isinstance(recorded, bool)
        or not isinstance(recorded, int)
    ):
        return cfg.conformal
    conformal = copy.deepcopy(cfg.conformal)
    conformal.step = recorded
    return conformal


def run_metrics(run_dir: Path) -> dict[str, Any]:
    """The run's metrics.json (empty if it left none)."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        return {}
    metrics = json.loads(path.read_text())
    return metrics if isinstance(metrics, dict) else {}


def warn_unfinished(metrics: dict[str, Any], ckpt_path: Path) -> None:
    """Warn (naming its error) when the run's metrics.json says it did not finish as it
    should (``failed``, ``diverged``, ``non_finite``): its checkpoint holds the epoch it kept
    before the failure, which may be from before training ended."""
    status = metrics.get("status")
    if status in (None, "ok"):
        return
    error = metrics.get("error") or f"non-finite {metrics.get('non_finite')}"
    warnings.warn(
        f"this run failed (metrics.json: status {status}): {error}. {ckpt_path.name} holds the "
        "epoch the run kept before that, which may be before its training ended: check the "
        "error (the run's run.log) before trusting its forecasts, or run it again",
        UserWarning,
        stacklevel=4,
    )


def fit_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """The run's validation figures (``val/...``, ``epochs``, ``fit_...``) and how its
    training stopped, as a fit keeps."""
    from tsfm.estimator.fit_metrics import fit_figures

    return {k: v for k, v in fit_figures(metrics).items() if v is not None}
