"""timm vision towers for TimesCLIP (``model.vision=timm:<model name>``).

What timm's registry tells without building a model is checked first (:func:`check_timm_tower`):
the name, the weights file and the image size against the patch size.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

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
        raise ValueError(
            f"model.vision='timm:{name}': timm has no model '{name}'{hint}. "
            "timm.list_models('vit_*') lists the names, e.g. timm:vit_base_patch16_224"
        )
    if pretrained and weights is not None and not Path(weights).expanduser().is_file():
        raise FileNotFoundError(
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
    try:
        try:
            encoder = timm.create_model(name, img_size=image_size, **kwargs)
        except TypeError:  # models without a configurable input size (CNNs)
            encoder = timm.create_model(name, **kwargs)
    except Exception as error:
        if not pretrained or isinstance(error, (ValueError, TypeError)):
            raise
        raise RuntimeError(
            f"could not load timm weights for {name}: {error}\nGive a local file with "
            "model.vision_weights=/path/to/weights (.safetensors/.pth), or "
            "model.pretrained=false for random weights."
        ) from error
    return encoder
