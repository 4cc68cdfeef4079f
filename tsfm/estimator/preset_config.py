"""The run config a model (or an experiment) and overrides compose to, before the estimator
sets anything: the preset every fit's config is built on, cached (composing costs a second)."""

from __future__ import annotations

import copy
import functools

from omegaconf import DictConfig

from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.estimator.cli_settings import plain_data_node
from tsfm.estimator.guards import naming_overrides


def compose_for(model: str, experiment: str | None, overrides: list[str] | None) -> DictConfig:
    """The composed run config (a fresh copy: composing costs a second, so it is cached)."""
    return copy.deepcopy(_composed(model, experiment, tuple(overrides or ())))


@functools.lru_cache(maxsize=32)
def _composed(model: str, experiment: str | None, overrides: tuple[str, ...]) -> DictConfig:
    # (a registered model without conf/model/<name>.yaml: its derived schema, tsfm/config.py)
    composed = [f"experiment={experiment}"] if experiment else [f"model={model}", "data=custom"]
    composed += list(overrides or [])
    try:
        cfg = compose_config(*composed, describe=naming_overrides(overrides))
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"cannot compose the run config from {composed}: {err}") from None
    if cfg.model.name != model:
        raise InputError(
            f"experiment '{experiment}' trains model '{cfg.model.name}', but model='{model}'; "
            f"use Forecaster.from_experiment('{experiment}') or a preset of '{model}'"
        )
    plain_data_node(cfg)  # an M4 preset's: its loader's settings go
    return cfg
