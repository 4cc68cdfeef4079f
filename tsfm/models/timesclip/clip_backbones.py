"""TimesCLIP's CLIP (open_clip), loaded offline-first with clear errors (its text tower, as
TimesCLIP feeds it, is in ``clip_text``).

``open_clip`` is imported only when a backbone is checked or built, so registering the
model's config schema stays cheap. Architectures are open_clip names (``ViT-B-16``), the JSON
files in ``clip_configs/`` (``tsfm-tiny-clip`` for tests, ``tsfm-small-clip`` for CPU runs),
or the path of any open_clip-style JSON config (registered under its file stem). What the
configuration alone decides (the architecture, the weights, the image size against the patch
size, the text tower) is refused before anything is built. Each CLIP built records the
architecture config it was built from (``architecture``); inside
:func:`~tsfm.models.common.restoring_saved_weights` a CLIP with a recorded architecture is
built from that copy instead (:mod:`~tsfm.models.timesclip.clip_architectures`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tsfm.errors import InputError, MissingFileError
from tsfm.local_files import not_tensors_message, pickle_refusal, refuse_url
from tsfm.models.common import recorded_architecture, restoring_to_train
from tsfm.models.hub_access import hub_access, unreachable_note
from tsfm.models.own_code import no_code_prompts
from tsfm.models.timesclip.clip_architectures import (
    RANDOM_WEIGHTS_NOTES,
    DropMessages,
    check_recorded,
    check_same_clip,
    config_patch,
    create_recorded,
    refuse_text_tower_code,
    setting_of,
    source_config,
)
from tsfm.models.timesclip.clip_checkpoints import mismatch_message
from tsfm.models.timesclip.clip_text import (  # noqa: F401 (re-exported: pickled models
    ClipTextBackbone,  # made before it moved name it here)
)
from tsfm.models.timesclip.layers import check_image_size

log = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).with_name("clip_configs")
_SCHEMAS = ("hf-hub:", "local-dir:")
_registered: set[Path] = set()


def _open_clip():
    import open_clip

    if CONFIG_DIR not in _registered:
        open_clip.add_model_config(CONFIG_DIR)
        _registered.add(CONFIG_DIR)
    return open_clip


def resolve_architecture(clip: str, field: str = "model.clip") -> str:
    """The open_clip name of ``clip``; a ``.json`` path is registered under its file stem.
    ``field`` is the setting errors name (``model.vision`` for an ``open_clip:`` tower)."""
    open_clip = _open_clip()
    if clip.startswith(_SCHEMAS):
        return clip
    if clip.endswith(".json"):
        path = Path(clip).expanduser().resolve()
        if not path.is_file():
            raise MissingFileError(
                f"{field}: no open_clip architecture config at {path}; give the path of an "
                "existing JSON config, or an architecture name (e.g. ViT-B-16)"
            )
        if path not in _registered:
            open_clip.add_model_config(path)
            _registered.add(path)
        if path.stem not in open_clip.list_models():
            raise InputError(
                f"{path} is not an open_clip model config (it needs 'embed_dim', 'vision_cfg' "
                "and 'text_cfg')"
            )
        return path.stem
    name = clip.replace("/", "-")
    if name not in open_clip.list_models():
        raise InputError(
            f"{field}: unknown open_clip architecture '{clip}'. Use one of "
            f"open_clip.list_models() (e.g. ViT-B-16, ViT-B-32, RN50), tsfm's tsfm-tiny-clip / "
            "tsfm-small-clip, or the path of an open_clip JSON config"
        )
    return name


def names_architecture(clip: str) -> bool:
    """Whether ``clip`` names an architecture that builds without its weights (not a
    ``hf-hub:``/``local-dir:`` source, which only its weights' folder describes)."""
    return not clip.startswith(_SCHEMAS)


def _example_tag(open_clip: Any, name: str) -> str | None:
    """A pretrained tag of ``name`` to name in the how-to: OpenAI's (the TimesCLIP paper's
    weights) where open_clip has it, else the first it knows; None where it knows none."""
    tags = list(open_clip.list_pretrained_tags_by_model(name))
    return "openai" if "openai" in tags else tags[0] if tags else None


def _how_to_provide(name: str, weights: str | None, field: str) -> str:
    if weights is None:  # no pretrained weights in open_clip for this architecture
        return (
            f"open_clip has no pretrained weights for {name}: pass {field}_weights=<a "
            f"checkpoint file of {name}'s state dict>, or model.pretrained=false for random "
            "weights."
        )
    return (
        f"To provide them, run once on a machine with internet access\n"
        f"    python -c \"import open_clip; m = open_clip.create_model('{name}', "
        f"pretrained='{weights}'); import torch; torch.save(m.state_dict(), 'clip.pt')\"\n"
        f"and pass {field}_weights=/path/to/clip.pt (or copy that machine's Hugging Face "
        f"cache, ~/.cache/huggingface, to this one and set HF_HUB_OFFLINE=1). "
        f"model.pretrained=false builds the same "
        f"architecture with random weights."
    )


def check_clip(
    clip: str,
    weights: str | None,
    pretrained: bool,
    image_size: int | None = None,
    field: str = "model.clip",
) -> tuple[str, str | None, str]:
    """Refuse a CLIP that cannot be built as asked, before anything is built; else its open_clip
    name, what ``open_clip.create_model(pretrained=)`` takes and a description of the weights.
    ``field`` is the setting errors name (its weights are ``<field>_weights``). A random
    build with a recorded architecture (a save's) checks that copy, not ``clip``'s source."""
    recorded = recorded_architecture(setting_of(field))
    if recorded is not None and not pretrained:
        check_recorded(recorded, field)
        if image_size is not None:
            check_image_size(image_size, config_patch(recorded), clip)
        return clip, None, "random"
    open_clip = _open_clip()
    name = resolve_architecture(clip, field)
    if image_size is not None:  # before any weights load: resizing them fails below one patch
        check_image_size(image_size, config_patch(open_clip.get_model_config(name)), name)
    if not pretrained:
        if name.startswith(_SCHEMAS):
            raise InputError(
                f"model.pretrained=false builds an architecture with random weights, and "
                f"{field}='{name}' names only where weights are: give {field} an open_clip "
                "architecture (e.g. ViT-B-16), or model.pretrained=true"
            )
        return name, None, "random"
    if name.startswith(_SCHEMAS):
        return name, None, name  # a hf-hub:/local-dir: name carries its own weights
    if weights is None:
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise InputError(
            f"model.pretrained=true needs {field}_weights for CLIP {name}: a pretrained tag "
            f"({', '.join(tags) or 'none known for this architecture'}) or a checkpoint file; "
            "or set model.pretrained=false for random weights"
        )
    if open_clip.get_pretrained_cfg(name, weights):
        return name, weights, f"{name} '{weights}'"
    refuse_url(weights, f"{field}_weights", "weights")
    path = Path(weights).expanduser()
    if path.is_file():
        return name, str(path), str(path)
    if _looks_like_path(weights):
        raise MissingFileError(
            f"{field}_weights: no checkpoint file at {path.resolve()}. "
            + _how_to_provide(name, _example_tag(open_clip, name), field)
        )
    tags = open_clip.list_pretrained_tags_by_model(name)
    raise InputError(
        f"{field}_weights='{weights}' is neither a pretrained tag of CLIP {name} "
        f"(known: {', '.join(tags) or 'none'}) nor an existing checkpoint file"
    )


def create_clip(
    clip: str,
    weights: str | None,
    pretrained: bool,
    image_size: int | None = None,
    field: str = "model.clip",
) -> nn.Module:
    """An open_clip model: ``weights`` is a pretrained tag of ``clip`` or a checkpoint file.

    ``pretrained=False`` builds the architecture randomly initialised and never touches the
    network. ``image_size`` resizes the vision tower's input (open_clip interpolates the
    pretrained position embeddings). ``field``: the setting errors name.

    The model's ``architecture`` is the config it was built from. Inside
    :func:`~tsfm.models.common.restoring_saved_weights`, a recorded architecture is built
    randomly from its copy; weights read from ``clip``'s source must fit that copy.
    """
    open_clip = _open_clip()
    name, tag_or_file, source = check_clip(clip, weights, pretrained, image_size, field)
    device = torch.empty(0).device  # honours a `with torch.device(...)` block (e.g. meta)
    kwargs: dict[str, Any] = {"device": device, "force_image_size": image_size}
    recorded = recorded_architecture(setting_of(field))
    if recorded is not None and not pretrained:
        model = create_recorded(recorded, field, **kwargs)
        model.architecture = recorded
        return model
    if not pretrained:
        architecture = source_config(name)  # a name or a JSON file: read here
        refuse_text_tower_code(architecture, field)
        quiet = DropMessages(RANDOM_WEIGHTS_NOTES)  # random weights were asked for
        logging.getLogger().addFilter(quiet)
        try:
            with no_code_prompts(f"the text tower of {field}={clip!r}"):
                model = open_clip.create_model(
                    name, pretrained=None, pretrained_text=False, pretrained_image=False, **kwargs
                )
        finally:
            logging.getLogger().removeFilter(quiet)
        model.architecture = architecture
        return model
    downloads = name.startswith("hf-hub:") or not Path(str(tag_or_file)).is_file()
    with hub_access() if downloads else contextlib.nullcontext() as unreachable:
        architecture = source_config(name)  # a hf-hub: CLIP's is downloaded
        refuse_text_tower_code(architecture, field)
        if recorded is not None:  # weights from the source, into the saved model's architecture
            if architecture is None and unreachable:
                raise RuntimeError(
                    f"could not read the architecture of CLIP {source} to check it against "
                    f"the one this model was saved with: {unreachable_note(unreachable)}"
                )
            check_same_clip(recorded, architecture, field, clip, restoring_to_train())
        try:
            with no_code_prompts(f"the text tower of {field}={clip!r}"):
                model = open_clip.create_model(name, pretrained=tag_or_file, **kwargs)
        except InputError:  # transformers refused a text tower's own code, in tsfm's words
            raise
        except Exception as error:
            refused = pickle_refusal(error)  # weights-only loading met more than tensors
            if refused is not None:
                raise InputError(unsafe_clip_message(name, tag_or_file, field, refused)) from None
            if not downloads:  # a checkpoint file that is there: not missing, not this CLIP
                mismatch = mismatch_message(
                    open_clip, clip, name, str(tag_or_file), image_size, field
                )
                if mismatch is not None:
                    raise InputError(mismatch) from None
                raise RuntimeError(f"could not load the CLIP weights {source}: {error}") from error
            why = unreachable_note(unreachable) if unreachable else error
            raise RuntimeError(
                f"could not load the CLIP weights {source}: {why}\n"
                + _how_to_provide(name, weights, field)
            ) from error
    model.architecture = architecture
    return model


def unsafe_clip_message(name: str, weights: str | None, field: str, error: BaseException) -> str:
    """The refusal of CLIP weights that are a pickle of more than tensors (``error``: the
    weights-only refusal), and how to re-save them as plain tensors."""
    schema, _, where = name.partition(":")
    if schema == "local-dir":
        return not_tensors_message(
            f"the weights of CLIP {name}", error, f"{where}/open_clip_model.safetensors",
            "remove the pickled file from that folder",
        )  # fmt: skip
    value = f"{'open_clip:' if field == 'model.vision' else ''}local-dir:DIR"
    if schema == "hf-hub":
        return not_tensors_message(
            f"the weights of CLIP {name}", error, "DIR/open_clip_model.safetensors",
            f"copy that repository's open_clip_config.json into DIR and pass {field}={value}",
        )  # fmt: skip
    return not_tensors_message(
        f"{field}_weights={weights}", error, "clip.safetensors",
        f"pass {field}_weights=/path/to/clip.safetensors",
    )  # fmt: skip


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith((".pt", ".pth", ".bin", ".safetensors"))


def clip_embed_dim(clip_model: nn.Module) -> int:
    visual = clip_model.visual
    for attr in ("output_dim", "embed_dim"):
        if isinstance(getattr(visual, attr, None), int):
            return getattr(visual, attr)
    raise InputError(f"cannot tell the output width of {type(visual).__name__}")
