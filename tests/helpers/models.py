"""Tiny settings per registered model and a random batch, for the model tests."""

from __future__ import annotations

import torch

from tests.helpers.backbones import tiny_backbone_dir
from tsfm.models import as_output, build_model

# Tiny settings per registered model; a new model adds its line here.
TINY: dict[str, dict] = {
    "itransformer": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "dropout": 0.0},
    "s2ip_llm": {
        "backbone": tiny_backbone_dir("gpt2"),
        "n_layers": 2,
        "pool_size": 16,
        "prompt_length": 2,
        "patch_len": 8,
        "stride": 4,
        "trend_length": 4,
        "seasonal_length": 6,
    },
    "timesclip": {
        "clip": "tsfm-tiny-clip",
        "pretrained": False,
        "image_size": 32,
        "line_width": 1.5,
        "patch_len": 8,
        "stride": 4,
        "dropout": 0.0,
    },
}
DIMS = {"seq_len": 24, "pred_len": 8, "n_vars": 3, "n_marks": 4}


def make(name: str, *, seed: int = 0, dims: dict | None = None, **overrides):
    torch.manual_seed(seed)
    return build_model({"name": name, **TINY[name], **overrides}, dims or DIMS)


def batch(n_vars: int = 3, size: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(size, DIMS["seq_len"], n_vars, generator=g),
        "x_mark": torch.rand(size, DIMS["seq_len"], DIMS["n_marks"], generator=g) - 0.5,
        "y": torch.randn(size, DIMS["pred_len"], n_vars, generator=g),
    }


def predict(model, b):
    return as_output(model(**{k: v for k, v in b.items() if k != "y"})).prediction
