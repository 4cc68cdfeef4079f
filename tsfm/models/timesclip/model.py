"""TimesCLIP: a numeric "language" view through CLIP's text transformer, aligned with a
rendered-image view through a frozen CLIP vision tower, plus cross-variate selection.

Dong, Fan, Wu, Fu. "Teaching Time Series to See and Speak: Forecasting with Aligned Visual and
Textual Perspectives." arXiv:2506.24124 (2025). No official code exists; every detail the
paper leaves open is a field below, marked "tsfm choice".

Language view (the forecaster): instance normalisation, per-variate patching (PatchTST end
padding), a trainable ``Linear(patch_len -> width)``, a learnable CLS token, CLIP's text
transformer (fine-tuned, with its position embeddings). Vision view (training only): each
variate drawn as its own line image, a frozen vision tower, a trainable projection to the text
width; symmetric InfoNCE between the language CLS and the image vector of the same variate and
window, all other (window, variate) pairs of the batch being negatives. Variate selection:
each variate's CLS attends over all variates' features. Generator: a linear head over
``[CLS, patch tokens, selected-variate vector]``, shared by the variates; de-normalisation.

Args:
    seq_len, pred_len, n_vars: from the data (``n_vars`` only sizes the default palette).
    clip: open_clip architecture (``ViT-B-16``), a tsfm config (``tsfm-tiny-clip``,
        ``tsfm-small-clip``) or the path of an open_clip JSON config.
    clip_weights: pretrained tag of ``clip`` (``openai``) or a checkpoint file.
    pretrained: load weights; false builds the same architecture randomly, offline. A saved
        model loads without them (its own weights replace them) and without the CLIP's
        architecture source: the save keeps a copy of each architecture config
        (``backbone_architectures``; saves written before it was kept read ``clip``, and an
        ``hf-hub:``/``local-dir:`` CLIP's weights, from their source).
    vision: ``clip`` (the CLIP's own vision tower), ``open_clip:<arch>`` or ``timm:<name>``
        (paper Table 6 swaps in a plain ViT); ``vision_weights``: its tag or file.
    freeze_vision: keep the vision tower frozen (the paper); a frozen tower is kept out of the
        state dict and the optimizer; a loaded model holds it with random weights and
        refuses to draw with it (forecasting never does; a refit, warm or fresh, reads it
        from its source; a warm one refuses a source whose architecture changed).
    patch_len, stride: patching (16, 8: tsfm choice, PatchTST's). cls_position: ``first``
        (the paper's figure) or ``last``. causal_mask: CLIP's causal mask (off: tsfm choice;
        with it a first CLS would see only itself). dropout: on patch embeddings, the
        selection FFN and the head (0.1, tsfm choice).
    image_size, line_width, image_norm (``minmax``/``zscore``), zscore_range, margin, palette
        (null: tab10, or evenly spaced hues for more than 10 variates): the renderer, see
        :class:`~tsfm.models.timesclip.render.LineRenderer` (tsfm choices); ``image_size`` is a
        multiple of a ViT tower's patch size. colour: one colour per
        variate; false draws every variate in the first palette colour (Table 5 ablation).
    align, align_weight: the contrastive loss and its weight (0.1, the paper's lambda_2).
    temperature, learn_temperature: initial InfoNCE temperature and whether it is learnt
        (0.07 learnt, CLIP's: tsfm choice).
    variate_selection: the cross-variate block (Table 5 ablation). selection_heads (null: the
        text tower's), selection_ff (null: 4 x width), selection_features: ``cls`` (reuse each
        variate's CLS from the shared backbone pass) or ``mean`` (mean patch token).
    backbone_lr: learning rate of the pretrained text tower (1e-4, paper); the rest uses
        ``optim.lr`` (1e-3 in the presets). Null: ``optim.lr`` for all.
    feature_cache: ``auto`` (``memory`` when the vision tower is frozen, else ``off``),
        ``memory``, ``disk`` or ``off``: image features of every training window computed
        once. cache_dir, cache_dtype, cache_chunk: where, how stored, windows per encoding pass.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.common import (
    Capabilities,
    Dropout,
    InstanceNorm,
    ModelOutput,
    n_patches,
    patchify,
    restoring,
)
from tsfm.models.timesclip.clip_backbones import create_clip
from tsfm.models.timesclip.clip_sources import CLIP_SOURCES
from tsfm.models.timesclip.clip_text import ClipTextBackbone, check_positions
from tsfm.models.timesclip.feature_cache import ImageFeatureCache
from tsfm.models.timesclip.frozen_source import backbone_sources, reading_warm_tower
from tsfm.models.timesclip.layers import (
    VariateSelection,
    check_settings,
    info_nce,
    variate_ids,
)
from tsfm.models.timesclip.render import LineRenderer, default_palette
from tsfm.models.timesclip.vision_towers import (
    build_vision_tower,
    check_backbones,
    refuse_unread_weights,
)
from tsfm.models.timesclip.vision_view import VisionView


class TimesCLIP(VisionView, nn.Module):
    """TimesCLIP forecaster; arguments in the module docstring."""

    # one head shared by all variates; forecasting draws no images
    CAPABILITIES = Capabilities(new_variates=True, aux_losses=("align",))
    SOURCES = CLIP_SOURCES  # settings naming where pretrained parts are, for a moved copy
    # the smallest settings for a smoke test: a tiny CLIP (clip_configs/), random weights
    SMOKE_SETTINGS = {
        "clip": "tsfm-tiny-clip",
        "pretrained": False,
        "image_size": 32,
        "line_width": 1.5,
        "patch_len": 8,
        "stride": 4,
        "dropout": 0.0,
    }

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        n_vars: int = 1,
        clip: str = "ViT-B-16",
        clip_weights: str | None = "openai",
        pretrained: bool = True,
        vision: str = "clip",
        vision_weights: str | None = None,
        freeze_vision: bool = True,
        patch_len: int = 16,
        stride: int = 8,
        cls_position: str = "first",
        causal_mask: bool = False,
        dropout: float = 0.1,
        image_size: int = 224,
        line_width: float = 2.0,
        image_norm: str = "minmax",
        zscore_range: float = 3.0,
        margin: float = 0.05,
        palette: list[str] | None = None,
        colour: bool = True,
        align: bool = True,
        align_weight: float = 0.1,
        temperature: float = 0.07,
        learn_temperature: bool = True,
        variate_selection: bool = True,
        selection_heads: int | None = None,
        selection_ff: int | None = None,
        selection_features: str = "cls",
        backbone_lr: float | None = 1e-4,
        feature_cache: str = "auto",
        cache_dir: str | None = None,
        cache_dtype: str = "float16",
        cache_chunk: int = 64,
    ):
        super().__init__()
        check_settings(
            seq_len, patch_len, stride, temperature, cls_position, selection_features,
            feature_cache, freeze_vision, align, backbone_lr, cache_chunk, selection_heads,
            selection_ff,
        )  # fmt: skip
        self.seq_len, self.pred_len = seq_len, pred_len
        self.patch_len, self.stride = patch_len, stride
        self.cls_first, self.causal_mask = cls_position == "first", causal_mask
        self.align, self.align_weight, self.colour = align, align_weight, colour
        self.variate_selection, self.selection_features = variate_selection, selection_features
        self.backbone_lr, self.freeze_vision = backbone_lr, freeze_vision
        self.cache_chunk = cache_chunk

        # built for saved weights, only the backbones no state dict holds read their source
        sources = backbone_sources(clip, pretrained, align, freeze_vision, vision)
        self.placeholder_vision = sources.placeholder

        def reading():  # a warm fit's frozen tower: its missing source refused as such
            return reading_warm_tower(sources, clip, clip_weights, vision, vision_weights)

        # what the settings alone decide is refused before any (slow, weight-reading) build
        tokens = n_patches(seq_len, patch_len, stride) + 1
        if not pretrained and not restoring():  # (a save's copy is built as it was fitted)
            refuse_unread_weights(clip_weights, vision_weights)
        with reading():
            check_backbones(
                clip, clip_weights, vision if align else None, vision_weights, sources.clip,
                image_size, tokens, vision_pretrained=sources.tower,
            )  # fmt: skip
        palette = palette or default_palette(n_vars)
        self.renderer = LineRenderer(
            image_size, line_width, image_norm, zscore_range, margin, palette
        )
        with reading():
            clip_model = create_clip(
                clip, clip_weights, sources.clip, image_size if vision == "clip" and align else None
            )
        self.text = ClipTextBackbone(clip_model)
        # the architecture configs built from, as plain JSON: saves keep them, loads use them
        self.backbone_architectures: dict[str, dict] = {}
        if clip_model.architecture is not None:  # (an unreadable hf-hub: config: none)
            self.backbone_architectures["clip"] = clip_model.architecture
        check_positions(tokens, self.text.context_length)  # a hf-hub:/local-dir: CLIP's
        width = self.text.width
        self.patch_embedding = nn.Linear(patch_len, width)
        self.cls_token = nn.Parameter(torch.randn(width) * 0.02)
        self.embed_drop, self.head_drop = Dropout(dropout), Dropout(dropout)
        if variate_selection:
            heads = self.text.heads if selection_heads is None else selection_heads
            d_ff = 4 * width if selection_ff is None else selection_ff
            self.selection = VariateSelection(width, heads, d_ff, dropout)
        self.head = nn.Linear((tokens + int(variate_selection)) * width, pred_len)

        self.image_cache: ImageFeatureCache | None = None
        self._image_buffer: Tensor | None = None
        if align:
            source = f"{clip}:{clip_weights if sources.clip else 'random'}"
            with reading():
                tower = build_vision_tower(
                    vision, clip_model, source, vision_weights, sources.tower, image_size
                )
            if tower.architecture is not None:
                self.backbone_architectures["vision"] = tower.architecture
            if freeze_vision:  # held outside the module tree: no state dict entries, no grads
                object.__setattr__(self, "_frozen_tower", tower.requires_grad_(False).eval())
            else:
                self.vision_tower = tower
            self.image_projection = nn.Linear(tower.out_dim, width)
            scale = torch.tensor(math.log(1 / temperature))
            if learn_temperature:
                self.log_logit_scale = nn.Parameter(scale)
            else:
                self.register_buffer("log_logit_scale", scale)
            if feature_cache == "auto":
                feature_cache = "memory" if freeze_vision else "off"
            if feature_cache != "off":
                self.image_cache = ImageFeatureCache(feature_cache, cache_dir, cache_dtype)

    # ------------------------------------------------------------------ the language view
    def encode_language(self, series: Tensor) -> tuple[Tensor, Tensor]:
        """``[M, L]`` normalised series -> CLS ``[M, d]`` and patch states ``[M, Np, d]``."""
        tokens = self.patch_embedding(patchify(series, self.patch_len, self.stride))
        cls = self.cls_token.to(tokens.dtype).expand(len(tokens), 1, -1)
        sequence = torch.cat([cls, tokens] if self.cls_first else [tokens, cls], dim=1)
        mask = None
        if self.causal_mask:
            n = sequence.shape[1]
            mask = torch.full((n, n), float("-inf"), device=series.device).triu_(1)
        hidden = self.text(self.embed_drop(sequence), mask)
        if self.cls_first:
            return hidden[:, 0], hidden[:, 1:]
        return hidden[:, -1], hidden[:, :-1]

    def forward(
        self,
        x: Tensor,
        x_mark: Tensor | None = None,
        index: Tensor | None = None,
        variate: Tensor | None = None,
        variates: Tensor | None = None,
        **_: object,
    ) -> Tensor | ModelOutput:
        """``x [B, L, N]`` -> ``[B, S, N]``; in training (with ``align``) also the InfoNCE term.

        ``index`` (window position in the training split) and ``variate``/``variates`` (the
        variates' ids in the dataset) let training read cached image features.
        """
        if x.shape[1] != self.seq_len:
            raise InputError(f"expected a look-back of {self.seq_len} steps, got {x.shape[1]}")
        batch, _, n_vars = x.shape
        norm = InstanceNorm(x)
        series = norm.normalize(x).transpose(1, 2).reshape(batch * n_vars, -1)
        cls, patches = self.encode_language(series)
        parts = [cls.unsqueeze(1), patches]
        if self.variate_selection:
            query = cls.view(batch, n_vars, -1)
            keys = (
                query
                if self.selection_features == "cls"
                else patches.mean(1).view(batch, n_vars, -1)
            )
            parts.append(self.selection(query, keys).reshape(batch * n_vars, 1, -1))
        features = self.head_drop(torch.cat(parts, dim=1).flatten(1))
        out = norm.denormalize(self.head(features).view(batch, n_vars, -1).transpose(1, 2))
        if not (self.training and self.align):
            return out
        columns = variate_ids(batch, n_vars, variate, variates, x.device)
        image = self.image_projection(self.image_features(x, index, columns).to(cls.dtype))
        loss = info_nce(
            cls, image.reshape(batch * n_vars, -1), self.log_logit_scale.exp().clamp(max=100)
        )
        return ModelOutput(out, aux_losses={"align": self.align_weight * loss})

    # ------------------------------------------------------------------ optimisation
    def parameter_groups(self, lr: float) -> list[dict]:
        """The pretrained towers at ``backbone_lr``, everything else at ``lr``."""
        backbone = list(self.text.parameters())
        if not self.freeze_vision and self.align:
            backbone += list(self.vision_tower.parameters())
        chosen = {id(p) for p in backbone}
        rest = [p for p in self.parameters() if id(p) not in chosen]
        backbone_lr = lr if self.backbone_lr is None else self.backbone_lr
        return [
            {"params": backbone, "lr": backbone_lr, "name": "backbone"},
            {"params": rest, "lr": lr, "name": "new"},
        ]
