"""Tiny settings per registered model (from the model classes) and a random batch, for the
model tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

from tests.helpers.backbones import tiny_backbone_dir
from tsfm.models import REGISTRY, as_output, build_model, model_class
from tsfm.models.s2ip_llm.backbone_sources import KNOWN_CONFIGS


class _SmokeSettings(Mapping[str, dict]):
    """Tiny settings per registered model, read from each model class's ``SMOKE_SETTINGS``
    (a new model declares them there, next to its code; no test file lists models). A known
    language backbone id among the settings naming pretrained parts (the class's ``SOURCES``,
    e.g. S2IP-LLM's ``backbone='gpt2'``) becomes a tiny random model of its family saved
    locally (:func:`~tests.helpers.backbones.tiny_backbone_dir`), so no test needs the network.
    The registered models that declare none are left out (the contract test then fails)."""

    def __getitem__(self, name: str) -> dict:
        if name not in REGISTRY:
            raise KeyError(name)
        cls = model_class(name)
        if not hasattr(cls, "SMOKE_SETTINGS"):
            raise KeyError(f"{cls.__name__} declares no SMOKE_SETTINGS (model '{name}')")
        settings = dict(cls.SMOKE_SETTINGS)
        for key in getattr(cls, "SOURCES", {}):
            if settings.get(key) in KNOWN_CONFIGS:
                settings[key] = tiny_backbone_dir(KNOWN_CONFIGS[settings[key]][0])
        return settings

    def __iter__(self) -> Iterator[str]:
        return (name for name in REGISTRY if hasattr(model_class(name), "SMOKE_SETTINGS"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


TINY: Mapping[str, dict] = _SmokeSettings()
DIMS = {"seq_len": 24, "pred_len": 8, "n_vars": 3, "n_marks": 4}


def make(name: str, *, seed: int = 0, dims: dict | None = None, **overrides):
    settings = {"name": name, **TINY[name], **overrides}
    torch.manual_seed(seed)
    return build_model(settings, dims or DIMS)


def batch(n_vars: int = 3, size: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(size, DIMS["seq_len"], n_vars, generator=g),
        "x_mark": torch.rand(size, DIMS["seq_len"], DIMS["n_marks"], generator=g) - 0.5,
        "y": torch.randn(size, DIMS["pred_len"], n_vars, generator=g),
    }


def predict(model, b):
    return as_output(model(**{k: v for k, v in b.items() if k != "y"})).prediction
