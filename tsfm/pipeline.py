"""Build the pieces of a run from a composed config and run fit + test.

Shared by every front door: ``python -m tsfm.run``, tuning and the estimator.
"""

from __future__ import annotations

import json
import logging
import platform
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from tsfm.data import TimeSeriesDataModule, make_datamodule
from tsfm.training.module import ForecastingModule

log = logging.getLogger(__name__)

# Batches are gathered by index arithmetic in the main process; loader workers do not help.
warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropAdverts())


@dataclass
class RunResult:
    metrics: dict[str, Any]
    module: ForecastingModule
    datamodule: TimeSeriesDataModule
    trainer: L.Trainer
    best_checkpoint: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _container(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def build_datamodule(cfg: DictConfig, frame: Any = None) -> TimeSeriesDataModule:
    # M4 groups get their own module (tsfm.data.M4DataModule) with the same interface
    datamodule = make_datamodule(_container(cfg.data), frame=frame)
    datamodule.setup()
    return datamodule


def build_module(cfg: DictConfig, datamodule: TimeSeriesDataModule) -> ForecastingModule:
    scaler = datamodule.scaler.state_dict() if datamodule.scaler else None
    return ForecastingModule(
        model=_container(cfg.model),
        dims=datamodule.dims(),
        optim=_container(cfg.optim),
        loss=cfg.loss,
        features=datamodule.config.features,
        scaler=scaler,
    )


def build_callbacks(cfg: DictConfig, run_dir: Path) -> list[Callback]:
    callbacks: list[Callback] = []
    stop, ckpt = cfg.callbacks.early_stopping, cfg.callbacks.checkpoint
    if stop.enabled:
        callbacks.append(
            EarlyStopping(monitor=stop.monitor, patience=stop.patience, min_delta=stop.min_delta)
        )
    if ckpt.enabled:
        callbacks.append(
            ModelCheckpoint(
                dirpath=run_dir / "checkpoints",
                filename="best",
                monitor=ckpt.monitor,
                save_top_k=1,
                save_last=ckpt.save_last,
                auto_insert_metric_name=False,
            )
        )
    return callbacks


def build_logger(cfg: DictConfig, run_dir: Path):
    name = cfg.logger.name
    if name == "none":
        return False
    if name == "csv":
        return L.pytorch.loggers.CSVLogger(run_dir, name="", version="logs")
    if name == "tensorboard":
        return L.pytorch.loggers.TensorBoardLogger(run_dir, name="", version="tensorboard")
    raise ValueError(f"unknown logger '{name}'; use csv, tensorboard or none")


def build_trainer(
    cfg: DictConfig, run_dir: Path, extra_callbacks: list[Callback] | tuple = (), **overrides: Any
) -> L.Trainer:
    trainer_args = {k: v for k, v in _container(cfg.trainer).items() if v is not None}
    trainer_args.update(overrides)
    return L.Trainer(
        default_root_dir=run_dir,
        callbacks=[*build_callbacks(cfg, run_dir), *extra_callbacks],
        logger=build_logger(cfg, run_dir),
        **trainer_args,
    )


def fit_and_test(
    cfg: DictConfig,
    run_dir: str | Path,
    *,
    frame: Any = None,
    datamodule: TimeSeriesDataModule | None = None,
    extra_callbacks: list[Callback] | tuple = (),
    **trainer_overrides: Any,
) -> RunResult:
    """Seed, build, train with early stopping, restore the best checkpoint, test.

    ``datamodule`` replaces the one ``cfg.data`` (and ``frame``) would build, for callers that
    place the splits themselves (the estimator).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if datamodule is None:
        datamodule = build_datamodule(cfg, frame)
    else:
        datamodule.setup()
    module = build_module(cfg, datamodule)
    trainer = build_trainer(cfg, run_dir, extra_callbacks, **trainer_overrides)
    timings: dict[str, float] = {}
    best = None
    if cfg.train:
        start = time.perf_counter()
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
        timings["fit_seconds"] = time.perf_counter() - start
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else None
        if best:  # the module returned is the best one, whether or not a test follows
            state = torch.load(best, map_location=module.device, weights_only=True)
            module.load_state_dict(state["state_dict"])
    metrics: dict[str, Any] = {}
    if cfg.test:
        start = time.perf_counter()
        ckpt = None if cfg.train else cfg.ckpt_path
        trainer.test(module, datamodule=datamodule, ckpt_path=ckpt or None, verbose=False)
        timings["test_seconds"] = time.perf_counter() - start
        metrics.update(
            {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
        )
    if trainer.checkpoint_callback and trainer.checkpoint_callback.best_model_score is not None:
        metrics["val/best_loss"] = float(trainer.checkpoint_callback.best_model_score)
    metrics["epochs"] = trainer.current_epoch
    metrics.update(timings)
    metrics.update(protocol(cfg, datamodule))
    return RunResult(metrics, module, datamodule, trainer, best or None, timings)


def protocol(cfg: DictConfig, datamodule: TimeSeriesDataModule) -> dict[str, Any]:
    """The settings every reported number depends on, stored beside it."""
    data = datamodule.config
    counts = datamodule.window_counts()
    return {
        "model": cfg.model.name,
        "data": data.name,
        "seq_len": data.seq_len,
        "pred_len": data.pred_len,
        "features": data.features,
        "seed": cfg.seed,
        "eval_drop_last": False,
        "scaler": "train rows" if data.scale else "none",
        **{f"windows/{stage}": n for stage, n in counts.items()},
        # a data module's own protocol settings (M4: group, validation mode, ...)
        **(datamodule.extra_protocol() if hasattr(datamodule, "extra_protocol") else {}),
    }


def write_run_files(cfg: DictConfig, run_dir: Path, metrics: dict[str, Any]) -> None:
    """config.yaml (resolved), metrics.json and versions.json in the run directory."""
    import lightning
    import torch

    import tsfm

    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    versions = {
        "tsfm": tsfm.__version__,
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "python": platform.python_version(),
    }
    (run_dir / "versions.json").write_text(json.dumps(versions, indent=2))
