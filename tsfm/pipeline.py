"""Build the pieces of a run from a composed config and run fit + test.

Shared by every front door: ``python -m tsfm.run``, tuning and the estimator.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, EarlyStopping
from omegaconf import DictConfig, OmegaConf

import tsfm.training.console  # noqa: F401  (Lightning's adverts and worker advice off)
from tsfm.data import ForecastDataModule, make_datamodule
from tsfm.data.eval_sharding import check_shards
from tsfm.data.extreme_notes import scaler_of, warn_extreme_values
from tsfm.data.panel import PanelDataModule
from tsfm.errors import InputError
from tsfm.models import capabilities
from tsfm.models.common import restoring_saved_weights
from tsfm.report import check_plot_variates
from tsfm.training.allocator import release_freed_memory, reuse_freed_memory
from tsfm.training.architectures import recorded_in
from tsfm.training.artifacts import module_from_config, settle_levels
from tsfm.training.best_in_memory import in_memory, restore_best
from tsfm.training.checkpoints import SafeCheckpointIO, check_checkpoint_fits, load_checkpoint
from tsfm.training.conformal_plan import calibrate, run_plan
from tsfm.training.data_record import RecordData, check_same_training_data
from tsfm.training.divergence import StopOnDivergence
from tsfm.training.inputs import check_capabilities
from tsfm.training.last_checkpoint import EpochCheckpoint, best_scores
from tsfm.training.logs import HistoryCSVLogger
from tsfm.training.memory import check_run_memory
from tsfm.training.module import ForecastingModule
from tsfm.training.nonnegative import check_run_data
from tsfm.training.preflight import check_run, protocol
from tsfm.training.progress import counting_progress_bar
from tsfm.training.random_state import RandomStates
from tsfm.training.release import ReleaseBetweenBlocks
from tsfm.training.run_dirs import resume_checkpoint
from tsfm.training.runtime import cache_absent_gpu, resolve_precision, thread_limit
from tsfm.training.stopping import how_training_stopped, interruptible, time_limit
from tsfm.training.test_columns import data_for_test
from tsfm.training.test_floors import floored_columns, recorded_setting
from tsfm.training.trainer_build import make_trainer
from tsfm.training.validation_record import ValidationRecord, validation_metrics

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    metrics: dict[str, Any]
    module: ForecastingModule
    datamodule: ForecastDataModule
    trainer: L.Trainer
    best_checkpoint: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _container(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def build_datamodule(cfg: DictConfig) -> ForecastDataModule:
    """The data module the dataset declares (tsfm.data.make_datamodule), set up."""
    datamodule = make_datamodule(_container(cfg.data))
    datamodule.setup()
    return datamodule


def build_module(cfg: DictConfig, datamodule: ForecastDataModule) -> ForecastingModule:
    """The training module of ``cfg`` for the data of ``datamodule`` (set up)."""
    dims, scaler = datamodule.dims(), datamodule.scaler_state()
    name = cfg.model.name  # refused here, where the layout is known (a panel's fixes differ)
    check_capabilities(name, capabilities(name), dims, isinstance(datamodule, PanelDataModule))
    return module_from_config(
        cfg, dims, scaler, datamodule.season_freq(), datamodule.season_period()
    )


def build_callbacks(cfg: DictConfig, run_dir: Path) -> list[Callback]:
    callbacks: list[Callback] = [StopOnDivergence()]  # first: before early stopping sees NaN
    callbacks += [RandomStates(), ValidationRecord()]  # resumes draw alike; val/snaive_loss..
    stop, ckpt = cfg.callbacks.early_stopping, cfg.callbacks.checkpoint
    if stop.enabled:
        callbacks.append(
            EarlyStopping(monitor=stop.monitor, patience=stop.patience, min_delta=stop.min_delta)
        )
    if ckpt.enabled:
        checkpoint = EpochCheckpoint(  # last.ckpt after every epoch, whatever Lightning's version
            dirpath=run_dir / "checkpoints",
            filename="best",
            monitor=ckpt.monitor,
            save_top_k=1,
            save_last=ckpt.save_last,
            auto_insert_metric_name=False,
        )
        checkpoint.resuming = bool(cfg.get("resume", False))  # its folder holds checkpoints
        callbacks.append(checkpoint)
    return callbacks


def build_logger(cfg: DictConfig, run_dir: Path, resuming: bool = False):
    name = cfg.logger.name
    if name == "none":
        return False
    if name == "csv":  # a resumed run appends to its metrics.csv instead of replacing it
        logger = HistoryCSVLogger if resuming else L.pytorch.loggers.CSVLogger
        return logger(run_dir, name="", version="logs")
    if name == "tensorboard":
        return L.pytorch.loggers.TensorBoardLogger(run_dir, name="", version="tensorboard")
    raise InputError(f"unknown logger '{name}'; use csv, tensorboard or none")


def build_trainer(
    cfg: DictConfig,
    run_dir: Path,
    extra_callbacks: list[Callback] | tuple = (),
    resuming: bool = False,
    best_in_memory: bool = False,
    **overrides: Any,
) -> L.Trainer:
    trainer_args = {k: v for k, v in _container(cfg.trainer).items() if v is not None}
    trainer_args.update(overrides)
    if not cfg.callbacks.checkpoint.enabled:  # no best epoch to keep: no checkpoint files
        trainer_args.setdefault("enable_checkpointing", False)  # (Lightning's, every epoch)
    if "precision" in trainer_args:  # tsfm's 'auto' becomes bf16-mixed or 32-true here
        accelerator = trainer_args.get("accelerator")
        trainer_args["precision"] = resolve_precision(trainer_args["precision"], accelerator)
    if "max_time" in trainer_args:  # seconds too (Lightning: DD:HH:MM:SS, a mapping)
        trainer_args["max_time"] = time_limit(trainer_args["max_time"])
    plugins = trainer_args.pop("plugins", None)
    plugins = [] if plugins is None else list(plugins) if isinstance(plugins, list) else [plugins]
    callbacks = build_callbacks(cfg, run_dir)
    if best_in_memory:  # the best epoch's weights kept in memory: no best.ckpt written
        callbacks = [in_memory(c) if isinstance(c, EpochCheckpoint) else c for c in callbacks]
    bar = counting_progress_bar() if trainer_args.get("enable_progress_bar", True) else None
    cache_absent_gpu()  # without it, every training step probes for a GPU driver twice
    if cfg.get("reuse_freed_memory", False):
        reuse_freed_memory()
    releasing = cfg.get("release_freed_memory", False) and release_freed_memory()
    if releasing:  # after each of the model's memory blocks too
        extra_callbacks = [*extra_callbacks, ReleaseBetweenBlocks()]
    return make_trainer(  # a trainer.<name> that Lightning refuses: an InputError naming it
        trainer_args,
        default_root_dir=run_dir,
        callbacks=[*callbacks, *extra_callbacks, *([bar] if bar else [])],
        logger=build_logger(cfg, run_dir, resuming),
        plugins=[*plugins, SafeCheckpointIO()],  # every checkpoint Lightning reads: weights only
    )


def fit_and_test(
    cfg: DictConfig,
    run_dir: str | Path,
    *,
    datamodule: ForecastDataModule | None = None,
    extra_callbacks: list[Callback] | tuple = (),
    memory_switch: str = "check_memory=false",
    best_in_memory: bool = False,
    **trainer_overrides: Any,
) -> RunResult:
    """Check, seed, build, train with early stopping, restore the best checkpoint, test.

    ``datamodule`` replaces the one ``cfg.data`` would build, for callers that bring their
    own data or place the splits themselves (the estimator); ``memory_switch`` is how the
    memory refusal tells the caller's user to skip it; ``best_in_memory`` (the estimator's):
    no ``best.ckpt``, the best epoch's weights are kept in memory. A config that would score
    an untrained model, or read a checkpoint from a URL, is refused before anything is built;
    a model too large for the free memory is refused before it is built; a loss that turns
    NaN or infinite stops training with :class:`~tsfm.training.divergence.DivergedError`.
    ``cfg.threads`` caps torch's CPU threads for the run (restored afterwards).
    """
    with thread_limit(cfg.get("threads")):
        return _fit_and_test(
            cfg,
            run_dir,
            datamodule=datamodule,
            extra_callbacks=extra_callbacks,
            memory_switch=memory_switch,
            best_in_memory=best_in_memory,
            **trainer_overrides,
        )


def _fit_and_test(
    cfg: DictConfig,
    run_dir: str | Path,
    *,
    datamodule: ForecastDataModule | None,
    extra_callbacks: list[Callback] | tuple,
    memory_switch: str,
    best_in_memory: bool,
    **trainer_overrides: Any,
) -> RunResult:
    run_dir = Path(run_dir)
    check_run(cfg)
    settle_levels(cfg)
    resume_from = resume_checkpoint(cfg, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if datamodule is None:  # the command line's: warned of here (the Forecaster warns itself)
        datamodule = build_datamodule(cfg)
        if cfg.train:
            warn_extreme_values(
                datamodule.extreme_values,
                datamodule.mask_option,
                "metrics.json",
                scaler_of(cfg.data),
            )
        check_run_data(cfg, datamodule)  # nonnegative: targets, none below zero
    else:
        datamodule.setup()
    datamodule = data_for_test(cfg, datamodule)  # a checkpoint's column order (and scaler)
    check_run_memory(cfg, datamodule, memory_switch)
    check_plot_variates(cfg, datamodule)
    # a checkpoint to test holds every weight and its pretrained parts' architectures
    restore = nullcontext()
    if not cfg.train and cfg.ckpt_path:
        state = load_checkpoint(cfg.ckpt_path, mmap=True)
        restore = restoring_saved_weights(recorded_in(state, cfg.ckpt_path))
    with restore:
        module = build_module(cfg, datamodule)
    if resume_from or not cfg.train:  # a raw size mismatch from load_state_dict names nothing
        setting = "resume=true" if cfg.get("resume", False) else "ckpt_path"
        check_checkpoint_fits(resume_from or cfg.ckpt_path, module, setting)
    if resume_from:  # training goes on: only on the data the checkpoint was trained on
        check_same_training_data(resume_from, datamodule, module, setting)
    conformal = cfg.get("conformal")
    plan = run_plan(cfg, datamodule, module)  # what calibration would refuse, refused now
    extra_callbacks = [*extra_callbacks, RecordData(datamodule)]  # the data, in checkpoints
    trainer = build_trainer(
        cfg, run_dir, extra_callbacks, resume_from is not None, best_in_memory, **trainer_overrides
    )  # under DDP: enough evaluation windows for every process, checked before training
    check_shards(trainer, datamodule.window_counts(), bool(cfg.train), bool(cfg.test))
    timings: dict[str, float] = {}
    best, metrics = None, {}
    if cfg.train:
        start = time.perf_counter()
        with interruptible(trainer):  # Ctrl-C: FitInterrupted, not Lightning's sys.exit(1)
            trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
        timings["fit_seconds"] = time.perf_counter() - start
        metrics.update({**how_training_stopped(trainer), **validation_metrics(trainer)})
        # the module returned is the best one (file or memory), whether or not a test follows
        best = restore_best(trainer.checkpoint_callback, module)
    ckpt = None if cfg.train else cfg.ckpt_path
    if plan is not None:  # run_plan: conformal windows asked for
        if ckpt:  # calibrate the weights that will be tested
            state = load_checkpoint(ckpt, map_location=module.device)
            module.on_load_checkpoint(state)  # the data module's scaler, as trainer.test keeps
            module.load_state_dict(state["state_dict"])
            ckpt = None
        start = time.perf_counter()
        module.conformal = calibrate(module, datamodule, conformal, plan)
        timings["calibration_seconds"] = time.perf_counter() - start
    if cfg.test:
        module.floored = floored_columns(cfg, datamodule)  # nonnegative: scored floored
        if module.floored is not None:  # metrics.json says which targets its scores floor
            metrics["nonnegative"] = recorded_setting(cfg)
        start = time.perf_counter()
        trainer.test(module, datamodule=datamodule, ckpt_path=ckpt or None, verbose=False)
        timings["test_seconds"] = time.perf_counter() - start
        scores = trainer.callback_metrics.items()
        metrics.update({k: float(v) for k, v in scores if k.startswith("test/")})
        for key, why in module.series_scores.notes.items():  # what was left out, and why
            metrics[f"test/undefined/{key}"] = why
        for key, note in module.series_scores.warnings.items():  # defined, but read with care
            metrics[f"test/warnings/{key}"] = note
            if trainer.is_global_zero:  # once, not by every DDP process
                log.warning("test: %s", note)
    metrics.update(best_scores(trainer.checkpoint_callback))  # val/best_loss or best/<monitor>
    metrics["epochs"] = trainer.current_epoch
    if cfg.train and datamodule.extreme_values:  # tsfm/data/extreme_values.py
        metrics["extreme_values"] = datamodule.extreme_values
    metrics["precision"] = str(trainer.precision)  # what 'auto' chose on this machine
    metrics.update(timings)
    metrics.update(protocol(cfg, datamodule, module))
    return RunResult(metrics, module, datamodule, trainer, best or None, timings)
