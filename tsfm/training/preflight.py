"""Checks of a run config made before any data is read or model built.

A run that cannot give a meaningful result is refused here with the setting to change: a key
its schema does not declare (:mod:`tsfm.config_keys`), a setting otherwise checked late or
never (:mod:`tsfm.training.run_settings`), a test of weights nobody trained, training that
takes no step, a Lightning argument of the wrong type (which Lightning itself only notices
deep inside ``fit``), a checkpoint that is a URL or not there, an ambiguous resume, and a
test of part of the test split.
"""

from __future__ import annotations

import functools
import logging
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from tsfm.config_keys import check_known_keys
from tsfm.data.robust_scaling import check_scaler_setting
from tsfm.data.seasons import check_lookback
from tsfm.data.user_warnings import other_rank
from tsfm.errors import InputError
from tsfm.training.calibration_step import calibration_step
from tsfm.training.checkpoint_files import local_checkpoint
from tsfm.training.runtime import (
    AUTO,
    MIXED,
    check_precision,
    check_seed,
    check_threads,
    native_bf16,
)
from tsfm.training.stopping import check_max_time

if typing.TYPE_CHECKING:
    from tsfm.data import ForecastDataModule
    from tsfm.training.module import ForecastingModule

Describe = Callable[[str], str]
log = logging.getLogger(__name__)


