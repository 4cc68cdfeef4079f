"""Attention under CPU mixed precision (``torch.autocast("cpu")``, bf16), shared by the models.

Under CPU autocast torch's attention kernels are slow for these models' shapes: SDPA with
dropout takes its math path (q, k and v copied to float32, torch's slow dropout masks), the
fused CPU flash kernel is slower still in bf16 (its backward over 13 tokens took 40% of a
TimesCLIP step), and a softmax over a dozen keys runs element by element. The explicit path
here multiplies in bf16, takes the softmax in float32 and draws dropout with the fast CPU
mask. Outside CPU autocast every model keeps its fp32 kernels, so fp32 results are unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.models.common import Dropout, replace_modules

SHORT_ROWS = 16  # below this many keys torch's CPU softmax over the last dimension is slow


def cpu_autocast(x: Tensor) -> bool:
    """Whether ``x`` is on the CPU inside a ``torch.autocast("cpu")`` region."""
    return x.device.type == "cpu" and torch.is_autocast_enabled("cpu")


def softmax_fp32(scores: Tensor) -> Tensor:
    """Softmax over the last dimension in float32, whatever the input's dtype.

    Rows shorter than 16 are reduced with that dimension moved outermost: torch's CPU kernel
    handles a short last dimension element by element, about five times slower than a
    reduction across contiguous rows (same values, to rounding).
    """
    scores = scores.float()
    if scores.shape[-1] >= SHORT_ROWS or scores.device.type != "cpu":
        return torch.softmax(scores, dim=-1)
    outer = scores.movedim(-1, 0).contiguous()
    return torch.softmax(outer, dim=0).movedim(0, -1)


def explicit_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    dropout: nn.Module | None = None,
    scale: float | None = None,
    causal: bool = False,
    mask: Tensor | None = None,
) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` over ``[B, H, T, E]``: products in the inputs'
    (autocast) dtype, the softmax in float32 (:func:`softmax_fp32`), then ``dropout``.

    ``mask`` is boolean (True = may attend, SDPA's convention) or additive; ``causal`` hides
    later keys (aligned at the top left, as SDPA's ``is_causal``).
    """
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = (q @ k.transpose(-2, -1)).float() * scale
    if mask is not None:
        scores = (
            scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        )
    if causal:
        later = torch.ones(scores.shape[-2:], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(later, float("-inf"))
    weights = softmax_fp32(scores)
    if dropout is not None:
        weights = dropout(weights)
    return weights.to(v.dtype) @ v


class MultiheadAttention(nn.MultiheadAttention):
    """``nn.MultiheadAttention`` (same parameters and state dict) that takes
    :func:`explicit_attention` under CPU autocast; anything else goes to torch's forward."""

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        usable = (
            cpu_autocast(query)
            and self.batch_first
            and self._qkv_same_embed_dim
            and self.bias_k is None
            and not self.add_zero_attn
            and not need_weights
            and key_padding_mask is None
            and (attn_mask is None or attn_mask.dim() == 2)  # one mask for every head
            and not is_causal
        )
        if not usable:
            return super().forward(
                query,
                key,
                value,
                key_padding_mask,
                need_weights,
                attn_mask,
                average_attn_weights,
                is_causal,
            )
        q, k, v = self._projections(query, key, value)
        mask = ~attn_mask if attn_mask is not None and attn_mask.dtype == torch.bool else attn_mask
        drop = Dropout(self.dropout) if self.training and self.dropout > 0 else None
        context = explicit_attention(q, k, v, drop, mask=mask)
        context = context.transpose(1, 2).reshape(query.shape)
        return F.linear(context, self.out_proj.weight, self.out_proj.bias), None

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        """q, k, v as ``[B, H, T, E]``, with one product for the inputs they share."""
        weight, bias = self.in_proj_weight, self.in_proj_bias
        if bias is None:
            bias = weight.new_zeros(weight.shape[0])
        width, heads = self.embed_dim, self.num_heads

        def split(x: Tensor, parts: int) -> tuple[Tensor, ...]:
            return tuple(x.view(*x.shape[:2], parts, heads, -1).permute(2, 0, 3, 1, 4))

        if query is key and key is value:
            return split(F.linear(query, weight, bias), 3)
        q = split(F.linear(query, weight[:width], bias[:width]), 1)
        if key is value:
            return (*q, *split(F.linear(key, weight[width:], bias[width:]), 2))
        k = split(F.linear(key, weight[width : 2 * width], bias[width : 2 * width]), 1)
        v = split(F.linear(value, weight[2 * width :], bias[2 * width :]), 1)
        return (*q, *k, *v)


def use_explicit_attention(model: nn.Module) -> None:
    """Make every ``nn.MultiheadAttention`` inside ``model`` a :class:`MultiheadAttention`
    (in place: same parameters, same state dict, same fp32 behaviour)."""

    def convert(module: nn.Module) -> nn.Module:
        module.__class__ = MultiheadAttention
        return module

    replace_modules(model, lambda m: type(m) is nn.MultiheadAttention, convert)
