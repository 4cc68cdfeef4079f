"""Why a CLIP checkpoint file that is there does not load into the architecture ``model.clip``
names: its tensors are compared, by name and shape, with those of that architecture (built on
the meta device: no memory, no weights), and the message names the first tensor that differs
or the groups of tensors missing or extra, and the architecture the checkpoint fits, where it
is one tsfm knows. Read only after open_clip failed to load the file.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from tsfm.models.own_code import no_code_prompts
from tsfm.models.timesclip.clip_architectures import RANDOM_WEIGHTS_NOTES, DropMessages

# Architectures a checkpoint is tried against to name the one it fits.
KNOWN = ("tsfm-tiny-clip", "tsfm-small-clip", "ViT-B-16", "ViT-B-32")
Shapes = dict[str, tuple[int, ...]]


def architecture_shapes(open_clip: Any, name: str, image_size: int | None) -> Shapes:
    """The tensor shapes of CLIP ``name`` (built on the meta device: nothing allocated)."""
    quiet = DropMessages(RANDOM_WEIGHTS_NOTES)
    logging.getLogger().addFilter(quiet)
    try:
        with torch.device("meta"), no_code_prompts(f"the text tower of CLIP {name}"):
            model = open_clip.create_model(
                name, pretrained=None, device="meta", force_image_size=image_size
            )
    finally:
        logging.getLogger().removeFilter(quiet)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def _resized(key: str, saved: tuple[int, ...], built: tuple[int, ...]) -> bool:
    """Whether open_clip resizes ``key`` on loading: a position table of another length."""
    return key.endswith("positional_embedding") and saved[1:] == built[1:]


def differences(saved: Shapes, built: Shapes) -> tuple[list[str], list[str], list[str]]:
    """The tensors of ``built`` missing from ``saved``, those of ``saved`` not in ``built``,
    and those in both of other shapes."""
    missing = [key for key in built if key not in saved]
    unexpected = [key for key in saved if key not in built]
    shapes = [
        key
        for key in built
        if key in saved and saved[key] != built[key] and not _resized(key, saved[key], built[key])
    ]
    return missing, unexpected, shapes


def _groups(keys: list[str]) -> str:
    """Tensor names in brief: the vision tower's count, and the other towers' prefixes."""
    vision = [key for key in keys if key.startswith("visual.")]
    other = [key for key in keys if not key.startswith("visual.")]
    parts = [f"the vision tower ({len(vision)} tensors, visual.*)"] if vision else []
    if other:
        prefixes = sorted({key.split(".")[0] for key in other})
        shown = ", ".join(prefixes[:5]) + (", ..." if len(prefixes) > 5 else "")
        parts.append(f"{len(other)} tensors of the text tower and heads ({shown})")
    return " and ".join(parts)


def _saved_shapes(path: str) -> Shapes:
    from open_clip.factory import load_state_dict  # how open_clip reads the file

    state = load_state_dict(path, device="cpu", weights_only=True)
    return {key: tuple(value.shape) for key, value in state.items() if hasattr(value, "shape")}


def _fits(open_clip: Any, saved: Shapes, name: str, image_size: int | None) -> bool:
    try:
        return not any(differences(saved, architecture_shapes(open_clip, name, image_size)))
    except Exception:  # an architecture this open_clip cannot build: not that one
        return False


def mismatch_message(
    open_clip: Any, clip: str, name: str, path: str, image_size: int | None, field: str
) -> str | None:
    """Why the checkpoint file ``path`` does not fit CLIP ``name`` (``field``'s value
    ``clip``), and what to set; None when its tensors fit (the failure is something else)."""
    try:
        saved = _saved_shapes(path)
        built = architecture_shapes(open_clip, name, image_size)
    except Exception:  # unreadable here too: open_clip's own error stands
        return None
    missing, unexpected, shapes = differences(saved, built)
    if not (missing or unexpected or shapes):
        return None
    problems = []
    if shapes:
        key = shapes[0]
        more = f" (and {len(shapes) - 1} more tensors)" if len(shapes) > 1 else ""
        problems.append(
            f"{key} is {list(saved[key])} in the checkpoint but {list(built[key])} in {name}{more}"
        )
    if missing:
        problems.append(f"it lacks {_groups(missing)}")
    if unexpected:
        problems.append(f"it has tensors {name} has not: {_groups(unexpected)}")
    head = f"{field}_weights={path} does not match {field}={clip!r}: the file holds"
    if missing and not (shapes or unexpected):
        return (
            f"{head} only part of {name} ({'; '.join(problems)}): {field}_weights takes a "
            f"whole CLIP of that architecture, both towers (what torch.save(model.state_dict()) "
            "of the open_clip model writes)"
        )
    fits = [
        other for other in KNOWN if other != name and _fits(open_clip, saved, other, image_size)
    ]
    fix = (
        f"It is a {fits[0]} checkpoint: set {field}={fits[0]!r}"
        if fits
        else f"Set {field} to the architecture the checkpoint was saved from (its open_clip "
        "name or JSON config)"
    )
    return (
        f"{head} another architecture ({'; '.join(problems)}). {fix}, or give "
        f"{field}_weights a checkpoint of {name}"
    )
