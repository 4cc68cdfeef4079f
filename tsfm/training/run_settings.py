"""Checks of a run's callbacks, logger, output, optimizer and Lightning arguments made before any
data is read, where Lightning or tsfm would otherwise refuse them late (after the data and
the model, or after the first epoch: a monitored metric no run logs, an accumulation over 0
batches) or never (a negative patience, a ``min_epochs`` above ``max_epochs``, no plotted
window). Part of :func:`tsfm.training.preflight.check_run`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.config_keys import nearest
from tsfm.errors import InputError
from tsfm.training.epoch_logging import epoch_keys, train_keys
from tsfm.training.optim import check_optim
from tsfm.training.preflight import plain_node

Describe = Callable[[str], str]
LOGGERS = ("csv", "tensorboard", "none")  # what tsfm.pipeline.build_logger builds
CALLBACKS = ("early_stopping", "checkpoint")
STOPPING = {
    "patience": "early stopping waits this many epochs without improvement before it stops",
    "min_delta": "the least decrease of the monitored metric that counts as an improvement (a "
    "negative one counts a worse epoch as better)",
}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def logged_keys(cfg: DictConfig) -> list[str]:
    """The metrics a training run of ``cfg`` may log, which a callback may monitor: the
    training losses (the model's auxiliary ones too) and the validation epoch's metrics (a
    probabilistic head's interval metrics, a data module's own scores such as M4's; MSIS
    only where the look-back has a seasonal scale)."""
    from tsfm.data import forecast_scores
    from tsfm.models import REGISTRY, capabilities
    from tsfm.training.heads import PROBABILISTIC_LOSSES
    from tsfm.training.scoring import run_levels

    name = OmegaConf.select(cfg, "model.name")
    aux = capabilities(name).aux_losses if name in REGISTRY else ()
    levels = None
    if cfg.get("loss") in PROBABILISTIC_LOSSES:
        levels = run_levels(cfg.loss, cfg.quantiles, cfg.get("levels"))
    return train_keys(aux) + epoch_keys("val", levels, forecast_scores(cfg.data))


def check_callbacks(cfg: DictConfig, describe: Describe = str) -> None:
    """Early stopping's patience and minimum improvement, and the metric each enabled callback
    monitors: one the run logs (Lightning would refuse it after the first epoch)."""
    callbacks = cfg.get("callbacks")
    if callbacks is None:
        return
    stop = callbacks.get("early_stopping")
    if stop is not None and stop.get("enabled"):
        for key, what in STOPPING.items():
            value = stop.get(key)
            if _number(value) and not (math.isfinite(value) and value >= 0):
                raise InputError(
                    f"{describe(f'callbacks.early_stopping.{key}')}={value!r}: {what}; give 0 "
                    "or more"
                )
    if not cfg.get("train", True):
        return
    keys = None
    for name in CALLBACKS:
        node = callbacks.get(name)
        if node is None or not node.get("enabled"):
            continue
        keys = keys or logged_keys(cfg)
        monitor = node.get("monitor")
        if monitor not in keys:
            raise InputError(
                f"{describe(f'callbacks.{name}.monitor')}={monitor!r} is not a metric this run "
                f"logs, so {name} would fail after the first epoch "
                f"({nearest(str(monitor), keys, kind='the metrics it logs')})"
            )


def check_logger(cfg: DictConfig, describe: Describe = str) -> None:
    """A logger tsfm builds, whose package is installed."""
    name = OmegaConf.select(cfg, "logger.name")
    key = describe("logger.name")
    if name not in LOGGERS:
        raise InputError(
            f"{key}={name!r} is not a logger tsfm builds; use logger=csv (metrics.csv in the run "
            "directory), logger=tensorboard or logger=none"
        )
    packages = ("tensorboard", "tensorboardX")  # Lightning's logger writes with either
    if name == "tensorboard" and not any(importlib.util.find_spec(p) for p in packages):
        raise InputError(
            f"{key}='tensorboard' writes TensorBoard event files, which needs the tensorboard "
            "package, not installed here: pip install 'tsfm[tensorboard]' (or pip install "
            "tensorboard), or use logger=csv"
        )


def check_output(cfg: DictConfig, describe: Describe = str) -> None:
    """``forecast.png`` draws at least one window."""
    output = cfg.get("output")
    if output is None or not output.get("plot"):
        return
    windows = output.get("plot_windows")
    if _number(windows) and windows < 1:
        raise InputError(
            f"{describe('output.plot_windows')}={windows!r} would draw forecast.png with no "
            "window; give 1 or more, or output.plot=false for no plot"
        )


def check_trainer_values(trainer: Mapping[str, Any], describe: Describe = str) -> None:
    """Lightning arguments of the right type but a value Lightning takes without complaint
    and then misuses (or divides by)."""
    trainer = plain_node(trainer)
    accumulate = trainer.get("accumulate_grad_batches")
    if _number(accumulate) and accumulate < 1:
        raise InputError(
            f"{describe('trainer.accumulate_grad_batches')}={accumulate!r}: gradients are "
            "accumulated over 1 batch or more (1: a step after every batch)"
        )
    clip = trainer.get("gradient_clip_val")
    if _number(clip) and not (math.isfinite(clip) and clip >= 0):
        raise InputError(
            f"{describe('trainer.gradient_clip_val')}={clip!r}: gradients are clipped to a "
            "norm (or value) of 0 or more; leave it unset (or 0) for no clipping"
        )
    for low, high in (("min_epochs", "max_epochs"), ("min_steps", "max_steps")):
        least, most = trainer.get(low), trainer.get(high)
        if _number(least) and _number(most) and most >= 0 and least > most:
            raise InputError(
                f"{describe(f'trainer.{low}')}={least!r} is more than "
                f"{describe(f'trainer.{high}')}={most!r}, which ends training first; lower "
                f"{low} or raise {high}"
            )


def check_settings(cfg: DictConfig, describe: Describe = str) -> None:
    """Every check of this module."""
    check_trainer_values(cfg.trainer, describe)
    if cfg.get("optim") is not None:
        check_optim(cfg.optim, describe)
    check_callbacks(cfg, describe)
    if cfg.get("logger") is not None:
        check_logger(cfg, describe)
    check_output(cfg, describe)
