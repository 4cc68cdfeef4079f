"""How a run uses the machine: its numeric precision and its CPU threads.

``trainer.precision`` takes Lightning's values plus tsfm's ``auto``: bf16 mixed precision
(``bf16-mixed``) where the device multiplies bf16 natively, else fp32 (``32-true``) with a
one-line warning saying why. On a CPU "natively" means AVX512-BF16 or AMX-BF16 (Intel since
Cooper Lake / Sapphire Rapids, AMD since Zen 4), where a bf16 matrix product runs about four
times faster than fp32; elsewhere torch emulates bf16, more slowly than fp32. Other CPUs
(ARM's bf16 extension, for one) are not probed: ``auto`` keeps fp32 there and says so.

``threads`` (a run setting) caps torch's intra-op threads for the run. torch starts one per
core; when several processes share the cores (a busy machine), those threads wait on each
other at every operation and a training step became five times slower with two threads than
with one (``README``, "Speed"). tsfm never changes the threads unless asked; it warns once
when the machine looks busy.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import platform
import re
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError

AUTO = "auto"
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
X86_MACHINES = ("x86_64", "amd64", "i386", "i686")  # platform.machine(), lower case
MIXED = {"bf16-mixed": torch.bfloat16, "bf16": torch.bfloat16, "16-mixed": torch.float16}
BF16 = ("bf16-mixed", "bf16", "bf16-true")


class MachineWarning(UserWarning):
    """A run setting that works but is slow on this machine (emulated bf16, busy cores)."""


def lightning_precisions() -> tuple[Any, ...]:
    """Every value ``lightning.Trainer(precision=...)`` accepts."""
    from lightning.fabric.connector import _PRECISION_INPUT

    values: list[Any] = []
    for part in typing.get_args(_PRECISION_INPUT):
        values += typing.get_args(part)
    return tuple(values)


def _cpuinfo_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX-BF16)."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    if probe is not None and probe():
        return True
    return bool(_cpuinfo_flags() & set(CPU_BF16_FLAGS))


def _device(accelerator: str | None) -> str:
    name = str(accelerator or "cpu").lower()
    if name in ("gpu", "cuda") or (name == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu" if name == "auto" else name


def native_bf16(accelerator: str | None) -> tuple[bool | None, str]:
    """Whether the run's device computes bf16 natively (None: tsfm cannot tell), and if not,
    why not."""
    device = _device(accelerator)
    if device == "cpu":
        flags = " or ".join(CPU_BF16_FLAGS)
        machine = platform.machine()
        if machine.lower() not in X86_MACHINES and not cpu_has_native_bf16():
            return None, f"tsfm probes x86 CPUs only ({flags}) and this is a '{machine}' CPU"
        return cpu_has_native_bf16(), f"this CPU has no native bf16 ({flags})"
    if device == "cuda":
        ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return ok, "this GPU has no native bf16"
    return None, f"tsfm does not know whether '{device}' computes bf16 natively"


HALF_TRUE = ("16-true", "bf16-true")  # Lightning casts every tensor of the module, sums too


def check_precision(value: Any, describe: Callable[[str], str] = str) -> None:
    """Refuse a ``trainer.precision`` that is neither ``auto`` nor one of Lightning's, or one
    that would keep the metrics' float64 sums in 16 bits."""
    if str(value) in HALF_TRUE:
        raise InputError(
            f"{describe('trainer.precision')}={value!r} casts the whole module to 16 bits, the "
            "metrics' float64 sums included (they would lose the test's digits, and crash); "
            "use bf16-mixed (16-bit products, 32-bit weights; or 16-mixed on a GPU)"
        )
    if value is None or value == AUTO or value in lightning_precisions():
        return
    raise InputError(
        f"{describe('trainer.precision')}={value!r} is not a precision; use {AUTO!r} (bf16-mixed "
        "where the device computes bf16 natively, else 32-true), 'bf16-mixed', '32-true' "
        f"or another of Lightning's: {sorted(set(map(str, lightning_precisions())))}"
    )


def resolve_precision(precision: Any, accelerator: str | None) -> Any:
    """The precision Lightning gets: ``auto`` resolved (with a warning when it falls back to
    fp32); an explicit bf16 on a device without native bf16 is kept, with a warning."""
    native, why = native_bf16(accelerator)
    if precision == AUTO:
        if native:
            return "bf16-mixed"
        warn_user(f"trainer.precision=auto: {why}, so the run uses fp32 (32-true)", MachineWarning)
        return "32-true"
    if str(precision) in BF16 and not native:
        effect = (
            "bf16 is emulated and slower than fp32 here"
            if native is False
            else "compare its speed with 32-true"
        )
        warn_user(
            f"trainer.precision={precision}: {why}; {effect} (trainer.precision=auto would "
            "pick 32-true)",
            MachineWarning,
        )
    return precision


def autocast(precision: Any, accelerator: str | None, device: torch.device):
    """The autocast context matching a run's precision, for inference outside the Trainer
    (a mixed precision autocasts; any other is a no-op)."""
    return resolved_autocast(resolve_precision(precision, accelerator), device)


def resolved_autocast(precision: Any, device: torch.device):
    """:func:`autocast` of a precision already resolved (a Trainer's ``precision``)."""
    dtype = MIXED.get(str(precision))
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


