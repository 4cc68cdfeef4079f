"""What tsfm reads from files: local paths only, and pickles only as plain tensors.

Nothing tsfm reads (checkpoints, configs, saved models, data) may run code or reach the
network. A path that is a URL (``scheme://...``) is refused before anything is requested
(:func:`refuse_url`): download the file, look at where it came from, and pass the local
path. A pickle is read with ``weights_only=True`` (by tsfm, open_clip and timm alike), which
refuses the objects whose loading could run code; :func:`pickle_refusal` finds that refusal
under a library's own error and :func:`blocked_globals` names what was refused, for messages
that say which file holds more than tensors and how to re-save it as plain tensors.

This module imports nothing of tsfm but its errors, so every layer may use it.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

from tsfm.errors import InputError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

# What torch's weights-only unpickler refused, as its messages (and timm's) name it.
_BLOCKED = (
    re.compile(r"GLOBAL (\S+) was not an allowed global"),  # torch >= 2.4: not allowlisted
    re.compile(r"unsupported GLOBAL (\S+) whose module \S+ is blocked"),  # torch 2.14: os, posix...
    re.compile(r"Unsupported globals: (.+?)\.(?:\s|$)"),  # timm's wording (it lists them all)
    re.compile(r"WeightsUnpickler error:\s*(.+?)(?:\.\s|\n\n|$)", re.S),  # any other refusal
)


def is_url(value: object) -> bool:
    """Whether ``value`` is a URL (``https://``, ``s3://``, ``file://``...) rather than a path."""
    return isinstance(value, str) and URL.match(value) is not None


def refuse_url(value: object, setting: str, what: str = "data files") -> None:
    """Refuse ``setting=value`` when it is a URL: tsfm reads ``what`` from local files only,
    and makes no request."""
    if is_url(value):
        name = Path(str(value).split("?", 1)[0].rstrip("/")).name or "file"
        raise InputError(
            f"{setting}={value!r} is a URL; tsfm reads {what} from local paths only and "
            "requests nothing from the network. Download it first, check where it came from, "
            f"and pass {setting}=/path/to/{name}"
        )


def local_path(value: str | Path, setting: str, what: str = "data files") -> Path:
    """``value`` as a local path (``~`` expanded); a URL is refused naming ``setting``."""
    refuse_url(str(value), setting, what)
    return Path(value).expanduser()


def pickle_refusal(error: BaseException | None) -> pickle.UnpicklingError | None:
    """The weights-only unpickler's refusal behind ``error`` (itself, or the error a library
    such as timm or open_clip raised from it), else None."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, pickle.UnpicklingError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def blocked_globals(error: BaseException | str) -> str | None:
    """What a weights-only load refused, as torch (or timm) names it: the global it would
    have had to import (``posix.system``, ``io.open``, a class), or the operation it could
    not read; None where the message names nothing."""
    text = str(error)
    for pattern in _BLOCKED:
        found = pattern.search(text)
        if found:
            return " ".join(found.group(1).split())
    return None


def refusal_reason(error: BaseException) -> str:
    """A weights-only refusal in a few words: ``it refers to posix.system`` (the globals it
    would have had to import), else torch's own words, else the error's type."""
    blocked = blocked_globals(error)
    if blocked is None:
        return type(error).__name__
    if re.fullmatch(r"[\w.]+(, [\w.]+)*", blocked):
        return f"it refers to {blocked}"
    return blocked


def not_tensors_message(what: str, error: BaseException, save_as: str, then: str) -> str:
    """The refusal of weights ``what`` that weights-only loading refused (``error``), and how
    to re-save them as plain tensors (to ``save_as``, then ``then``)."""
    return (
        f"{what} not loaded: a pickle that holds more than plain tensors "
        f"({refusal_reason(error)}); tsfm loads weights only and never runs code from files. "
        "If you trust the file, convert it once yourself: load it with torch.load(PATH, "
        "weights_only=False), keep its tensors (its state_dict, where it holds a whole model) "
        f"and save them with safetensors.torch.save_file(tensors, '{save_as}'), then {then}"
    )
