"""The attention a language backbone runs: Hugging Face's SDPA, with a CPU mixed-precision path.

Registered with transformers' ``AttentionInterface`` as ``tsfm_sdpa``. Outside CPU autocast it
is transformers' own ``sdpa`` function, call for call (fp32 numerics unchanged). Under CPU
autocast (``trainer.precision=bf16-mixed``) SDPA with dropout would take its math path, which
copies q, k and v to float32 and draws torch's slow dropout masks; there
:func:`low_precision_attention` runs instead: the scores, the weights and their dropout stay in
bf16 (the softmax accumulates in float32 inside torch's bf16 kernel), with the scale and the
causal mask fused into the score product. Its result differs from a float32 softmax by the
one bf16 rounding of the weights that the product with v needs anyway.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tsfm.models.attention import SHORT_ROWS, cpu_autocast, explicit_attention
from tsfm.models.common import Dropout

NAME = "tsfm_sdpa"


def _causal_bias(queries: int, keys: int, dtype: torch.dtype) -> Tensor:
    """``[T, S]``: 0 where a query may attend, -inf on the later keys (top-left aligned)."""
    later = torch.ones(queries, keys, dtype=torch.bool).triu(1)
    return torch.zeros(queries, keys, dtype=dtype).masked_fill_(later, float("-inf"))


def low_precision_attention(
    q: Tensor, k: Tensor, v: Tensor, dropout: nn.Module | None, scale: float, causal: bool
) -> Tensor:
    """``softmax(q k^T * scale) v`` over ``[B, H, T, E]`` in the inputs' (autocast) dtype,
    without a float32 copy of the ``[B, H, T, S]`` scores; returns ``[B, T, H, E]``."""
    batch, heads, queries, width = q.shape
    dtype = torch.get_autocast_dtype("cpu")
    q, k, v = (x.to(dtype).reshape(batch * heads, x.shape[2], width) for x in (q, k, v))
    if causal:  # the mask and the scale ride on the product: one pass over the scores
        bias = _causal_bias(queries, k.shape[1], dtype)
        scores = torch.baddbmm(bias, q, k.transpose(1, 2), alpha=scale)
    else:
        scores = torch.bmm(q, k.transpose(1, 2)).mul_(scale)
    weights = torch.softmax(scores, dim=-1)
    if dropout is not None:
        weights = dropout(weights)
    context = torch.bmm(weights, v).view(batch, heads, queries, width)
    return context.transpose(1, 2).contiguous()


def backbone_attention(
    module: nn.Module,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: object,
) -> tuple[Tensor, None]:
    """transformers' attention-function signature: ``[B, H, T, E]`` in, ``[B, T, H, E]`` out."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    grouped = getattr(module, "num_key_value_groups", 1) > 1
    if not cpu_autocast(query) or grouped or kwargs.get("position_bias") is not None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout, scaling, is_causal, **kwargs
        )
    causal = getattr(module, "is_causal", True) if is_causal is None else is_causal
    causal = causal and attention_mask is None and query.shape[2] > 1
    drop = Dropout(dropout) if dropout > 0 else None
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    # shorter rows (and masks) take explicit_attention, whose softmax handles them
    if attention_mask is None and key.shape[2] >= SHORT_ROWS:
        return low_precision_attention(query, key, value, drop, scale, causal), None
    context = explicit_attention(query, key, value, drop, scale, causal, attention_mask)
    return context.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``NAME`` known to transformers (idempotent); returns it."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, backbone_attention)
    return NAME