@contextlib.contextmanager
def inference(config: Any, device: torch.device, recorded: str | None = None) -> Iterator[None]:
    """Forecasting outside the Trainer as the run trained: its threads, its precision
    (``config`` is the run config), without autograd. ``recorded``: the precision the fit
    used, as it recorded it (``fit_metrics_["precision"]``), which is kept on any machine;
    without it (a model saved before tsfm recorded it) ``config``'s is resolved here."""
    trainer = config.trainer
    precision = (
        resolved_autocast(recorded, device)
        if recorded is not None
        else autocast(trainer.get("precision"), trainer.get("accelerator"), device)
    )
    with thread_limit(config.get("threads")), torch.inference_mode(), precision:
        yield


RECORDED = re.compile(r"(64|32|16|bf16)(-true|-mixed)?|transformer-engine(-float16)?")


def recorded_precision(value: Any) -> bool:
    """Whether ``value`` is a precision a fit records (Lightning's name of the precision the
    Trainer ran in: ``32-true``, ``bf16-mixed``, ...)."""
    return isinstance(value, str) and RECORDED.fullmatch(value) is not None


def fitted_precision(est: Any) -> str | None:
    """The precision a fitted Forecaster's training ran in (``fit_metrics_["precision"]``);
    None for a model saved before tsfm recorded it."""
    value = (getattr(est, "fit_metrics_", None) or {}).get("precision")
    return value if recorded_precision(value) else None


def warn_moved_precision(recorded: Any, chosen: Any, device: torch.device, where: str) -> None:
    """One warning when a model fitted in bf16 (``recorded``; ``chosen``: its
    ``trainer.precision``, ``auto`` perhaps) is loaded where bf16 is not native: it still
    forecasts in bf16, as fitted (its forecasts are the fit's), but emulated and slower."""
    if str(recorded) not in BF16:
        return
    native, why = native_bf16(device.type)
    if native:
        return
    how = " (trainer.precision=auto chose it on the machine that fitted it)" * (chosen == AUTO)
    speed = "emulated and slower than fp32" if native is False else "perhaps slow"
    warn_user(
        f"{where}: the model was fitted in {recorded}{how} and {why}: predict and evaluate "
        f"keep {recorded}, so the forecasts are the fit's, but bf16 is {speed} here. "
        "Forecasting it in fp32 instead would move them by bf16's rounding; for fp32 speed "
        "with fp32 forecasts, refit here with precision='32-true'",
        MachineWarning,
    )


def check_threads(value: Any, describe: Callable[[str], str] = str) -> None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return
    raise InputError(
        f"{describe('threads')}={value!r}: give a positive whole number of CPU threads "
        "(threads=1 on a machine shared with other jobs), or null for torch's default"
    )


def check_seed(seed: Any) -> None:
    """A seed is a whole number from 0 to 2**32 - 1 (NumPy's range, which Lightning seeds):
    an int or a NumPy integer, never text or a bool (which an int setting would read as one)."""
    whole = isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_))
    if whole and 0 <= seed < 2**32:
        return
    kind = "" if whole else f" ({type(seed).__name__}, not a whole number)"
    raise InputError(
        f"seed must be a whole number from 0 to 2**32 - 1, got {seed!r}"
        f"{' (every fit is seeded)' if seed is None else kind}; give one, e.g. seed=3 (the "
        "same seed, the same fit)"
    )


def machine_is_busy() -> tuple[float, int] | None:
    """(1-minute load average, cores) when the load exceeds the cores, else None."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # not available on this platform
        return None
    return (load, cores) if load > cores else None


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` inside, restored after; ``None`` keeps
    them, with a warning when more than one thread would share a busy machine."""
    check_threads(threads)
    before = torch.get_num_threads()
    if threads is None:
        busy = machine_is_busy()
        if busy is not None and before > 1:
            warn_user(
                f"the machine is busy (load {busy[0]:.1f} on {busy[1]} cores) and torch uses "
                f"{before} threads, which then wait on each other: threads=1 is often several "
                "times faster (or set threads=N)",
                MachineWarning,
            )
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


NVML = "libnvidia-ml.so.1"


def cache_absent_gpu() -> bool:
    """Make ``torch.cuda.is_available()`` cheap on a machine without an NVIDIA driver; returns
    whether it did.

    Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (availability checks that do not spoil
    forked workers), under which torch asks NVML for the device count on every call and
    caches nothing before CUDA starts: without the driver every call tries to load
    ``libnvidia-ml`` and fails, about 1 ms between a training step's operations. Lightning's
    per-step ``self.log`` and torch's ``Adam.step`` (its graph-capture check) each make such a
    call every training step: 4-8 % of an iTransformer bf16 step. Where NVML cannot be loaded
    and the CUDA runtime sees no device, no GPU can appear later in the process, so the count
    0 goes into torch's own cache. A machine with the driver is left as it is.
    """
    cuda = torch.cuda
    if not cuda._is_compiled() or getattr(cuda, "_cached_device_count", 0) is not None:
        return False
    try:
        ctypes.CDLL(NVML)
        return False  # the driver is there: torch's checks stay as they are
    except OSError:
        pass
    if torch._C._cuda_getDeviceCount() != 0:
        return False
    cuda._cached_device_count = 0
    return True
