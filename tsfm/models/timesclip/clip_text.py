"""CLIP's text tower as TimesCLIP feeds it: input embeddings (numeric patches) instead of
token ids, and the checks, before anything is built, that the CLIP's config has such a tower
with a position for each patch."""

from __future__ import annotations

from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models.attention import use_explicit_attention
from tsfm.models.common import recorded_architecture


class ClipTextBackbone(nn.Module):
    """CLIP's text transformer fed with input embeddings instead of token ids.

    Keeps the pretrained position embeddings, the residual blocks and the final LayerNorm;
    drops the token embedding (a 49408-word table numeric patches never use) and the text
    projection.
    """

    def __init__(self, clip_model: nn.Module):
        super().__init__()
        text = getattr(clip_model, "text", clip_model)
        if not hasattr(text, "transformer") or not hasattr(text, "positional_embedding"):
            raise InputError(
                f"{type(text).__name__} is not a CLIP text transformer (Hugging Face text towers "
                "are not supported); choose an open_clip architecture with a native text tower "
                "(e.g. ViT-B-16)"
            )
        self.transformer = text.transformer
        use_explicit_attention(self.transformer)  # faster under CPU autocast; fp32 unchanged
        self.positional_embedding = text.positional_embedding
        self.ln_final = text.ln_final
        self.width = int(self.positional_embedding.shape[1])
        self.context_length = int(self.positional_embedding.shape[0])
        self.heads = int(self.transformer.resblocks[0].attn.num_heads)

    def forward(self, embeddings: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        """``[B, T, width]`` input embeddings -> ``[B, T, width]`` final hidden states."""
        x = embeddings + self.positional_embedding[: embeddings.shape[1]].to(embeddings.dtype)
        return self.ln_final(self.transformer(x, attn_mask=attn_mask))


def check_text_tower(clip: str, tokens: int) -> None:
    """The CLIP's text tower from its config, before it is built: a native transformer (a
    Hugging Face one, which needs its own download even for random weights, takes no input
    embeddings here) with a position for each of ``tokens``. A ``hf-hub:``/``local-dir:``
    CLIP is described by its files only: its tower is checked once built. A recorded
    architecture (a save's) is checked instead of ``clip``'s source."""
    from open_clip.model import CLIPTextCfg

    from tsfm.models.timesclip.clip_backbones import _open_clip, resolve_architecture

    config = recorded_architecture("clip")
    if config is None:
        config = _open_clip().get_model_config(resolve_architecture(clip))
    text_cfg = (config or {}).get("text_cfg")
    if text_cfg is None:
        return
    if text_cfg.get("hf_model_name"):
        raise InputError(
            f"model.clip={clip} has a Hugging Face text tower ({text_cfg['hf_model_name']}), "
            "which TimesCLIP cannot feed numeric patches: choose an open_clip architecture "
            "with a native text tower (e.g. ViT-B-16, ViT-B-32, RN50)"
        )
    check_positions(tokens, text_cfg.get("context_length", CLIPTextCfg.context_length))


def check_positions(tokens: int, positions: int) -> None:
    """The patches and the CLS token each take one of the text tower's positions."""
    if tokens > positions:
        raise InputError(
            f"{tokens - 1} patches + CLS exceed the text tower's {positions} positions; raise "
            "model.stride or model.patch_len, or shorten data.seq_len"
        )
