"""How much memory a model will need, estimated before it is built, and a refusal when the
machine does not have it.

The model is built on PyTorch's ``meta`` device (shapes only, no storage), which gives its
exact parameter count; pretrained parts are built from their architecture (``pretrained``
off) since nothing is loaded there. Training needs the weights, their gradients and the
optimizer's state (Adam: two moments per trainable parameter); the activations of one batch
are added when the model's forward also runs on the meta device (iTransformer's does). The
estimate is a lower bound: the framework's own overhead comes on top.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from tsfm.data.batch import model_inputs
from tsfm.models import as_output, build_model

log = logging.getLogger(__name__)
GIB = 2**30
OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "sgd": 1}


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int
    trainable: int
    weight_bytes: int
    state_bytes: int  # gradients and optimizer state (0 for inference)
    activation_bytes: int | None  # one batch's forward outputs; None if not estimated
    batch_size: int = 1  # windows in that batch

    @property
    def total(self) -> int:
        return self.weight_bytes + self.state_bytes + (self.activation_bytes or 0)

    def describe(self) -> str:
        parts = [
            f"{self.weight_bytes / GIB:.2f} GiB of weights",
            f"{self.state_bytes / GIB:.2f} GiB of gradients and optimizer state",
        ]
        if self.activation_bytes is None:
            parts.append("activations not estimated")
        else:
            parts.append(
                f"{self.activation_bytes / GIB:.2f} GiB of activations per batch of "
                f"{self.batch_size:,} windows"
            )
        return f"{self.parameters:,} parameters: " + ", ".join(parts)


class _CountOutputs(TorchDispatchMode):
    """Adds up the bytes of every tensor an operation allocates (views allocate nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if getattr(func, "is_view", False):
            return out
        for item in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(item, torch.Tensor):
                self.bytes += item.numel() * item.element_size()
        return out


def meta_model(model_cfg: dict[str, Any], dims: dict[str, int]) -> torch.nn.Module | None:
    """The model of ``model_cfg`` on the meta device (None if it cannot be built there)."""
    settings = dict(model_cfg)
    if "pretrained" in settings:  # the architecture only: nothing is read on the meta device
        settings["pretrained"] = False
    try:
        with torch.device("meta"):
            return build_model(settings, dims)
    except Exception as err:  # the real build reports a bad setting with its own message
        log.debug("no memory estimate: the model does not build on the meta device (%s)", err)
        return None


def _activation_bytes(model: torch.nn.Module, dims: dict[str, int], batch_size: int) -> int | None:
    shape = (batch_size, dims["seq_len"])
    batch = {"x": torch.empty(*shape, dims["n_vars"], device="meta")}
    if dims.get("n_marks"):
        batch["x_mark"] = torch.empty(*shape, dims["n_marks"], device="meta")
        batch["y_mark"] = torch.empty(batch_size, dims["pred_len"], dims["n_marks"], device="meta")
    counter = _CountOutputs()
    try:
        with torch.device("meta"), counter:
            as_output(model(**model_inputs(batch)))
    except Exception as err:  # data-dependent steps (rendering, lookups) need real values
        log.debug("activations not estimated: the forward does not run on meta (%s)", err)
        return None
    return counter.bytes


def estimate_memory(
    model_cfg: dict[str, Any],
    dims: dict[str, int],
    *,
    batch_size: int = 1,
    optimizer: str | None = "adam",
    model: torch.nn.Module | None = None,
    n_windows: int | None = None,
) -> MemoryEstimate | None:
    """The memory of training (``optimizer`` set) or running (``optimizer=None``) the model
    (``model``: its meta-device build, if already at hand); None when the model cannot be
    built on the meta device. ``n_windows``, the training windows when known, caps the
    batch: the loader never forms a batch larger than the split."""
    if n_windows:
        batch_size = min(batch_size, n_windows)
    model = model if model is not None else meta_model(model_cfg, dims)
    if model is None:
        return None
    params = list(model.parameters())
    count = sum(p.numel() for p in params)
    weight_bytes = sum(p.numel() * p.element_size() for p in params)
    weight_bytes += sum(b.numel() * b.element_size() for b in model.buffers())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    state_bytes = 0
    if optimizer is not None:
        per_parameter = 1 + OPTIMIZER_STATES.get(str(optimizer).lower(), 2)
        state_bytes = trainable * 4 * per_parameter
    activations = _activation_bytes(model, dims, batch_size) if optimizer is not None else None
    return MemoryEstimate(count, trainable, weight_bytes, state_bytes, activations, batch_size)


def available_memory(accelerator: str | None) -> tuple[int, str] | None:
    """Free bytes where the model will live: the GPU's free memory for a CUDA run, else the
    system's available memory (``MemAvailable`` of /proc/meminfo); None if unknown."""
    accelerator = str(accelerator or "cpu").lower()
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        if torch.cuda.is_available():
            free, _ = torch.cuda.mem_get_info()
            return free, "free GPU memory"
        return None
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "available system memory"
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return pages, "available system memory"
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    model_cfg: dict[str, Any],
    dims: dict[str, int],
    *,
    accelerator: str | None,
    batch_size: int = 1,
    optimizer: str | None = "adam",
    override: str = "check_memory=false",
    model: torch.nn.Module | None = None,
    n_windows: int | None = None,
) -> MemoryEstimate | None:
    """Refuse (MemoryError) a model whose estimated memory exceeds what is free; ``override``
    names the switch that skips this check in the caller's terms; ``n_windows``: the
    training windows, when known."""
    estimate = estimate_memory(
        model_cfg,
        dims,
        batch_size=batch_size,
        optimizer=optimizer,
        model=model,
        n_windows=n_windows,
    )
    free = available_memory(accelerator)
    if estimate is None or free is None:
        return estimate
    available, where = free
    if estimate.total > available:
        what = "training" if optimizer is not None else "loading"
        raise MemoryError(
            f"{what} model '{model_cfg.get('name')}' needs at least {estimate.total / GIB:.1f} "
            f"GiB ({estimate.describe()}), but only {available / GIB:.1f} GiB of {where} is "
            f"left. Make the model smaller (d_model, n_layers, ...) or the batch, or, if you "
            f"know better, skip this check with {override}"
        )
    return estimate


def check_run_memory(cfg: Any, datamodule: Any, override: str) -> None:
    """Refuse a model too large for the free memory (unless ``check_memory=false``); a
    training batch holds at most the training split's windows."""
    from omegaconf import OmegaConf

    from tsfm.training.artifacts import built_dims

    if not cfg.get("check_memory", True):
        return
    dims = datamodule.dims()
    n_windows = datamodule.window_counts().get("train") if cfg.train else None
    check_memory(
        OmegaConf.to_container(cfg.model, resolve=True),
        built_dims(cfg, dims),
        accelerator=cfg.trainer.get("accelerator"),
        batch_size=cfg.data.batch_size,
        optimizer=cfg.optim.optimizer if cfg.train else None,
        override=override,
        n_windows=n_windows,
    )
