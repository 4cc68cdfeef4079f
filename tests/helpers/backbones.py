"""Tiny language-model backbones saved to local folders, so tests never need the network.

``tiny_backbone_dir(family)`` writes a small randomly initialised model of the family (GPT-2,
BERT, RoBERTa) once per test process; ``weights=False`` writes only its ``config.json`` (enough
for ``pretrained=false``). ``offline_model_config`` rewrites any model config that loads a
pretrained language backbone so that it builds offline from such a folder.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from tsfm.models.s2ip_llm.backbone_sources import backbone_config
from tsfm.models.s2ip_llm.language_backbones import FAMILIES

_ROOT: Path | None = None
TINY_SIZES = {"hidden_size": 24, "num_attention_heads": 2, "num_hidden_layers": 2}
DROPOUTS = (
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "resid_pdrop",
    "embd_pdrop",
    "attn_pdrop",
)


def _root() -> Path:
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="tsfm-tiny-backbones-"))
        atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
    return _ROOT


def tiny_config(family: str, vocab_size: int = 64, max_positions: int = 160, dropout: float = 0.0):
    from transformers import CONFIG_MAPPING

    special = {"bos_token_id": vocab_size - 1, "eos_token_id": vocab_size - 1}
    config = CONFIG_MAPPING[family](vocab_size=vocab_size, **special, **TINY_SIZES)
    config.max_position_embeddings = max_positions
    for name in ("intermediate_size", "n_inner"):
        if hasattr(config, name):
            setattr(config, name, 48)
    for name in DROPOUTS:
        if hasattr(config, name):
            setattr(config, name, dropout)
    return config


def tiny_backbone_dir(family: str = "gpt2", weights: bool = True, layers: int = 2) -> str:
    """A folder holding a tiny ``family`` model of ``layers`` blocks (or only its config);
    created once."""
    depth = "" if layers == TINY_SIZES["num_hidden_layers"] else f"-{layers}"
    folder = _root() / f"{family}{'' if weights else '-config'}{depth}"
    if not (folder / "config.json").exists():
        from transformers import AutoModel

        config = tiny_config(family)
        config.num_hidden_layers = layers
        if weights:
            with torch.random.fork_rng(devices=[]):  # the caller's random state untouched
                torch.manual_seed(0)
                AutoModel.from_config(config).save_pretrained(folder)
        else:
            config.save_pretrained(folder)
    return str(folder)


def offline_model_config(model: dict[str, Any]) -> dict[str, Any]:
    """A model config built without the network: ``pretrained=false``, and a language backbone
    that :mod:`tsfm.models.s2ip_llm.language_backbones` knows swapped for a tiny one of its family
    and depth (``n_layers`` may not exceed it)."""
    if "pretrained" not in model:
        return model
    model = {**model, "pretrained": False}
    try:
        config = backbone_config(str(model.get("backbone")), pretrained=False)
    except (OSError, ValueError):
        return model  # not a language backbone (e.g. another model's vision tower)
    if config.model_type in FAMILIES:
        depth = config.num_hidden_layers
        model["backbone"] = tiny_backbone_dir(config.model_type, weights=False, layers=depth)
    return model


# Settings under which a model with pretrained parts builds offline and at once whatever its
# preset says: random weights and a tiny backbone of the same family (the full-size
# architectures are tested by the model's own tests, e.g. built on the meta device). Language
# backbones are swapped by ``offline_model_config``; other models add their line here.
OFFLINE: dict[str, dict] = {
    "timesclip": {"clip": "tsfm-tiny-clip", "pretrained": False},
}


def build_offline(cfg: Any, n_vars: int = 7) -> torch.nn.Module:
    """The model of a composed run config, built without the network (see ``OFFLINE``)."""
    from omegaconf import OmegaConf

    from tsfm.models import build_model

    model = offline_model_config(OmegaConf.to_container(cfg.model, resolve=True))
    model.update(OFFLINE.get(model["name"], {}))
    dims = {"seq_len": cfg.data.seq_len, "pred_len": cfg.data.pred_len, "n_vars": n_vars}
    return build_model(model, {**dims, "n_marks": 4})
