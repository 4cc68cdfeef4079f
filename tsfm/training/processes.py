"""Whether a trainer section would start more than one process, read as Lightning reads
``trainer.devices``, ``trainer.strategy`` and ``trainer.num_nodes`` (without importing it).

Under DDP, Lightning starts the further processes by running the command that is running
again: the user's script for a ``Forecaster`` (which then fits once more in each), the tuning
command for ``python -m tsfm.tune`` (each process one more worker of the study). Both train
in one process and refuse what :func:`multi_process` names, before anything is trained.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MULTI_PROCESS_STRATEGIES = ("ddp", "fsdp", "deepspeed")  # ddp_spawn, deepspeed_stage_2, ...
AUTO_GPU = ("gpu", "cuda", "auto")  # accelerators whose devices='auto' is every visible GPU


def _interactive() -> bool:
    """Lightning's test for a notebook or REPL, where ``devices='auto'`` takes one GPU."""
    return hasattr(sys, "ps1") or bool(sys.flags.interactive)


def _visible_gpus() -> int:
    import torch

    return int(torch.cuda.device_count())


def several_devices(devices: Any, accelerator: Any = None) -> str | None:
    """Why ``devices`` (a ``trainer.devices`` value) is more than one device on
    ``accelerator`` for Lightning, one process each; None when it is one device (or a value
    Lightning itself refuses, which it names)."""
    if isinstance(devices, bool):
        return None
    if isinstance(devices, Sequence) and not isinstance(devices, str):
        count = len(devices)
        return f"names {count} devices" if count > 1 else None
    text = devices.strip().lower() if isinstance(devices, str) else devices
    if text is None or text == "auto":
        kind = str(accelerator or "auto").strip().lower()
        if kind not in AUTO_GPU or _interactive():
            return None
        count = _visible_gpus()
        return f"takes each of the {count} visible GPUs" if count > 1 else None
    if text in (-1, "-1"):  # every visible GPU (Lightning refuses it on CPU itself)
        if str(accelerator or "auto").strip().lower() not in AUTO_GPU:
            return None
        count = _visible_gpus()
        return f"asks for every visible device ({count} GPUs)" if count > 1 else None
    if isinstance(text, str) and "," in text:
        count = len([part for part in text.split(",") if part.strip()])
        return f"names {count} devices" if count > 1 else None
    if isinstance(text, str) and text.isdigit():
        text = int(text)
    if isinstance(text, int) and text > 1:
        return f"asks for {text} devices"
    return None


def multi_process(
    trainer: Mapping[str, Any], name: Callable[[str], str] = lambda key: f"trainer.{key}"
) -> str | None:
    """Why the ``trainer`` settings (a run config's ``trainer`` section) would start more
    than one process (None: they start one), naming the setting as ``name(key)`` gives it,
    e.g. ``"trainer.devices='0,1' names 2 devices, one process each"``."""
    strategy = trainer.get("strategy")
    if isinstance(strategy, str) and strategy.strip().lower().startswith(MULTI_PROCESS_STRATEGIES):
        return f"{name('strategy')}={strategy!r} starts one process per device"
    nodes = trainer.get("num_nodes")
    if nodes not in (None, 1):
        return f"{name('num_nodes')}={nodes!r} starts processes on {nodes} nodes"
    devices = trainer.get("devices")
    why = several_devices(devices, trainer.get("accelerator"))
    if why is None:
        return None
    shown = (
        list(devices) if isinstance(devices, Sequence) and not isinstance(devices, str) else devices
    )
    return f"{name('devices')}={shown!r} {why}, one process each"
