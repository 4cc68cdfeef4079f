"""The model registry: one line per model, used by Hydra configs, the estimator and loading.

A model is a plain ``nn.Module`` whose ``__init__`` takes the data-derived arguments it needs
(any of ``DATA_ARGS``: ``seq_len``, ``pred_len`` (outputs per token; ``horizon``, the steps
future inputs cover, when a distribution head makes them differ), ``n_vars``, ``n_marks``, and for covariates
``n_past``, ``n_future``, ``n_static_real``, ``static_cardinalities``, ``masked``) plus typed
hyperparameters with defaults. Its config schema is derived from that signature, so the
constructor is the single source of truth for names, types and defaults.

Class attributes read by name: ``CAPABILITIES`` (:class:`Capabilities`, what the front doors
let it take; default: nothing extra) and ``SMOKE_SETTINGS`` (its smallest settings, a dict of
hyperparameters: the test suite builds and trains every registered model with them);
optionally ``DISCRETE_CHOICES``, the choices its forward takes from continuous scores
(S2IP-LLM: ``("anchor retrieval",)``), which bf16 may flip at near ties (the precision tests
then compare only the rows where they agree, in the model's own test).
An optional classmethod ``data_sized(data: SizingInputs) -> dict | None`` sizes settings for
the data where a Forecaster's user chose none (:mod:`tsfm.models.sizing`).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import types
import typing
from typing import Any, Union

from torch import nn

from tsfm.errors import InputError
from tsfm.models.common import Capabilities, InstanceNorm, ModelOutput, as_output

REGISTRY: dict[str, str] = {
    "itransformer": "tsfm.models.itransformer:ITransformer",
    "s2ip_llm": "tsfm.models.s2ip_llm:S2IPLLM",
    "timesclip": "tsfm.models.timesclip:TimesCLIP",
}
DATA_ARGS = (
    "seq_len",
    "pred_len",
    "horizon",
    "n_vars",
    "n_marks",
    "n_past",
    "n_future",
    "n_static_real",
    "static_cardinalities",
    "masked",
)
# Settings renamed so that one concept has one name across models: old name -> new name.
RENAMED: dict[str, dict[str, str]] = {
    "itransformer": {"e_layers": "n_layers"},
    "s2ip_llm": {"patch_size": "patch_len"},
}
# Settings added with a default that computes otherwise than before: the value that computes
# as the models saved before the setting existed did (filled in where a save lacks it).
ADDED: dict[str, dict[str, Any]] = {
    "itransformer": {"future_norm": "lookback"},  # future covariates' look-back statistics
}

__all__ = [
    "REGISTRY",
    "Capabilities",
    "InstanceNorm",
    "ModelOutput",
    "as_output",
    "build_model",
    "capabilities",
    "model_class",
]


def with_added_settings(model: Any) -> list[str]:
    """Fill in, in place, the settings of :data:`ADDED` a saved model config (a mapping with
    its ``name``) lacks, with the values that compute as it was saved; returns their names."""
    if not isinstance(model, dict):
        return []
    added = {k: v for k, v in ADDED.get(model.get("name"), {}).items() if k not in model}
    model.update(added)
    return sorted(added)


def model_class(name: str) -> type[nn.Module]:
    """The class registered under ``name``; only registered tsfm classes can be returned."""
    try:
        module_name, attr = REGISTRY[name].split(":")
    except KeyError:
        raise InputError(f"unknown model '{name}'; registered models: {sorted(REGISTRY)}") from None
    return getattr(importlib.import_module(module_name), attr)


def _hyperparameters(cls: type) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [
        p
        for p in params
        if p.name not in DATA_ARGS and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def _omegaconf_type(annotation: Any) -> Any:
    """Map a constructor annotation onto a type OmegaConf can check."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = _omegaconf_type(args[0]) if len(args) == 1 else Any
        return Any if inner is Any else inner | None
    if origin is typing.Literal:
        return type(typing.get_args(annotation)[0])
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return list[_omegaconf_type(args[0]) if args else Any]
    if annotation in (int, float, bool, str):
        return annotation
    return Any


def config_schema(name: str) -> type:
    """A dataclass of the model's hyperparameters plus ``name``, for Hydra's ConfigStore."""
    cls = model_class(name)
    hints = typing.get_type_hints(cls.__init__)
    spec = [("name", str, dataclasses.field(default=name))]
    for p in _hyperparameters(cls):
        if p.default is inspect.Parameter.empty:
            raise TypeError(f"{cls.__name__}.{p.name} needs a default to be configurable")
        default = p.default
        field = (
            dataclasses.field(default_factory=lambda d=default: list(d))
            if isinstance(default, (list, tuple))
            else dataclasses.field(default=default)
        )
        spec.append((p.name, _omegaconf_type(hints.get(p.name, Any)), field))
    return dataclasses.make_dataclass(f"{cls.__name__}Config", spec)


def default_hyperparameters(name: str) -> dict[str, Any]:
    return {p.name: p.default for p in _hyperparameters(model_class(name))}


def build_model(config: dict[str, Any], dims: dict[str, int]) -> nn.Module:
    """Instantiate ``config["name"]`` with its hyperparameters and the data dimensions it asks for."""
    config = dict(config)
    name = config.pop("name")
    cls = model_class(name)
    accepted = {p.name for p in _hyperparameters(cls)}
    unknown = sorted(set(config) - accepted)
    if unknown:
        renamed = [f"{k} is now {RENAMED[name][k]}" for k in unknown if k in RENAMED.get(name, {})]
        hint = f" ({'; '.join(renamed)})" if renamed else ""
        raise InputError(
            f"model '{name}' has no setting(s) {unknown}{hint}; it takes {sorted(accepted)}"
        )
    wanted = inspect.signature(cls.__init__).parameters
    data_args = {k: v for k, v in dims.items() if k in wanted}
    return cls(**data_args, **config)


def capabilities(name: str) -> Capabilities:
    """What the registered model ``name`` can take and do (its class's ``CAPABILITIES``; a model
    that declares nothing gets the defaults: no new variates)."""
    return getattr(model_class(name), "CAPABILITIES", Capabilities())
