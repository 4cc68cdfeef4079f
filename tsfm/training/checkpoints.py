"""The one way tsfm reads a checkpoint: a local file, loaded with ``weights_only=True``.

A pickle can run any code while it is read. ``torch.load(..., weights_only=True)`` only
rebuilds tensors and plain containers, whatever torch's default is (torch 2.4 and 2.5 default
to full unpickling) and whatever an environment variable says; Lightning, left alone, turns
``weights_only`` off for ``http...`` paths. So every checkpoint tsfm reads (``ckpt_path``,
``resume``, the best checkpoint before testing, a saved Forecaster's ``weights.pt`` and
``history.pt``) goes through :func:`load_checkpoint`, and Lightning's own loading goes
through :class:`SafeCheckpointIO`, which calls it. URLs are refused: download the file, look
at where it came from, and pass the local path.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from tsfm.models.common import restoring_saved_weights
from tsfm.training.module import ForecastingModule

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def local_checkpoint(path: str | Path, setting: str = "ckpt_path") -> Path:
    """``path`` as an existing local file; a URL or a missing file is refused naming ``setting``."""
    text = str(path)
    if _SCHEME.match(text):
        raise ValueError(
            f"{setting}={text!r} is a URL; tsfm reads checkpoints from local files only (a "
            "downloaded pickle can run code). Download it, check where it came from, and pass "
            f"{setting}=/path/to/file.ckpt"
        )
    local = Path(text).expanduser()
    if not local.is_file():
        raise FileNotFoundError(f"{setting}: no checkpoint file at {local.resolve()}")
    return local


def load_checkpoint(path: str | Path, map_location: Any = "cpu", setting: str = "ckpt_path") -> Any:
    """The content of a local checkpoint, read with ``weights_only=True`` (tensors, numbers,
    strings and containers of them; nothing else is built and no code runs)."""
    local = local_checkpoint(path, setting)
    try:
        return torch.load(local, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\.\s|\n\n|$)", str(err), re.S)
        reason = " ".join(found.group(1).split()) if found else type(err).__name__
        raise ValueError(
            f"{local} cannot be loaded as plain tensors ({reason}): it holds objects whose "
            "loading could run code, or it is not a checkpoint at all. tsfm loads checkpoints "
            "with weights_only=True only and refuses it; use one written by tsfm (or "
            "torch.save of a state_dict)"
        ) from None
    except (EOFError, RuntimeError, OSError, zipfile.BadZipFile, ValueError) as err:
        raise ValueError(
            f"{local} is not a readable torch checkpoint (empty, truncated or another kind of "
            f"file: {type(err).__name__}: {err}); write it again or pass another file"
        ) from None


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint reader, through :func:`load_checkpoint` (saving is unchanged)."""

    def load_checkpoint(
        self, path: Any, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_checkpoint(path, map_location if map_location is not None else "cpu")


def restore_module(path: str | Path, map_location: Any = "cpu") -> ForecastingModule:
    """The :class:`~tsfm.training.module.ForecastingModule` a Lightning checkpoint of tsfm
    holds (its hyperparameters are plain values, so it is rebuilt from the registry)."""
    return module_of(load_checkpoint(path, map_location), path)


def module_of(checkpoint: Any, path: str | Path) -> ForecastingModule:
    """The module of a checkpoint already read with :func:`load_checkpoint` (from ``path``)."""
    if not isinstance(checkpoint, dict) or not {"hyper_parameters", "state_dict"} <= set(
        checkpoint
    ):
        raise ValueError(f"{path} is not a checkpoint of a tsfm run (no hyperparameters)")
    with restoring_saved_weights():  # the state dict holds every weight: no pretrained source read
        module = ForecastingModule(**checkpoint["hyper_parameters"])
    module.load_state_dict(checkpoint["state_dict"])
    return module
