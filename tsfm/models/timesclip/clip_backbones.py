"""CLIP (open_clip) and timm backbones for TimesCLIP, loaded offline-first with clear errors.

``open_clip`` and ``timm`` are imported only when a backbone is built, so registering the
model's config schema stays cheap. Architectures are open_clip names (``ViT-B-16``), the JSON
files in ``clip_configs/`` (``tsfm-tiny-clip`` for tests, ``tsfm-small-clip`` for CPU runs),
or the path of any open_clip-style JSON config (registered under its file stem).
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from tsfm.models.attention import use_explicit_attention
from tsfm.models.timesclip.layers import check_image_size

log = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).with_name("clip_configs")
_SCHEMAS = ("hf-hub:", "local-dir:")
_registered: set[Path] = set()


def _open_clip():
    import open_clip

    if CONFIG_DIR not in _registered:
        open_clip.add_model_config(CONFIG_DIR)
        _registered.add(CONFIG_DIR)
    return open_clip


def resolve_architecture(clip: str) -> str:
    """The open_clip name of ``clip``; a ``.json`` path is registered under its file stem."""
    open_clip = _open_clip()
    if clip.startswith(_SCHEMAS):
        return clip
    if clip.endswith(".json"):
        path = Path(clip).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"model.clip: no open_clip architecture config at {path}")
        if path not in _registered:
            open_clip.add_model_config(path)
            _registered.add(path)
        if path.stem not in open_clip.list_models():
            raise ValueError(
                f"{path} is not an open_clip model config (it needs 'embed_dim', 'vision_cfg' "
                "and 'text_cfg')"
            )
        return path.stem
    name = clip.replace("/", "-")
    if name not in open_clip.list_models():
        raise ValueError(
            f"model.clip: unknown open_clip architecture '{clip}'. Use one of "
            f"open_clip.list_models() (e.g. ViT-B-16, ViT-B-32, RN50), tsfm's tsfm-tiny-clip / "
            "tsfm-small-clip, or the path of an open_clip JSON config"
        )
    return name


def names_architecture(clip: str) -> bool:
    """Whether ``clip`` names an architecture that builds without its weights (not a
    ``hf-hub:``/``local-dir:`` source, which only its weights' folder describes)."""
    return not clip.startswith(_SCHEMAS)


def _how_to_provide(name: str, weights: str) -> str:
    return (
        f"To provide them, run once on a machine with internet access\n"
        f"    python -c \"import open_clip; m = open_clip.create_model('{name}', "
        f"pretrained='{weights}'); import torch; torch.save(m.state_dict(), 'clip.pt')\"\n"
        f"and pass model.clip_weights=/path/to/clip.pt (or copy that machine's Hugging Face "
        f"cache, ~/.cache/huggingface, to this one). model.pretrained=false builds the same "
        f"architecture with random weights."
    )


def create_clip(
    clip: str, weights: str | None, pretrained: bool, image_size: int | None = None
) -> nn.Module:
    """An open_clip model: ``weights`` is a pretrained tag of ``clip`` or a checkpoint file.

    ``pretrained=False`` builds the architecture randomly initialised and never touches the
    network. ``image_size`` resizes the vision tower's input (open_clip interpolates the
    pretrained position embeddings).
    """
    open_clip = _open_clip()
    name = resolve_architecture(clip)
    if image_size is not None:  # before any weights load: resizing them fails below one patch
        vision_cfg = (open_clip.get_model_config(name) or {}).get("vision_cfg", {})
        check_image_size(image_size, vision_cfg.get("patch_size"))
    device = torch.empty(0).device  # honours a `with torch.device(...)` block (e.g. meta)
    kwargs: dict[str, Any] = {"device": device, "force_image_size": image_size}
    if not pretrained:
        if name.startswith(_SCHEMAS):
            raise ValueError(f"model.pretrained=false needs an architecture name, not '{name}'")
        quiet = _DropMessage("No pretrained weights loaded")  # random weights were asked for
        logging.getLogger().addFilter(quiet)
        try:
            return open_clip.create_model(
                name, pretrained=None, pretrained_text=False, pretrained_image=False, **kwargs
            )
        finally:
            logging.getLogger().removeFilter(quiet)
    if name.startswith(_SCHEMAS):
        source = name
    elif weights is None:
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise ValueError(
            f"model.pretrained=true needs model.clip_weights for CLIP {name}: a pretrained tag "
            f"({', '.join(tags) or 'none known for this architecture'}) or a checkpoint file; "
            "or set model.pretrained=false for random weights"
        )
    elif open_clip.get_pretrained_cfg(name, weights):
        source = f"{name} '{weights}'"
    elif Path(weights).expanduser().is_file():
        weights = str(Path(weights).expanduser())
        source = weights
    elif _looks_like_path(weights):
        raise FileNotFoundError(
            f"model.clip_weights: no checkpoint file at {Path(weights).expanduser().resolve()}. "
            + _how_to_provide(name, "<tag>")
        )
    else:
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise ValueError(
            f"model.clip_weights='{weights}' is neither a pretrained tag of CLIP {name} "
            f"(known: {', '.join(tags) or 'none'}) nor an existing checkpoint file"
        )
    try:
        # a hf-hub:/local-dir: name carries its own weights; otherwise `weights` is a tag or file
        tag_or_file = None if name.startswith(_SCHEMAS) else weights
        return open_clip.create_model(name, pretrained=tag_or_file, **kwargs)
    except Exception as error:
        raise RuntimeError(
            f"could not load the CLIP weights {source}: {error}\n" + _how_to_provide(name, weights)
        ) from error


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def patch_size(encoder: nn.Module) -> int | None:
    """The patch size of a ViT-style vision encoder (open_clip or timm); None for a CNN."""
    for module in encoder.modules():
        size = getattr(module, "patch_size", None)
        if isinstance(size, int):
            return size
        if isinstance(size, (tuple, list)) and size and all(isinstance(s, int) for s in size):
            return math.lcm(*size)
    return None


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith((".pt", ".pth", ".bin", ".safetensors"))


def clip_embed_dim(clip_model: nn.Module) -> int:
    visual = clip_model.visual
    for attr in ("output_dim", "embed_dim"):
        if isinstance(getattr(visual, attr, None), int):
            return getattr(visual, attr)
    raise ValueError(f"cannot tell the output width of {type(visual).__name__}")


class ClipTextBackbone(nn.Module):
    """CLIP's text transformer fed with input embeddings instead of token ids.

    Keeps the pretrained position embeddings, the residual blocks and the final LayerNorm;
    drops the token embedding (a 49408-word table numeric patches never use) and the text
    projection.
    """

    def __init__(self, clip_model: nn.Module):
        super().__init__()
        text = getattr(clip_model, "text", clip_model)
        if not hasattr(text, "transformer") or not hasattr(text, "positional_embedding"):
            raise ValueError(
                f"{type(text).__name__} is not a CLIP text transformer (Hugging Face text towers "
                "are not supported); choose an open_clip architecture with a native text tower"
            )
        self.transformer = text.transformer
        use_explicit_attention(self.transformer)  # faster under CPU autocast; fp32 unchanged
        self.positional_embedding = text.positional_embedding
        self.ln_final = text.ln_final
        self.width = int(self.positional_embedding.shape[1])
        self.context_length = int(self.positional_embedding.shape[0])
        self.heads = int(self.transformer.resblocks[0].attn.num_heads)

    def forward(self, embeddings: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        """``[B, T, width]`` input embeddings -> ``[B, T, width]`` final hidden states."""
        x = embeddings + self.positional_embedding[: embeddings.shape[1]].to(embeddings.dtype)
        return self.ln_final(self.transformer(x, attn_mask=attn_mask))


class VisionTower(nn.Module):
    """A vision encoder with its input normalisation: ``[M, 3, H, W]`` in [0, 1] -> ``[M, D]``."""

    def __init__(self, encoder: nn.Module, out_dim: int, mean, std, image_size: int, source: str):
        super().__init__()
        self.encoder, self.out_dim, self.image_size, self.source = (
            encoder,
            out_dim,
            image_size,
            source,
        )
        check_image_size(image_size, patch_size(encoder))
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def forward(self, images: Tensor) -> Tensor:
        """Images already normalised with ``mean``/``std`` (the renderer folds that in)."""
        features = self.encoder(images)
        return features[0] if isinstance(features, tuple) else features

    def fingerprint(self) -> str:
        """A digest of the weights and preprocessing: part of the image-feature cache key."""
        digest = hashlib.sha1(f"{self.source}|{self.mean}|{self.std}|{self.image_size}".encode())
        for name, tensor in self.encoder.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()


def _preprocess_stats(visual: nn.Module) -> tuple[tuple, tuple]:
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    cfg = getattr(visual, "preprocess_cfg", {}) or {}
    return tuple(cfg.get("mean", OPENAI_DATASET_MEAN)), tuple(cfg.get("std", OPENAI_DATASET_STD))


def build_vision_tower(
    vision: str,
    clip_model: nn.Module,
    clip_source: str,
    weights: str | None,
    pretrained: bool,
    image_size: int,
) -> VisionTower:
    """``clip`` (the CLIP's own tower), ``open_clip:<arch>`` or ``timm:<model name>``."""
    if vision == "clip":
        mean, std = _preprocess_stats(clip_model.visual)
        dim = clip_embed_dim(clip_model)
        return VisionTower(clip_model.visual, dim, mean, std, image_size, f"clip:{clip_source}")
    kind, _, name = vision.partition(":")
    if kind == "open_clip" and name:
        other = create_clip(name, weights, pretrained, image_size)
        mean, std = _preprocess_stats(other.visual)
        source = f"open_clip:{name}:{weights if pretrained else 'random'}"
        return VisionTower(other.visual, clip_embed_dim(other), mean, std, image_size, source)
    if kind == "timm" and name:
        return _timm_tower(name, weights, pretrained, image_size)
    raise ValueError(
        f"model.vision='{vision}': use 'clip' (the CLIP's own vision tower), "
        "'open_clip:<architecture>' or 'timm:<model name>' (e.g. timm:vit_base_patch16_224)"
    )


def _timm_tower(name: str, weights: str | None, pretrained: bool, image_size: int) -> VisionTower:
    import timm

    kwargs: dict[str, Any] = {"num_classes": 0, "pretrained": pretrained}
    if pretrained and weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"model.vision_weights: no checkpoint file at {path}")
        kwargs["pretrained_cfg_overlay"] = {"file": str(path)}
    try:
        try:
            encoder = timm.create_model(name, img_size=image_size, **kwargs)
        except TypeError:  # models without a configurable input size (CNNs)
            encoder = timm.create_model(name, **kwargs)
    except Exception as error:
        if not pretrained or isinstance(error, (ValueError, TypeError)):
            raise
        raise RuntimeError(
            f"could not load timm weights for {name}: {error}\nGive a local file with "
            "model.vision_weights=/path/to/weights (.safetensors/.pth), or "
            "model.pretrained=false for random weights."
        ) from error
    cfg = timm.data.resolve_data_config({}, model=encoder)
    source = f"timm:{name}:{weights or 'hub'}" if pretrained else f"timm:{name}:random"
    return VisionTower(encoder, encoder.num_features, cfg["mean"], cfg["std"], image_size, source)
