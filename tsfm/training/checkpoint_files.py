"""The one way tsfm reads a checkpoint: a local file, loaded with ``weights_only=True``.

A pickle can run any code while it is read. ``torch.load(..., weights_only=True)`` only
rebuilds tensors and plain containers, whatever torch's default is (torch 2.4 and 2.5 default
to full unpickling) and whatever an environment variable says. Every checkpoint tsfm reads
(``ckpt_path``, ``resume``, the best checkpoint before testing, a saved Forecaster's
``weights.pt`` and ``history.pt``) goes through :func:`load_checkpoint`, and Lightning's own
loading through :class:`~tsfm.training.checkpoints.SafeCheckpointIO`, which calls it. URLs
are refused: download the file, look at where it came from, and pass the local path. This
module needs torch only, so that loading a saved Forecaster does not import Lightning.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from tsfm.errors import InputError
from tsfm.local_files import is_url, refusal_reason


def local_checkpoint(path: str | Path, setting: str = "ckpt_path") -> Path:
    """``path`` as an existing local file; a URL or a missing file is refused naming ``setting``."""
    text = str(path)
    if is_url(text):
        raise InputError(
            f"{setting}={text!r} is a URL; tsfm reads checkpoints from local files only (a "
            "downloaded pickle can run code). Download it, check where it came from, and pass "
            f"{setting}=/path/to/file.ckpt"
        )
    local = Path(text).expanduser()
    if not local.is_file():
        raise FileNotFoundError(f"{setting}: no checkpoint file at {local.resolve()}")
    return local


def load_checkpoint(
    path: str | Path, map_location: Any = "cpu", setting: str = "ckpt_path", mmap: bool = False
) -> Any:
    """The content of a local checkpoint, read with ``weights_only=True`` (tensors, numbers,
    strings and containers of them; nothing else is built and no code runs); ``mmap`` maps
    the tensors instead of reading them (for looking at shapes)."""
    local = local_checkpoint(path, setting)
    try:
        mmap = mmap and zipfile.is_zipfile(local)  # torch maps only its zip format
        return torch.load(local, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        raise InputError(
            f"{local} cannot be loaded as plain tensors ({refusal_reason(err)}): it holds "
            "objects whose loading could run code, or it is not a checkpoint at all. tsfm "
            "loads checkpoints with weights_only=True only and refuses it; use one written by "
            "tsfm (or torch.save of a state_dict)"
        ) from None
    except MemoryError:
        raise
    except Exception as err:  # torch's unpickler raises IndexError, KeyError... on garbage
        raise InputError(
            f"{local} is not a readable torch checkpoint (empty, truncated or another kind of "
            f"file: {type(err).__name__}: {err}); write it again or pass another file"
        ) from None
