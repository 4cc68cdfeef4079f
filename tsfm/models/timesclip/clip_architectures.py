"""A CLIP's architecture config (open_clip's model config: ``embed_dim``, ``vision_cfg``,
``text_cfg``) as plain JSON: what a built TimesCLIP records of each CLIP it was built from
(its ``backbone_architectures``), what saves and checkpoints keep, and a CLIP built from such
a record, without reading the architecture's source (a JSON file that may have changed or
gone since, an ``hf-hub:``/``local-dir:`` source).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from tsfm.errors import InputError
from tsfm.models.common import architecture_differences
from tsfm.models.own_code import no_code_prompts, refuse_own_code
from tsfm.models.timesclip.timm_towers import timm_patch_size

# open_clip's log lines when a CLIP is built with random weights on purpose.
RANDOM_WEIGHTS_NOTES = ("No pretrained weights loaded", "Local config loaded, but no CLIP weights")


def setting_of(field: str) -> str:
    """The model setting a CLIP's field names (``model.clip`` -> ``clip``): the key its
    architecture is recorded under."""
    return field.removeprefix("model.")


def source_config(name: str) -> dict[str, Any] | None:
    """The architecture config open_clip builds ``name`` (a resolved architecture name, or a
    ``hf-hub:``/``local-dir:`` source) from, read now; None where it cannot be read."""
    import open_clip

    try:
        config = open_clip.get_model_config(name)
    except Exception:  # an unreachable hub or an unreadable folder: nothing is recorded
        return None
    return copy.deepcopy(config) if isinstance(config, dict) else None


def check_recorded(config: Any, field: str) -> dict[str, Any]:
    """A recorded architecture config, refused unless it has the parts open_clip builds."""
    parts = ("vision_cfg", "text_cfg")
    if not (
        isinstance(config, dict)
        and isinstance(config.get("embed_dim"), int)
        and all(isinstance(config.get(part), dict) for part in parts)
    ):
        raise InputError(
            f"the architecture recorded for {field} is not an open_clip model config (it "
            "needs 'embed_dim', 'vision_cfg' and 'text_cfg'): the save is damaged or was not "
            "written by tsfm"
        )
    return config


def config_patch(config: Mapping[str, Any] | None) -> int | None:
    """The vision tower's patch size from an architecture config (None for a CNN, or no
    config): its own, or that of the timm model it names."""
    vision_cfg = (config or {}).get("vision_cfg", {})
    if vision_cfg.get("patch_size") is None and vision_cfg.get("timm_model_name"):
        return timm_patch_size(vision_cfg["timm_model_name"])
    return vision_cfg.get("patch_size")


def refuse_text_tower_code(config: Mapping[str, Any] | None, field: str) -> None:
    """Refuse a CLIP whose architecture ``config`` has a Hugging Face text tower
    (``text_cfg.hf_model_name``: a folder or a Hub id, which open_clip hands to transformers,
    with no way to tell it to refuse code) that asks to run code of its own. A Hub id's
    config is read from the local cache, or fetched first unless offline."""
    text_cfg = (config or {}).get("text_cfg")
    source = text_cfg.get("hf_model_name") if isinstance(text_cfg, Mapping) else None
    if isinstance(source, str) and source:
        refuse_own_code(source, f"{field}'s text tower, text_cfg.hf_model_name", download=True)


def create_recorded(config: dict[str, Any], field: str = "model.clip", **kwargs: Any) -> nn.Module:
    """A randomly initialised CLIP of the recorded architecture ``config`` (``kwargs``: those
    of ``open_clip.create_model``, e.g. ``force_image_size``); no source is read but a
    Hugging Face text tower's config, checked first (:func:`refuse_text_tower_code`)."""
    import open_clip

    refuse_text_tower_code(config, field)
    quiet = DropMessages(RANDOM_WEIGHTS_NOTES)  # random weights were asked for
    logging.getLogger().addFilter(quiet)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="tsfm-clip-") as folder,
            no_code_prompts(f"{field}'s text tower"),
        ):
            (Path(folder) / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
            return open_clip.create_model(
                f"local-dir:{folder}",
                load_weights=False,
                pretrained_image=False,
                pretrained_text=False,
                **kwargs,
            )
    finally:
        logging.getLogger().removeFilter(quiet)


def check_same_clip(
    recorded: dict[str, Any],
    now: dict[str, Any] | None,
    field: str,
    clip: str,
    to_train: bool = False,
):
    """Refuse ``clip`` (the setting ``field``) when the architecture it describes now is not
    the one recorded for it when the model was saved. ``to_train``: its weights are read
    into the recorded architecture to train further (a warm fit's frozen vision tower)."""
    if now is None:
        raise InputError(
            f"{field}='{clip}': cannot read its architecture to check it against the one this "
            "model was saved with; give an open_clip architecture name or JSON config"
        )
    differences = architecture_differences(recorded, now)
    if not differences:
        return
    fix = (
        "A warm fit (warm_start=True) reads its frozen vision tower's weights from there into "
        "the fitted architecture: put the config it was fitted with back at that path (a warm "
        f"fit keeps the fitted settings; Forecaster.load takes {setting_of(field)}= naming a "
        "copy), or fit a fresh model (warm_start=False). predict and evaluate need no vision "
        "tower"
        if to_train
        else f"Point {field} at a copy of the config it was trained with, or leave it out: the "
        "model loads with its saved architecture and weights"
    )
    raise InputError(
        f"{field}='{clip}' is not the CLIP architecture this model was saved with: its "
        f"config differs (saved -> now: {'; '.join(differences[:4])}). {fix}"
    )


class DropMessages(logging.Filter):
    """A logging filter that drops the records whose message starts with one of ``prefixes``."""

    def __init__(self, prefixes: tuple[str, ...]):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)
