"""How a run's process gets and gives back CPU memory (Linux, glibc); imports no torch.

glibc's defaults adapt: a freed block below a threshold that grows up to 32 MiB stays with
the process and serves later allocations, a larger one goes back to the system and its
successor gets fresh pages, zero-filled by the kernel on first touch (a page fault per 4 KiB).
Two run settings change that for the rest of the process (glibc cannot return to its adaptive
thresholds):

- ``reuse_freed_memory``: keep freed memory (fewer page faults; resident memory can grow);
- ``release_freed_memory``: blocks of 24 MiB and more come from the system and go back to it
  when freed; smaller freed blocks serve the allocations that follow and go back to the
  system after each of a model's memory blocks (:func:`release_between_blocks`; S²IP-LLM:
  every backbone block's forward and backward pass), so the resident peak stays near what is
  live (S²IP-LLM's memory mode: 2.9 GiB against 3.3-3.6 GiB with glibc's defaults).

The allocator settings a user gave (glibc's ``MALLOC_*`` environment variables) win: with
any of them set, neither setting changes anything.

Huge pages are left to the user: torch asks the kernel for transparent huge pages for every
CPU tensor of 2 MiB or more when ``THP_MEM_ALLOC_ENABLE=1`` is in the environment before torch
is imported (``THP_MEM_ALLOC_ENABLE=1 python -m tsfm.run ...``). Whether that pays depends on
the machine, so tsfm does not set it: on one machine S²IP-LLM's bf16 step was as fast with 0.3-0.6
GiB less resident memory and its memory mode 17-18 s a step instead of 21; on another (a
virtual machine whose huge pages are slow to fault in the first time) the bf16 step was 12.7 s
against 9.6 s without them and the memory mode 21.8 against 22.4 s. The results are the same to
the last bit either way.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from collections.abc import Iterable
from typing import Any

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_BYTES, MMAP_FROM_BYTES = 256 << 20, 64 << 20  # reuse_freed_memory
RELEASE_FROM_BYTES = 24 << 20  # release_freed_memory (it keeps KEEP_FREED_BYTES at the top)
_releasing = False  # release_freed_memory took effect
USER_ALLOCATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def _glibc_call(name: str, *args: int) -> bool:
    """glibc's function ``name`` called with ``args``; False where there is none (not Linux,
    not glibc). The library is loaded once (the release hooks call this every block)."""
    library = _glibc()
    function = getattr(library, name, None) if library is not None else None
    return bool(function(*args)) if function is not None else False


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt``; False where there is none (not Linux, not glibc)."""
    return _glibc_call("mallopt", param, value)


def _keep_freed_below(mmap_from: int) -> bool:
    """Keep freed heap blocks (up to 256 MB at the top) and map blocks of ``mmap_from`` bytes
    and more from the system; nothing where the user set glibc's own variables."""
    if any(name in os.environ for name in USER_ALLOCATOR_SETTINGS):
        return False
    return _mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES) and _mallopt(M_MMAP_THRESHOLD, mmap_from)


def reuse_freed_memory() -> bool:
    """Keep freed memory in the process (the run setting ``reuse_freed_memory``): freed blocks
    up to 256 MB at the top of the heap stay and allocations below 64 MB come from them.

    By default glibc serves a block of a few MB (an evaluation batch's activations, a float64
    metric temporary) from new pages and gives them back when it is freed: an iTransformer
    evaluation pass took 50,000-100,000 page faults and about 30 % of its time on them.
    Larger blocks are still returned at once. Returns whether it took effect.
    """
    return _keep_freed_below(MMAP_FROM_BYTES)


def release_freed_memory() -> bool:
    """Give freed memory back to the system (the run setting ``release_freed_memory``), so
    that the process's resident peak stays near what is live: blocks of 24 MiB and more are
    mapped from the system and returned when freed; smaller ones serve the allocations that
    follow and go back after each memory block of the model (:func:`release_between_blocks`).

    With glibc's defaults freed activations below 32 MiB stay resident and the heap fragments:
    S²IP-LLM's memory mode peaked at 3.3-3.6 GiB with 2.57 GiB live. Returning every block of
    2 MiB and more at once (this setting until session 22) held the peak at 2.57 GiB but gave
    every large activation fresh pages: 20.7 s a step on a virtual machine with AMX, where
    returning the smaller blocks between backbone blocks instead took 17.0-18.3 s at 2.9 GiB
    (``runners/bench_s2ip_llm.py``). Returns whether it took effect.
    """
    global _releasing
    _releasing = _keep_freed_below(RELEASE_FROM_BYTES)
    return _releasing


def releasing() -> bool:
    """Whether :func:`release_freed_memory` took effect in this process."""
    return _releasing


def give_back_free_memory() -> bool:
    """glibc's ``malloc_trim(0)``: the free pages inside the heap go back to the system (the
    next allocation there faults them in again). False where there is no glibc."""
    return _glibc_call("malloc_trim", 0)


def release_between_blocks(blocks: Iterable[Any]) -> int:
    """Give free memory back after the forward and the backward pass of each of ``blocks``
    (``torch.nn.Module``s: a model's ``memory_blocks()``) while :func:`releasing`; a block
    already hooked is left as it is. Returns how many blocks were hooked."""

    def give_back(*_: object) -> None:
        if _releasing:
            give_back_free_memory()

    hooked = 0
    for block in blocks:
        if getattr(block, "_tsfm_releases_memory", False):
            continue
        block.register_forward_hook(give_back)
        block.register_full_backward_hook(give_back)
        block._tsfm_releases_memory = True
        hooked += 1
    return hooked
