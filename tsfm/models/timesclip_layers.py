"""TimesCLIP's small parts: patching, the contrastive loss and the variate-selection block."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.models.layers import Dropout


def patchify(series: Tensor, patch_len: int, stride: int) -> Tensor:
    """``[M, L]`` -> ``[M, Np, patch_len]`` after repeating the last value ``stride`` times
    (PatchTST's end padding), so ``Np = (L - patch_len) // stride + 2``."""
    padded = F.pad(series.unsqueeze(1), (0, stride), mode="replicate").squeeze(1)
    return padded.unfold(-1, patch_len, stride)


def n_patches(seq_len: int, patch_len: int, stride: int) -> int:
    return (seq_len - patch_len) // stride + 2


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
            raise ValueError(f"selection_heads ({heads}) must divide the text width ({width})")
        self.norm_query, self.norm_memory = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm_out = nn.LayerNorm(width)
        self.ffn = nn.Sequential(
            nn.Linear(width, d_ff), nn.GELU(), Dropout(dropout), nn.Linear(d_ff, width)
        )

    def forward(self, cls: Tensor, features: Tensor) -> Tensor:
        """``cls [B, N, d]``, ``features [B, N, d]`` -> selected-variate vectors ``[B, N, d]``."""
        memory = self.norm_memory(features)
        attended, _ = self.attention(self.norm_query(cls), memory, memory, need_weights=False)
        return self.ffn(self.norm_out(cls + attended))
