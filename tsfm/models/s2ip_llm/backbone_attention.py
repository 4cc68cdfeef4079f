"""The attention a language backbone runs: Hugging Face's SDPA, with a CPU mixed-precision path.

Registered with transformers' ``AttentionInterface`` as ``tsfm_sdpa``. Outside CPU autocast it
is transformers' own ``sdpa`` function, call for call (fp32 numerics unchanged). Under CPU
autocast (``trainer.precision=bf16-mixed``) SDPA with dropout would take its math path, which
copies q, k and v to float32 and draws torch's slow dropout masks; there the products run in
bf16 and the softmax in float32 (:func:`tsfm.models.common.explicit_attention`).
"""

from __future__ import annotations

from torch import Tensor, nn

from tsfm.models.attention import cpu_autocast, explicit_attention
from tsfm.models.common import Dropout

NAME = "tsfm_sdpa"


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
    context = explicit_attention(query, key, value, drop, scaling, causal, attention_mask)
    return context.transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``NAME`` known to transformers (idempotent); returns it."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, backbone_attention)
    return NAME
