"""TimesCLIP's settings that name where its pretrained parts are (``clip``, ``clip_weights``,
``vision``, ``vision_weights``), as ``Forecaster.load`` and ``from_run`` take them for a
source that moved: each new value is checked before it replaces the saved one. An
architecture is compared with the copy the save recorded (``backbone_architectures``); a
weights file must exist (its weights are read by a refit, not by the load).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from tsfm.errors import InputError, MissingFileError
from tsfm.models.hub_access import hub_access
from tsfm.models.timesclip.clip_architectures import check_same_clip, source_config
from tsfm.models.timesclip.clip_backbones import _looks_like_path, resolve_architecture


def check_moved_clip(value: str, saved: Any, recorded: dict[str, dict]) -> None:
    """``clip=value``: an architecture the same as the one recorded for the saved model."""
    name = resolve_architecture(value, "clip")
    if "clip" in recorded:
        check_same_clip(recorded["clip"], _config_now(name), "clip", value)


def check_moved_vision(value: str, saved: Any, recorded: dict[str, dict]) -> None:
    """``vision=value``: the saved tower's kind (the CLIP's own, ``open_clip:``, ``timm:``)
    and, for an ``open_clip:`` tower, the architecture recorded for it."""
    kind, saved_kind = value.partition(":")[0], str(saved).partition(":")[0]
    if kind != saved_kind or kind not in ("clip", "open_clip", "timm"):
        raise InputError(
            f"vision='{value}' is not a new place of the saved model's vision tower "
            f"(vision='{saved}'): give the same kind of tower (for a moved open_clip JSON "
            "config, open_clip:/new/path.json), or leave vision out"
        )
    if kind == "timm" and value != saved:
        raise InputError(
            f"vision='{value}' names another timm model than the saved one ('{saved}'); a timm "
            "tower is found by its name, which cannot move: leave vision out"
        )
    if kind == "open_clip":
        name = resolve_architecture(value.partition(":")[2], "vision")
        if "vision" in recorded:
            check_same_clip(recorded["vision"], _config_now(name), "vision", value)


def _config_now(name: str) -> dict | None:
    """The architecture config of ``name`` read now; a ``hf-hub:`` one is downloaded only if
    the Hub answers (else from the local cache)."""
    with hub_access() if name.startswith("hf-hub:") else contextlib.nullcontext():
        return source_config(name)


def check_weights(setting: str):
    """The check of ``<setting>=value``: a pretrained tag, or an existing checkpoint file."""

    def check(value: str, saved: Any, recorded: dict[str, dict]) -> None:
        if _looks_like_path(value) and not Path(value).expanduser().is_file():
            raise MissingFileError(
                f"{setting}: no checkpoint file at {Path(value).expanduser().resolve()}; give "
                "the path of the CLIP checkpoint where it is now"
            )

    return check


CLIP_SOURCES = {
    "clip": check_moved_clip,
    "clip_weights": check_weights("clip_weights"),
    "vision": check_moved_vision,
    "vision_weights": check_weights("vision_weights"),
}
