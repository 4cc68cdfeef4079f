"""iTransformer: every variate's look-back window is one token.

Liu, Hu, Zhang, Wu, Wang, Ma, Long. "iTransformer: Inverted Transformers Are Effective for
Time Series Forecasting." ICLR 2024. arXiv:2310.06625. Official code: thuml/iTransformer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.models.common import Capabilities, Dropout, InstanceNorm, ModelOutput

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu}


class InvertedAttention(nn.Module):
    """Multi-head self-attention over variate tokens, through ``scaled_dot_product_attention``."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads, self.dropout = n_heads, dropout
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def _heads(self, x: Tensor) -> Tensor:
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, self.n_heads, -1).transpose(1, 2)

    def forward(self, x: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        p = self.dropout if self.training else 0.0
        if need_weights:  # the explicit path, only when attention maps are asked for
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
            context = F.dropout(weights, p, self.training) @ v
        else:
            weights, context = None, F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        context = context.transpose(1, 2).reshape(x.shape)
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

    def forward(self, x: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        attended, weights = self.attention(x, need_weights)
        h = self.norm1(x + self.drop(attended))
        y = self.drop(self.ff_out(self.drop(self.activation(self.ff_in(h)))))
        return self.norm2(h + y), weights


class ITransformer(nn.Module):
    """iTransformer, numerically as the official code (thuml/iTransformer ``model/iTransformer.py``).

    The look-back series of each variate (and of each calendar feature) is embedded by one
    shared ``Linear(seq_len -> d_model)`` into a token; a post-LN Transformer encoder without
    positional encoding mixes the tokens; a shared ``Linear(d_model -> pred_len)`` projects
    every token, and the calendar tokens are sliced off. The weights do not depend on the
    number of variates, so a trained model forecasts any number of them.

    Args:
        seq_len: look-back length L (from the data).
        pred_len: horizon S (from the data).
        d_model: token width D (official default 512).
        n_heads: attention heads (8).
        n_layers: encoder layers (2; official ``e_layers``).
        d_ff: hidden width of the per-token FFN (2048; the paper presets use ``d_ff = D``).
        dropout: dropout on the embedding, attention weights and FFN (0.1).
        activation: ``gelu`` or ``relu``.
        use_norm: non-stationary instance normalisation of the input and de-normalisation of
            the output (official ``use_norm=1``).
        use_time_features: append the calendar features as extra tokens (official
            ``embed=timeF``); without them the model sees the variates only.
        output_attention: also return each layer's attention maps ``[B, H, T, T]`` (tokens
            ``T = N + C``) in ``ModelOutput.extras["attention"]``; this takes the slower
            explicit attention path.

    The paper's "efficient training" (a random subset of variates per training batch) is a
    data-layer switch, ``data.train_variates``, since it needs no change to the model.
    """

    CAPABILITIES = Capabilities(new_variates=True)  # one shared embedding per variate token

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        d_model: int = 512,
        n_heads: int = 8,
        n_layers: int = 2,
        d_ff: int = 2048,
        dropout: float = 0.1,
        activation: str = "gelu",
        use_norm: bool = True,
        use_time_features: bool = True,
        output_attention: bool = False,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got '{activation}'")
        self.seq_len, self.pred_len = seq_len, pred_len
        self.use_norm, self.use_time_features = use_norm, use_time_features
        self.output_attention = output_attention
        self.embedding = nn.Linear(seq_len, d_model)
        self.embed_drop = Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, d_ff, dropout, activation) for _ in range(n_layers)
        )
        self.final_norm = nn.LayerNorm(d_model)
        self.projector = nn.Linear(d_model, pred_len)

    def forward(self, x: Tensor, x_mark: Tensor | None = None, **_: object) -> Tensor | ModelOutput:
        """``x [B, L, N]`` (and ``x_mark [B, L, C]``) -> forecast ``[B, S, N]``."""
        if x.shape[1] != self.seq_len:
            raise ValueError(f"expected a look-back of {self.seq_len} steps, got {x.shape[1]}")
        n_vars = x.shape[-1]
        norm = InstanceNorm(x) if self.use_norm else None
        if norm is not None:
            x = norm.normalize(x)
        tokens = x.transpose(1, 2)  # [B, N, L]
        if self.use_time_features and x_mark is not None and x_mark.shape[-1]:
            tokens = torch.cat([tokens, x_mark.transpose(1, 2).to(tokens.dtype)], dim=1)
        h = self.embed_drop(self.embedding(tokens))
        maps = []
        for layer in self.layers:
            h, weights = layer(h, self.output_attention)
            maps.append(weights)
        out = self.projector(self.final_norm(h)).transpose(1, 2)[..., :n_vars]  # [B, S, N]
        if norm is not None:
            out = norm.denormalize(out)
        if self.output_attention:
            return ModelOutput(out, extras={"attention": maps})
        return out
