"""TimesCLIP's small parts: patching, the contrastive loss and the variate-selection block."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.attention import MultiheadAttention
from tsfm.models.common import Dropout

CACHE_MODES = ("auto", "memory", "disk", "off")


def info_nce(language: Tensor, image: Tensor, logit_scale: Tensor) -> Tensor:
    """Symmetric InfoNCE (CLIP's loss): row ``i`` of each view is the other's positive, every
    other row of the batch a negative. Cosine similarities times ``logit_scale``."""
    language = F.normalize(language.float(), dim=-1)
    image = F.normalize(image.float(), dim=-1)
    logits = logit_scale.float() * language @ image.T
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


class VariateSelection(nn.Module):
    """Each variate's CLS queries every variate's feature (its own included).

    ``v = FFN(LN(cls + CrossAttention(LN(cls), LN(features))))``: the paper's figure read
    literally (cross-attention, residual from the CLS, LayerNorm, FFN).
    """

    def __init__(self, width: int, heads: int, d_ff: int, dropout: float):
        super().__init__()
        if width % heads:
            raise InputError(f"selection_heads ({heads}) must divide the text width ({width})")
        self.norm_query, self.norm_memory = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm_out = nn.LayerNorm(width)
        self.ffn = nn.Sequential(
            nn.Linear(width, d_ff), nn.GELU(), Dropout(dropout), nn.Linear(d_ff, width)
        )

    def forward(self, cls: Tensor, features: Tensor) -> Tensor:
        """``cls [B, N, d]``, ``features [B, N, d]`` -> selected-variate vectors ``[B, N, d]``."""
        memory = self.norm_memory(features)
        attended, _ = self.attention(self.norm_query(cls), memory, memory, need_weights=False)
        return self.ffn(self.norm_out(cls + attended))


def variate_ids(
    batch: int, n_vars: int, variate: Tensor | None, variates: Tensor | None, device
) -> Tensor:
    """``[B, N]`` dataset ids of the variates in each sample."""
    if variate is not None:
        return variate.to(device).view(batch, 1)
    if variates is not None:
        return variates.to(device).view(1, n_vars).expand(batch, -1)
    return torch.arange(n_vars, device=device).expand(batch, -1)


def check_settings(
    seq_len: int,
    patch_len: int,
    stride: int,
    temperature: float,
    cls_position: str,
    selection_features: str,
    feature_cache: str,
    freeze_vision: bool,
    align: bool,
    backbone_lr: float | None = None,
    cache_chunk: int = 64,
    selection_heads: int | None = None,
    selection_ff: int | None = None,
) -> None:
    """Refuse TimesCLIP settings that cannot work, naming the field."""
    if backbone_lr is not None and not (math.isfinite(backbone_lr) and backbone_lr > 0):
        raise InputError(
            f"backbone_lr={backbone_lr!r} must be a positive finite learning rate (the paper's "
            "1e-4), or null for optim.lr: a negative one trains the text tower uphill"
        )
    if cache_chunk < 1:
        raise InputError(
            f"cache_chunk={cache_chunk} is the number of windows per image-encoding pass: give "
            "a positive whole number (default 64)"
        )
    for name, value, default in (
        ("selection_heads", selection_heads, "the text tower's heads"),
        ("selection_ff", selection_ff, "4 x the text width"),
    ):
        if value is not None and value < 1:
            raise InputError(
                f"{name}={value} must be a positive whole number, or null for the default "
                f"({default})"
            )
    if not 0 < patch_len <= seq_len or stride < 1:
        raise InputError(
            f"need 0 < patch_len <= seq_len and stride >= 1; got patch_len={patch_len}, "
            f"stride={stride}, seq_len={seq_len}"
        )
    if temperature <= 0:
        raise InputError(f"temperature must be positive, got {temperature}")
    if cls_position not in ("first", "last"):
        raise InputError(f"cls_position must be 'first' or 'last', got '{cls_position}'")
    if selection_features not in ("cls", "mean"):
        raise InputError(f"selection_features must be 'cls' or 'mean', got '{selection_features}'")
    if feature_cache not in CACHE_MODES:
        raise InputError(f"feature_cache must be one of {CACHE_MODES}, got '{feature_cache}'")
    if align and not freeze_vision and feature_cache in ("memory", "disk"):
        raise InputError(
            "a trainable vision tower (model.freeze_vision=false) changes its features every "
            "step, so they cannot be cached: use model.feature_cache=off or auto"
        )


def check_image_size(image_size: int, patch: int | None, tower: str | None = None) -> None:
    """A ViT cuts the image into whole patches and silently drops the right and bottom
    remainder, where the plot draws the most recent steps. ``tower`` names it in the error."""
    if not patch or (image_size > 0 and image_size % patch == 0):
        return
    lower = max(patch, image_size // patch * patch)
    options = sorted({lower, lower + patch} if image_size > lower else {lower})
    named = f" ({tower})" if tower else ""
    raise InputError(
        f"image_size={image_size} (model.image_size on the command line) must be a positive "
        f"multiple of the vision tower's patch size {patch}{named}: the tower reads whole "
        f"{patch}-pixel patches and would drop the rest of the image (the most recent steps), "
        f"or fail with none; use {' or '.join(map(str, options))}"
    )
