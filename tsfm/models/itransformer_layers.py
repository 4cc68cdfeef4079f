"""iTransformer's encoder: multi-head self-attention over variate tokens and the post-LN
block around it (numerically as thuml/iTransformer's ``layers/Transformer_EncDec.py``)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.attention import cpu_autocast, explicit_attention
from tsfm.models.common import Dropout

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu}


class InvertedAttention(nn.Module):
    """Multi-head self-attention over variate tokens, through ``scaled_dot_product_attention``."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        if d_model % n_heads:
            raise InputError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads, self.dropout = n_heads, dropout
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.attention_drop = Dropout(dropout)

    def _heads(self, x: Tensor) -> Tensor:
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, self.n_heads, -1).transpose(1, 2)

    def _fused_heads(self, x: Tensor, queries: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """q (of ``queries``), k and v (of ``x``) with the weights stacked, in the autocast
        dtype: one product when every token asks, else one for q and one for k and v."""
        dtype = torch.get_autocast_dtype("cpu")
        layers = (self.query, self.key, self.value) if queries is x else (self.key, self.value)
        weight = torch.cat([layer.weight.to(dtype) for layer in layers])
        bias = torch.cat([layer.bias for layer in layers])
        batch, tokens, _ = x.shape
        stacked = F.linear(x, weight, bias).view(batch, tokens, len(layers), self.n_heads, -1)
        if queries is x:
            q, k, v = stacked.permute(2, 0, 3, 1, 4)
            return q, k, v
        k, v = stacked.permute(2, 0, 3, 1, 4)
        q = F.linear(queries, self.query.weight.to(dtype), self.query.bias)
        return self._heads(q), k, v

    def forward(
        self, x: Tensor, need_weights: bool = False, queries: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Self-attention of ``x``; with ``queries`` (some of x's tokens, contiguous), only
        those tokens' outputs, each the same as in the full pass (keys and values from x)."""
        queries = x if queries is None else queries
        if not need_weights and cpu_autocast(x):  # bf16 on CPU; fp32 stays as below
            drop = self.attention_drop if self.training else None
            context = explicit_attention(*self._fused_heads(x, queries), drop)
            return self.out(context.transpose(1, 2).reshape(queries.shape)), None
        q, k, v = (
            self._heads(self.query(queries)),
            self._heads(self.key(x)),
            self._heads(self.value(x)),
        )
        p = self.dropout if self.training else 0.0
        if need_weights:  # the explicit path, only when attention maps are asked for
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
            context = F.dropout(weights, p, self.training) @ v
        else:
            weights, context = None, F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        context = context.transpose(1, 2).reshape(queries.shape)
        return self.out(context), weights


class EncoderLayer(nn.Module):
    """Post-LN block: ``LN(x + attn(x))`` then ``LN(h + FFN(h))``; the FFN acts per token."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float, activation: str):
        super().__init__()
        self.attention = InvertedAttention(d_model, n_heads, dropout)
        self.ff_in, self.ff_out = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = Dropout(dropout)
        self.activation = ACTIVATIONS[activation]

    def forward(
        self, x: Tensor, need_weights: bool = False, kept: slice | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """``kept``: compute only these tokens' outputs (all tokens still serve as keys)."""
        queries = None if kept is None else x[:, kept].contiguous()
        attended, weights = self.attention(x, need_weights, queries)
        h = self.norm1((x if queries is None else queries) + self.drop(attended))
        y = self.drop(self.ff_out(self.drop(self.activation(self.ff_in(h)))))
        return self.norm2(h + y), weights
