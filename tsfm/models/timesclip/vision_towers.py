"""TimesCLIP's vision tower: the CLIP's own, another open_clip model's (``open_clip:<arch>``)
or a timm model (``timm:<model name>``), with its input normalisation.

:func:`check_backbones` refuses the CLIP and tower settings from the configuration alone, before
anything is built; :func:`build_vision_tower` builds the tower, and checks what only the built
tower tells (the patch size of a timm model whose name and registry entry do not give it, the
image sizes a timm architecture takes).
"""

from __future__ import annotations

import hashlib
import math

from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.timesclip.clip_backbones import check_clip, clip_embed_dim, create_clip
from tsfm.models.timesclip.clip_text import check_text_tower
from tsfm.models.timesclip.layers import check_image_size
from tsfm.models.timesclip.timm_towers import (
    check_encodes,
    check_timm_tower,
    create_timm_encoder,
)

_VISION_FORMS = (
    "use 'clip' (the CLIP's own vision tower), 'open_clip:<architecture>' or "
    "'timm:<model name>' (e.g. timm:vit_base_patch16_224)"
)


def patch_size(encoder: nn.Module) -> int | None:
    """The patch size of a ViT-style vision encoder (open_clip or timm); None for a CNN."""
    for module in encoder.modules():
        size = getattr(module, "patch_size", None)
        if isinstance(size, int):
            return size
        if isinstance(size, (tuple, list)) and size and all(isinstance(s, int) for s in size):
            return math.lcm(*size)
    return None


class VisionTower(nn.Module):
    """A vision encoder with its input normalisation: ``[M, 3, H, W]`` in [0, 1] -> ``[M, D]``.
    ``architecture``: the open_clip config of an ``open_clip:`` tower, which saves record."""

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int,
        mean,
        std,
        image_size: int,
        source: str,
        architecture: dict | None = None,
    ):
        super().__init__()
        self.architecture = architecture
        self.encoder, self.out_dim, self.image_size, self.source = (
            encoder,
            out_dim,
            image_size,
            source,
        )
        check_image_size(image_size, patch_size(encoder), source.rpartition(":")[0] or source)
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


def check_vision(vision: str, weights: str | None, pretrained: bool, image_size: int) -> None:
    """Refuse a ``model.vision`` setting that cannot work before anything is built: its form,
    the architecture or timm model it names, its weights and ``image_size`` against its patch
    size. The CLIP's own tower (``clip``) is checked by :func:`create_clip`, first thing."""
    kind, _, name = vision.partition(":")
    if vision == "clip":
        return
    if kind == "open_clip" and name:
        check_clip(name, weights, pretrained, image_size, field="model.vision")
    elif kind == "timm" and name:
        check_timm_tower(name, weights, pretrained, image_size)
    else:
        raise InputError(f"model.vision='{vision}': {_VISION_FORMS}")


def refuse_unread_weights(clip_weights: str | None, vision_weights: str | None) -> None:
    """With ``pretrained=false`` (random weights), refuse a weights setting that would be left
    unread: a checkpoint file or a tag other than ``clip_weights``' default (``openai``, the
    weights ``pretrained=true`` loads), and any ``vision_weights``."""
    for setting, value, default in (
        ("model.clip_weights", clip_weights, "openai"),
        ("model.vision_weights", vision_weights, None),
    ):
        if value is not None and value != default:
            raise InputError(
                f"{setting}={value!r} names weights to load, but model.pretrained=false builds "
                f"random weights and would leave them unread: drop one (model.pretrained=true "
                f"to load them, or {setting}=null for random weights)"
            )


def check_backbones(
    clip: str,
    clip_weights: str | None,
    vision: str | None,
    vision_weights: str | None,
    pretrained: bool,
    image_size: int,
    tokens: int,
    vision_pretrained: bool | None = None,
) -> None:
    """Every backbone setting the configuration alone decides, refused before anything is
    built: the CLIP (architecture, weights, a text tower with a position for each of
    ``tokens``) and the vision tower ``vision`` (None: no images are drawn) at ``image_size``.
    ``vision_pretrained``: whether the tower reads pretrained weights (default: as the CLIP)."""
    check_clip(clip, clip_weights, pretrained, image_size if vision == "clip" else None)
    check_text_tower(clip, tokens)
    if vision is not None:
        tower_pretrained = pretrained if vision_pretrained is None else vision_pretrained
        check_vision(vision, vision_weights, tower_pretrained, image_size)


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
        other = create_clip(name, weights, pretrained, image_size, field="model.vision")
        mean, std = _preprocess_stats(other.visual)
        source = f"open_clip:{name}:{weights if pretrained else 'random'}"
        dim, architecture = clip_embed_dim(other), getattr(other, "architecture", None)
        return VisionTower(other.visual, dim, mean, std, image_size, source, architecture)
    if kind == "timm" and name:
        import timm

        encoder = create_timm_encoder(name, weights, pretrained, image_size)
        cfg = timm.data.resolve_data_config({}, model=encoder)
        source = f"timm:{name}:{weights or 'hub'}" if pretrained else f"timm:{name}:random"
        tower = VisionTower(
            encoder, encoder.num_features, cfg["mean"], cfg["std"], image_size, source
        )  # checks the patch size, which not every timm name or registry entry gives
        check_encodes(encoder, name, image_size)
        return tower
    raise InputError(f"model.vision='{vision}': {_VISION_FORMS}")
