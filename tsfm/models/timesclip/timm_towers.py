"""timm vision towers for TimesCLIP (``model.vision=timm:<model name>``).

What timm's registry tells without building a model is checked first (:func:`check_timm_tower`):
the name, the weights file and the image size against the patch size. A built tower then
encodes one blank image (:func:`check_encodes`), because some architectures (LeViT, CoAtNet,
MaxViT, EfficientFormer, a CNN given too small an image) take only some image sizes and say so
nowhere but in their forward pass.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tsfm.errors import InputError, MissingFileError
from tsfm.local_files import not_tensors_message, pickle_refusal, refuse_url
from tsfm.models.hub_access import hub_access, unreachable_note
from tsfm.models.timesclip.layers import check_image_size

HUB_SCHEMAS = ("hf-hub:", "local-dir:")  # read from files: nothing to check before loading them
_NAME_PATCH = re.compile(r"(?:patch|_p)(\d+)(?:_|$)")  # vit_base_patch16_224, xcit_tiny_12_p16


def timm_patch_size(name: str) -> int | None:
    """The patch size timm builds ``name`` with, read without building it: the ``patch_size``
    its registered entrypoint passes (``test_vit``: 16), else the one its name gives
    (``vit_base_patch16_224``, ``xcit_tiny_12_p16_224``); None when neither says (CNNs,
    hybrids, hub names): the built tower is checked then."""
    import timm

    if name.startswith(HUB_SCHEMAS) or not timm.is_model(name):
        return None
    arch = timm.models.get_arch_name(name)
    patch = _entrypoint_patch(timm.models.model_entrypoint(arch))
    if patch is None and (match := _NAME_PATCH.search(arch)):
        patch = int(match.group(1))
    return patch


def _entrypoint_patch(entrypoint: Callable) -> int | None:
    """The one whole-number ``patch_size=`` an entrypoint's source passes, else None."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(entrypoint)))
    except (OSError, TypeError, SyntaxError):
        return None
    values = [
        node.value.value if isinstance(node.value, ast.Constant) else None
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "patch_size"
    ]
    if len(set(values)) != 1 or type(values[0]) is not int:
        return None  # none, several or computed (CrossViT's two patch sizes)
    return values[0]


def check_timm_tower(name: str, weights: str | None, pretrained: bool, image_size: int) -> None:
    """Refuse ``model.vision=timm:<name>`` settings that cannot work, before anything is built:
    a name timm does not know, a missing weights file, an image size the patches do not tile."""
    import timm

    if name.startswith(HUB_SCHEMAS):
        return
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=3, cutoff=0.6)
        hint = f" (close: {', '.join(close)})" if close else ""
        raise InputError(
            f"model.vision='timm:{name}': timm has no model '{name}'{hint}. "
            "timm.list_models('vit_*') lists the names, e.g. timm:vit_base_patch16_224"
        )
    if pretrained and weights is not None:
        refuse_url(weights, "model.vision_weights", "weights")
    if pretrained and weights is not None and not Path(weights).expanduser().is_file():
        raise MissingFileError(
            f"model.vision_weights: no checkpoint file at {Path(weights).expanduser().resolve()}"
            f". Give the path of a saved state dict of timm:{name} (.safetensors/.pth), null "
            "for timm's own pretrained weights (Hugging Face cache or download; a pretrained "
            f"tag goes in the name: timm:{timm.models.get_arch_name(name)}.<tag>), or "
            "model.pretrained=false for random weights"
        )
    check_image_size(image_size, timm_patch_size(name), f"timm:{name}")


def create_timm_encoder(
    name: str, weights: str | None, pretrained: bool, image_size: int
) -> nn.Module:
    """timm model ``name`` without its classifier, for ``image_size`` square images."""
    import timm

    check_timm_tower(name, weights, pretrained, image_size)
    kwargs: dict[str, Any] = {"num_classes": 0, "pretrained": pretrained}
    if pretrained and weights is not None:
        kwargs["pretrained_cfg_overlay"] = {"file": str(Path(weights).expanduser())}
    downloads = pretrained and weights is None  # timm's own weights: the Hub or its cache
    with hub_access() if downloads else contextlib.nullcontext() as unreachable:
        try:
            return _create(timm, name, image_size, kwargs)
        except Exception as error:
            refused = pickle_refusal(error)  # weights-only loading met more than tensors
            if refused is not None:
                raise InputError(unsafe_timm_message(name, weights, refused)) from None
            if not pretrained or isinstance(error, (ValueError, TypeError)):
                raise
            fix = (
                f"Check that {weights} holds timm:{name}'s weights (a state dict saved from "
                f"timm.create_model('{name}')), or set model.vision_weights to such a file"
                if weights is not None
                else "Give a local file with model.vision_weights=/path/to/weights "
                "(.safetensors/.pth)"
            )
            why = unreachable_note(unreachable) if unreachable else error
            raise RuntimeError(
                f"could not load timm weights for {name}: {why}\n{fix}, or "
                "model.pretrained=false for random weights."
            ) from error


def unsafe_timm_message(name: str, weights: str | None, error: BaseException) -> str:
    """The refusal of timm weights that are a pickle of more than tensors (``error``: the
    weights-only refusal), and how to re-save them as plain tensors."""
    if weights is None and name.startswith("local-dir:"):
        folder = name.removeprefix("local-dir:")
        return not_tensors_message(
            f"the weights of timm:{name}", error, f"{folder}/model.safetensors",
            "remove the pickled file from that folder",
        )  # fmt: skip
    what = f"model.vision_weights={weights}" if weights else f"the weights of timm:{name}"
    return not_tensors_message(
        what, error, "vision.safetensors",
        "pass model.vision_weights=/path/to/vision.safetensors",
    )  # fmt: skip


def _create(timm: Any, name: str, image_size: int, kwargs: dict[str, Any]) -> nn.Module:
    try:
        return timm.create_model(name, img_size=image_size, **kwargs)
    except TypeError as error:  # models without a configurable input size (CNNs)
        if "img_size" not in str(error):
            raise
        return timm.create_model(name, **kwargs)


def check_encodes(encoder: nn.Module, name: str, image_size: int) -> None:
    """One blank image through the built timm model, in eval mode (no batch-norm statistics
    move): the only check of the sizes that windowed or fixed-grid attention takes."""
    parameter = next(encoder.parameters(), None)
    if parameter is not None and parameter.is_meta:
        return  # shapes only (a meta-device build): nothing can run
    device = parameter.device if parameter is not None else None
    dtype = parameter.dtype if parameter is not None else None
    modes = {module: module.training for module in encoder.modules()}
    encoder.eval()
    try:
        with torch.no_grad():
            encoder(torch.zeros(1, 3, image_size, image_size, device=device, dtype=dtype))
    except Exception as error:
        native = (getattr(encoder, "pretrained_cfg", None) or {}).get("input_size", (0,))[-1]
        made_for = f" (it was made for {native} x {native} images)" if native else ""
        raise InputError(
            f"the vision tower timm:{name} cannot encode image_size={image_size} images"
            f"{made_for}: {type(error).__name__}: {error}. Set model.image_size to a size this "
            "architecture takes (e.g. its pretrained size), or choose another tower "
            "(e.g. timm:vit_base_patch16_224, which takes any multiple of 16)"
        ) from error
    finally:
        for module, training in modes.items():
            module.training = training