def plain_node(node: Any) -> Any:
    """A config section as plain Python values (resolved); anything else as it is."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


@functools.cache
def _trainer_hints() -> dict[str, Any]:
    import lightning as L  # here: loading a Forecaster reads this module, never a Trainer

    hints = typing.get_type_hints(L.Trainer.__init__)
    hints.pop("return", None)
    return hints


def fits_type(value: Any, hint: Any) -> bool:
    """Whether ``value`` (a config value: numbers, strings, lists, dicts) fits the type
    ``hint`` (``int`` takes no bool, ``float`` takes ints; unmodelled constructs pass)."""
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits_type(value, arg) for arg in args)
    if origin is typing.Literal:
        return any(type(value) is type(arg) and value == arg for arg in args)
    if origin in (list, tuple):
        return isinstance(value, (list, tuple)) and all(fits_type(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a construct tsfm does not model: leave it to Lightning


def readable_type(hint: Any) -> str:
    text = str(hint).replace("typing.", "").replace("NoneType", "null")
    return text.replace("<class '", "").replace("'>", "")


def check_trainer_types(trainer: Mapping[str, Any], describe: Describe = str) -> None:
    """Every ``trainer.<name>`` value against the type ``lightning.Trainer`` declares."""
    hints = _trainer_hints()
    for name, value in plain_node(trainer).items():
        apart = name == "max_time" or (name == "precision" and value == AUTO)  # checked apart
        if value is None or name not in hints or apart:
            continue
        if not fits_type(value, hints[name]):
            raise InputError(
                f"{describe(f'trainer.{name}')}={value!r} ({type(value).__name__}) is not a "
                f"valid value: lightning.Trainer takes {readable_type(hints[name])} there"
            )


def check_accelerator(trainer: Mapping[str, Any], describe: Describe = str) -> None:
    """An accelerator asked for by name must be there (Lightning's own error is a stack of
    framework frames that does not say what to change)."""
    import torch

    accelerator = str(plain_node(trainer).get("accelerator") or "auto").lower()
    missing = {
        "gpu": not torch.cuda.is_available() and not torch.backends.mps.is_available(),
        "cuda": not torch.cuda.is_available(),
        "mps": not torch.backends.mps.is_available(),
    }
    if missing.get(accelerator):
        key = describe("trainer.accelerator")
        raise InputError(
            f"{key}={accelerator!r}, but torch sees no such device here "
            f"(torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}); use "
            f"{key}='cpu' (or 'auto'), or run where the device is and torch is built for it"
        )


def _zero(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def keeps_every_batch(limit: Any) -> bool:
    """Whether a ``limit_*_batches`` value keeps every batch (Lightning: 1.0, or unset)."""
    return limit is None or (isinstance(limit, float) and limit == 1.0)


def check_whole_test(trainer: Mapping[str, Any], describe: Describe = str) -> None:
    """Refuse a test that would score a part of the test split: metrics.json, the window
    counts and forecasts.parquet all describe the whole split."""
    trainer = plain_node(trainer)
    limit, fast = trainer.get("limit_test_batches"), trainer.get("fast_dev_run")
    if keeps_every_batch(limit) and not fast:
        return
    key, value = (
        ("limit_test_batches", limit) if not keeps_every_batch(limit) else ("fast_dev_run", fast)
    )
    raise InputError(
        f"{describe(f'trainer.{key}')}={value!r} would score only part of the test split, "
        "while metrics.json (its window counts too) and forecasts.parquet describe all of "
        "it: the test split is always scored whole. Leave it unset (or 1.0); to test on "
        "fewer windows, shrink data.test_ratio (custom data), or skip the test with test=false"
    )


@functools.cache  # once per process: not again for every tuning trial
def _warn_partial_validation(key: str, limit: Any) -> None:
    if other_rank():  # DDP: the first process says it
        return
    log.warning(
        "%s=%s: validation (early stopping, the best checkpoint, val/best_loss) scores part "
        "of the validation split; metrics.json leaves windows/val out",
        key,
        limit,
    )


def check_sizes(cfg: DictConfig, describe: Describe = str) -> None:
    """The look-back, batch sizes and the learning rate, which torch would refuse naming no
    setting (or a contradictory one)."""
    for key in ("data.batch_size", "data.eval_batch_size"):
        value = OmegaConf.select(cfg, key)
        if value is not None and (isinstance(value, bool) or value < 1):
            raise InputError(
                f"{describe(key)}={value!r}: a batch holds at least one window; give a "
                "positive whole number"
            )
    seq_len = OmegaConf.select(cfg, "data.seq_len")
    if isinstance(seq_len, int):
        check_lookback(seq_len, describe("data.seq_len"))
    lr = OmegaConf.select(cfg, "optim.lr")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise InputError(
            f"{describe('optim.lr')}={lr!r}: the learning rate must be a positive finite "
            "number (the presets use 1e-4 to 1e-3)"
        )


def check_frozen_bf16(cfg: DictConfig, describe: Describe = str) -> None:
    """S2IP-LLM's bf16 frozen weights run only under bf16 autocast; the model itself says so
    in its first forward pass, after the data is read and the model built."""
    if not OmegaConf.select(cfg, "model.frozen_backbone_bf16", default=False):
        return
    precision = cfg.trainer.get("precision")
    why = f"{describe('trainer.precision')}={precision!r} trains in fp32"
    if precision == AUTO:
        native, reason = native_bf16(cfg.trainer.get("accelerator"))
        if native:
            return
        why = f"{describe('trainer.precision')}='auto' picks fp32 here ({reason})"
    elif MIXED.get(str(precision)) is torch.bfloat16:
        return
    flag = describe("model.frozen_backbone_bf16")
    raise InputError(
        f"{flag} stores the backbone's frozen weights in bf16, which run only under bf16 mixed "
        f"precision, and {why}: set {describe('trainer.precision')} to 'bf16-mixed', or turn "
        f"{flag} off"
    )


def check_run(cfg: DictConfig, describe: Describe = str) -> None:
    """Refuse a run config that would report numbers no trained model produced, or read a
    checkpoint tsfm will not read; ``describe`` names a config key for the caller's user
    (the Forecaster names its parameters)."""
    check_known_keys(cfg, describe)
    check_precision(cfg.trainer.get("precision"), describe)
    check_trainer_types(cfg.trainer, describe)
    from tsfm.training.run_settings import check_settings  # its metric names import Lightning

    check_settings(cfg, describe)  # callbacks, logger, output, optimizer, Lightning's values
    check_max_time(cfg.trainer.get("max_time"), describe)
    check_threads(cfg.get("threads"), describe)
    check_seed(cfg.get("seed"))  # the command line's seed=-1: before Lightning refuses it
    check_accelerator(cfg.trainer, describe)
    if cfg.get("reuse_freed_memory", False) and cfg.get("release_freed_memory", False):
        raise InputError(
            f"{describe('reuse_freed_memory')}=true keeps freed memory in the process and "
            f"{describe('release_freed_memory')}=true gives it back: set one of them"
        )
    check_scaler_setting(cfg.data, describe)
    check_sizes(cfg, describe)
    check_frozen_bf16(cfg, describe)
    train, test = bool(cfg.train), bool(cfg.test)
    val_limit = plain_node(cfg.trainer).get("limit_val_batches")
    if train and not keeps_every_batch(val_limit):
        _warn_partial_validation(describe("trainer.limit_val_batches"), val_limit)
    ckpt_path, resume = cfg.get("ckpt_path"), bool(cfg.get("resume", False))
    if not train and not test:
        raise InputError("train=false and test=false: the run would do nothing; set one of them")
    if not train and test and not ckpt_path:
        raise InputError(
            "train=false tests the weights of ckpt_path, but ckpt_path is not set: the scores "
            "would be those of a randomly initialised model. Pass ckpt_path=<run>/checkpoints/"
            "best.ckpt, or train=true"
        )
    if not train and resume:
        raise InputError("resume=true continues training; it needs train=true")
    from tsfm.training.test_scaler import check_test_scaler  # its data modules import Lightning

    check_test_scaler(cfg)
    if train:
        trainer = plain_node(cfg.trainer)
        for key in ("max_epochs", "max_steps", "limit_train_batches"):
            if _zero(trainer.get(key)):
                raise InputError(
                    f"{describe(f'trainer.{key}')}=0 trains no step, so the run would score "
                    "a randomly initialised model; give it at least one step (or train=false "
                    "with ckpt_path to test trained weights)"
                )
    if test:
        check_whole_test(cfg.trainer, describe)
    if ckpt_path and resume:
        raise InputError(
            "resume=true continues from the run directory's checkpoints/last.ckpt, and "
            f"ckpt_path={ckpt_path!r} names another checkpoint; use one of them"
        )
    if ckpt_path:
        local_checkpoint(ckpt_path, describe("ckpt_path"))


def protocol(
    cfg: DictConfig, datamodule: ForecastDataModule, module: ForecastingModule
) -> dict[str, Any]:
    """The settings every reported number depends on, stored beside it."""
    settings = {"model": cfg.model.name, "loss": cfg.loss, "seed": cfg.seed}
    settings["season_length"] = module.hparams.season_length  # the one its scores used
    settings["mase_scale"] = module.hparams.get("mase_scale", "lookback")
    conformal = cfg.get("conformal")
    if conformal is not None and conformal.windows:
        settings.update(
            {
                "conformal_windows": conformal.windows,
                "conformal_step": calibration_step(
                    conformal.step,
                    cfg.data.pred_len,
                    conformal.windows,
                    module.hparams.season_length,
                    warn=False,
                ),
                "conformal_normalize": conformal.normalize,
                "conformal_adaptive_rate": conformal.adaptive_rate,
            }
        )
    data = datamodule.protocol()
    val_limit = cfg.trainer.get("limit_val_batches")
    if not keeps_every_batch(val_limit):  # the count of the whole split is not what was scored
        data.pop("windows/val", None)
        settings["limit_val_batches"] = val_limit
    return {**settings, **data}
