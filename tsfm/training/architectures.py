"""The architecture configs a trained module's pretrained parts were built from (its model's
``backbone_architectures``: S2IP-LLM's language-model config, TimesCLIP's open_clip configs),
which every save and checkpoint records as plain JSON, and their checks when read back: a
load builds those parts from the recorded copies (``restoring_saved_weights``), and weights
read from a source must fit them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from torch import nn

from tsfm.errors import InputError
from tsfm.models.common import architecture_differences

CHECKPOINT_KEY = "architectures"  # where a Lightning checkpoint of tsfm keeps them


def architectures_of(module: nn.Module) -> dict[str, dict[str, Any]]:
    """A copy of the architecture configs recorded by the model of ``module`` (a
    :class:`~tsfm.training.module.ForecastingModule`), keyed by the setting naming each
    part's source (``backbone``, ``clip``, ``vision``); empty for a model without any."""
    recorded = getattr(getattr(module, "model", None), "backbone_architectures", None) or {}
    return {key: copy.deepcopy(value) for key, value in recorded.items() if value is not None}


def checked_architectures(recorded: Any, where: str | Path) -> dict[str, dict[str, Any]]:
    """Recorded architecture configs as a save or checkpoint holds them: a mapping of setting
    names to plain configs (None: a file written before they were recorded)."""
    if recorded is None:
        return {}
    if not isinstance(recorded, dict) or not all(
        isinstance(key, str) and isinstance(value, dict) and _plain(value)
        for key, value in recorded.items()
    ):
        raise InputError(
            f"{where}: its recorded backbone architectures are not a mapping of setting names "
            "to plain configs; it is damaged or was not written by tsfm"
        )
    return recorded


def recorded_in(checkpoint: Any, path: str | Path) -> dict[str, dict[str, Any]]:
    """The architecture configs a checkpoint read with ``load_checkpoint`` records."""
    return checked_architectures(
        checkpoint.get(CHECKPOINT_KEY) if isinstance(checkpoint, dict) else None, path
    )


def architecture_changes(recorded: dict[str, dict], module: nn.Module) -> list[str]:
    """How the parts of ``module`` (just built) differ from the architectures ``recorded``
    with its weights, as ``"model.<setting>: <key>: saved -> now"``."""
    built = architectures_of(module)
    return [
        f"model.{setting}: {difference}"
        for setting in sorted(recorded.keys() & built.keys())
        for difference in architecture_differences(recorded[setting], built[setting])
    ]


def _plain(node: Any) -> bool:
    if isinstance(node, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in node.items())
    if isinstance(node, list | tuple):
        return all(_plain(v) for v in node)
    return node is None or isinstance(node, bool | int | float | str)
