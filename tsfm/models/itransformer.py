"""iTransformer: every variate's look-back window is one token.

Liu, Hu, Zhang, Wu, Wang, Ma, Long. "iTransformer: Inverted Transformers Are Effective for
Time Series Forecasting." ICLR 2024. arXiv:2310.06625. Official code: thuml/iTransformer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.common import Capabilities, Dropout, InstanceNorm, ModelOutput
from tsfm.models.itransformer_layers import (  # noqa: F401 (InvertedAttention re-exported)
    ACTIVATIONS,
    EncoderLayer,
    InvertedAttention,
)
from tsfm.models.sizing import SizingInputs

COVARIATE_MODES = ("tokens", "none")
# whose statistics normalise a future covariate's token: its look-back and horizon ("window"),
# its look-back only ("lookback", tsfm before future_norm; a flag flat over the look-back then
# reaches the embedding divided by sqrt(eps)), or none (its global scaling only)
FUTURE_NORMS = ("window", "lookback", "none")


class ITransformer(nn.Module):
    """iTransformer, numerically as the official code (thuml/iTransformer ``model/iTransformer.py``).

    The look-back series of each variate (and of each calendar feature) is embedded by one
    shared ``Linear(seq_len -> d_model)`` into a token; a post-LN Transformer encoder without
    positional encoding mixes the tokens; a shared ``Linear(d_model -> pred_len)`` projects
    every token, and all but the target tokens are sliced off. The weights do not depend on the
    number of variates, so a trained model forecasts any number of them.

    Covariates are variate tokens too (tsfm's extension, ``covariates="tokens"``): a past
    covariate's look-back is embedded like a target's (the official ``features=MS``, where the
    other variates are inputs only); a future covariate's look-back *and* horizon are embedded
    by their own ``Linear(seq_len + pred_len -> d_model)``, normalised with the statistics of
    its look-back and horizon together (``future_norm``); static covariates (numeric through a linear map, categorical through one
    embedding each, index 0 reserved for unseen categories) are added to the token of every
    target of their series. Only target tokens are scored. With missing values (``masked``),
    instance statistics use the observed values and a ``Linear(seq_len -> d_model)`` of the
    missing-value indicator is added to each token. Tokens: past covariates, targets,
    calendar features, future covariates.

    Args:
        seq_len: look-back length L (from the data).
        pred_len: horizon S (from the data): the projector's outputs per token.
        horizon: the steps future covariates cover after the look-back, when they differ from
            ``pred_len`` (a distribution head asks ``pred_len x K`` outputs of an ``S``-step
            horizon); None: ``pred_len``.
        n_future: future covariates F (from the data).
        n_static_real: numeric static covariates (from the data).
        static_cardinalities: categories of each categorical static covariate (from the data).
        masked: the data has missing values, given as masks (from the data).
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
        covariates: ``tokens`` (covariates as tokens, above) or ``none`` (ignored: the
            target-only ablation).
        future_norm: the instance statistics of a future covariate's token: ``window`` (its
            look-back and horizon, both known in advance: a holiday flag flat over the
            look-back and 1 in the horizon stays of order 1, and one flat over both is 0),
            ``lookback`` (its look-back only, as the targets'; a flag flat there reaches the
            embedding ~300x its size; models saved before this setting keep it) or ``none``
            (the globally scaled values as they are). Only with ``use_norm``.
        output_attention: also return each layer's attention maps ``[B, H, T, T]`` (``T``
            tokens) in ``ModelOutput.extras["attention"]``; this takes the slower explicit
            attention path.

    The paper's "efficient training" (a random subset of variates per training batch) is a
    data-layer switch, ``data.train_variates``, since it needs no change to the model.
    """

    CAPABILITIES = Capabilities(  # one shared embedding per variate token
        new_variates=True,
        past_covariates=True,
        future_covariates=True,
        static_covariates=True,
        missing_values=True,
    )
    # the smallest settings for a smoke test (the model tests build it with these)
    SMOKE_SETTINGS = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "dropout": 0.0}

    @classmethod
    def data_sized(cls, data: SizingInputs) -> dict[str, int] | None:
        """The Forecaster's width where neither ``d_model`` nor ``d_ff`` was chosen, by the
        training windows per epoch W: d_model = d_ff = 64 below 5,000, 128 below 50,000, 256
        above (the constructor's 512 / 2048 are the paper's size for large benchmarks, hours
        per epoch on a laptop CPU for a long half-hourly series)."""
        if data.chosen & {"d_model", "d_ff"}:
            return None
        width = 64 if data.n_windows < 5_000 else 128 if data.n_windows < 50_000 else 256
        return {"d_model": width, "d_ff": width}

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        horizon: int | None = None,
        n_future: int = 0,
        n_static_real: int = 0,
        static_cardinalities: list[int] | None = None,
        masked: bool = False,
        d_model: int = 512,
        n_heads: int = 8,
        n_layers: int = 2,
        d_ff: int = 2048,
        dropout: float = 0.1,
        activation: str = "gelu",
        use_norm: bool = True,
        use_time_features: bool = True,
        covariates: str = "tokens",
        output_attention: bool = False,
        future_norm: str = "window",
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise InputError(f"activation must be one of {sorted(ACTIVATIONS)}, got '{activation}'")
        if covariates not in COVARIATE_MODES:
            raise InputError(f"covariates must be one of {COVARIATE_MODES}, got '{covariates}'")
        if future_norm not in FUTURE_NORMS:
            raise InputError(f"future_norm must be one of {FUTURE_NORMS}, got '{future_norm}'")
        sizes = {"d_model": d_model, "n_heads": n_heads, "d_ff": d_ff}
        small = {k: v for k, v in sizes.items() if v < 1} | (
            {"n_layers": n_layers} if n_layers < 0 else {}
        )
        if small:
            raise InputError(
                f"{small}: d_model, n_heads and d_ff must be at least 1 and n_layers at least 0 "
                "(0: no encoder layer, a linear map of the look-back)"
            )
        if not 0 <= dropout < 1:
            raise InputError(f"dropout must be in [0, 1), got {dropout}")
        self.seq_len, self.pred_len = seq_len, pred_len
        self.use_norm, self.use_time_features = use_norm, use_time_features
        self.use_covariates, self.future_norm = covariates == "tokens", future_norm
        self.output_attention = output_attention
        self.embedding = nn.Linear(seq_len, d_model)
        self.embed_drop = Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, d_ff, dropout, activation) for _ in range(n_layers)
        )
        self.final_norm = nn.LayerNorm(d_model)
        self.projector = nn.Linear(d_model, pred_len)
        use = self.use_covariates
        window = seq_len + (horizon or pred_len)  # the future covariates' steps
        self.future_embedding = nn.Linear(window, d_model) if use and n_future else None
        self.static_real = nn.Linear(n_static_real, d_model) if use and n_static_real else None
        self.static_cat = nn.ModuleList(
            nn.Embedding(c + 1, d_model) for c in (static_cardinalities or []) if use
        )
        self.mask_embedding = nn.Linear(seq_len, d_model, bias=False) if masked else None
        self.future_mask_embedding = (
            nn.Linear(window, d_model, bias=False) if masked and use and n_future else None
        )

    def forward(
        self,
        x: Tensor,
        x_mark: Tensor | None = None,
        past_covariates: Tensor | None = None,
        future_covariates: Tensor | None = None,
        static_real: Tensor | None = None,
        static_cat: Tensor | None = None,
        x_mask: Tensor | None = None,
        past_covariates_mask: Tensor | None = None,
        future_covariates_mask: Tensor | None = None,
        **_: object,
    ) -> Tensor | ModelOutput:
        """``x [B, L, N]`` (and calendar features, covariates, masks) -> forecast ``[B, S, N]``."""
        if x.shape[1] != self.seq_len:
            raise InputError(f"expected a look-back of {self.seq_len} steps, got {x.shape[1]}")
        n_vars = x.shape[-1]
        norm = InstanceNorm(x, mask=x_mask) if self.use_norm else None
        series, masks = [norm.normalize(x) if norm else x], [x_mask]
        if self.use_covariates and past_covariates is not None:
            series.insert(0, self._normalized(past_covariates, past_covariates_mask))
            masks.insert(0, past_covariates_mask)
        n_before = series[0].shape[-1] if len(series) == 2 else 0
        tokens = torch.cat(series, dim=-1).transpose(1, 2)  # [B, P + N, L]
        n_series = tokens.shape[1]
        if self.use_time_features and x_mark is not None and x_mark.shape[-1]:
            tokens = torch.cat([tokens, x_mark.transpose(1, 2).to(tokens.dtype)], dim=1)
        h = self.embedding(tokens)
        if self.mask_embedding is not None and x_mask is not None:
            missing = [
                1 - m if m is not None else torch.zeros_like(s)
                for s, m in zip(series, masks, strict=True)
            ]
            indicator = torch.cat(missing, dim=-1).transpose(1, 2).to(h.dtype)
            h[:, :n_series] = h[:, :n_series] + self.mask_embedding(indicator)
        static = self._static(static_real, static_cat)
        if static is not None:
            h[:, n_before : n_before + n_vars] = h[:, n_before : n_before + n_vars] + static
        if self.future_embedding is not None and future_covariates is not None:
            h = torch.cat([h, self._future_tokens(future_covariates, future_covariates_mask)], 1)
        h = self.embed_drop(h)
        targets = slice(n_before, n_before + n_vars)
        # In inference the last layer computes only the targets' tokens: the others' outputs
        # would be discarded, and each kept token comes out as in the full pass. Training runs
        # every token through, so dropout draws the same masks as ever.
        pruned = not (self.training or self.output_attention) and h.shape[1] > n_vars
        pruned = pruned and len(self.layers) > 0
        maps = []
        for i, layer in enumerate(self.layers):
            last = pruned and i == len(self.layers) - 1
            h, weights = layer(h, self.output_attention, targets if last else None)
            maps.append(weights)
        out = self.projector(self.final_norm(h)).transpose(1, 2)  # [B, S, tokens or N]
        if not pruned:
            out = out[..., targets]
        if norm is not None:
            out = norm.denormalize(out)
        if self.output_attention:
            return ModelOutput(out, extras={"attention": maps})
        return out

    def _normalized(
        self, values: Tensor, mask: Tensor | None, observed: int | None = None
    ) -> Tensor:
        """``values`` normalised with the statistics of their first ``observed`` steps."""
        if not self.use_norm:
            return values
        head = values if observed is None else values[:, :observed]
        head_mask = mask if mask is None or observed is None else mask[:, :observed]
        return InstanceNorm(head, mask=head_mask).normalize(values)

    def _future_tokens(self, future: Tensor, mask: Tensor | None) -> Tensor:
        """``[B, L + H, F]`` -> ``[B, F, D]``, normalised as ``future_norm`` says."""
        if self.future_norm == "none":
            tokens = future.transpose(1, 2)
        else:
            observed = self.seq_len if self.future_norm == "lookback" else None
            tokens = self._normalized(future, mask, observed).transpose(1, 2)
        h = self.future_embedding(tokens)
        if self.future_mask_embedding is not None and mask is not None:
            h = h + self.future_mask_embedding((1 - mask).transpose(1, 2).to(h.dtype))
        return h

    def _static(self, real: Tensor | None, cat: Tensor | None) -> Tensor | None:
        """``[B, N, D]`` static embedding of each target's series (None without statics)."""
        parts = []
        if self.static_real is not None and real is not None:
            parts.append(self.static_real(real))
        if len(self.static_cat) and cat is not None:
            parts += [emb(cat[..., j]) for j, emb in enumerate(self.static_cat)]
        return sum(parts) if parts else None
