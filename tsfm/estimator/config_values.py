"""Setting one value of a Forecaster's run config, and saying why one cannot be set.

A parameter given with ``__`` for the dots (``trainer__gradient_clip_val=1.0``) names a key of
the run config; a key the config does not have, or a value of the wrong type, is refused
with the settings nearest to it (or the section's settings) and the type the setting takes.
"""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from tsfm.errors import InputError

KINDS = {bool: "True or False", int: "a whole number", float: "a number"}
SPELLING = (
    "a parameter names a config key with '__' for each '.' (trainer__gradient_clip_val=1.0, "
    "callbacks__early_stopping__patience=5); the keys are those of python -m tsfm.run's "
    "config (README 'Python: tsfm.Forecaster')"
)


def set_value(cfg: DictConfig, key: str, value: Any, source: str) -> None:
    """``cfg[key] = value`` (``key`` dotted), numpy numbers and timedeltas as the config holds
    them; ``source`` (``parameter 'lr'``) names who set it in an error."""
    if isinstance(value, (np.generic, np.ndarray)):  # np.int64(16) from np.arange or a
        value = value.tolist()  # ParameterGrid, quantiles=np.linspace(...)
    elif isinstance(value, (list, tuple)):
        value = [v.item() if isinstance(v, np.generic) else v for v in value]
    elif isinstance(value, timedelta):  # max_time: the config holds seconds
        value = value.total_seconds()
    if OmegaConf.select(cfg, key, throw_on_missing=False, default=KeyError) is KeyError:
        raise InputError(no_such_key(cfg, key, source))
    try:
        OmegaConf.update(cfg, key, value, merge=False)
    except OmegaConfBaseException as err:
        raise InputError(wrong_value(cfg, key, value, source, err)) from None
    stored = OmegaConf.select(cfg, key, throw_on_missing=False)
    if isinstance(value, str) and isinstance(stored, (bool, int, float)):  # typed: converted
        raise InputError(
            f"{source} sets {key}={value!r}, text where the setting takes "
            f"{KINDS[type(stored)]}: give {stored!r}, without quotes (tsfm turns no text into "
            "a number)"
        )


def no_such_key(cfg: DictConfig, key: str, source: str) -> str:
    """``source`` sets ``key``, which ``cfg`` lacks: the nearest keys, or the section's."""
    parts = key.split(".")
    depth = 0  # the longest prefix that is a section of cfg
    while depth < len(parts) - 1 and OmegaConf.is_dict(
        OmegaConf.select(cfg, ".".join(parts[: depth + 1]), throw_on_missing=False)
    ):
        depth += 1
    section = ".".join(parts[:depth])
    missing = object()
    if (
        depth < len(parts) - 1
        and (  # stopped at a value: its key goes on past it
            OmegaConf.select(cfg, ".".join(parts[: depth + 1]), default=missing) is not missing
        )
    ):
        value = ".".join(parts[: depth + 1])
        return f"{source} sets {key}, but {value} is a setting, not a section: set {value} itself"
    node = OmegaConf.select(cfg, section) if section else cfg
    names = sorted(str(k) for k in node)
    prefix = f"{section}." if section else ""
    near = difflib.get_close_matches(parts[depth], names, n=3, cutoff=0.6)
    where = f"section '{section}'" if section else "the run config"
    if near:
        hint = f"did you mean {' or '.join(repr(prefix + n) for n in near)}?"
    else:
        hint = f"the settings of {where}: {names}"
    return f"{source} sets {key}, but {where} has no setting '{parts[depth]}' ({hint}); {SPELLING}"


def wrong_value(
    cfg: DictConfig, key: str, value: Any, source: str, err: OmegaConfBaseException
) -> str:
    """``source`` gives ``key`` a value its schema refuses: why, and the value it has now."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    current = OmegaConf.select(cfg, key, throw_on_missing=False)
    shown = OmegaConf.to_container(current) if OmegaConf.is_config(current) else current
    return (
        f"{source} sets {key}={value!r}, which the setting does not take ({reason}); give a "
        f"value like the one it has now, {shown!r}"
    )
