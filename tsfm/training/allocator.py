"""How a run's process gets and gives back CPU memory (Linux, glibc); imports no torch.

glibc's defaults adapt: a freed block below a threshold that grows up to 32 MiB stays with
the process and serves later allocations, a larger one goes back to the system and its
successor gets fresh pages, zero-filled by the kernel on first touch (a page fault per 4 KiB).
Two run settings change that for the rest of the process (glibc cannot return to its adaptive
thresholds):

- ``reuse_freed_memory``: keep freed memory (fewer page faults; resident memory can grow);
- ``release_freed_memory``: blocks of 2 MiB and more come from the system and go back to it
  when freed, so the resident peak is what is live (S²IP-LLM's memory mode: 2.57 GiB against
  3.3-3.6 GiB with glibc's defaults), while freed smaller blocks stay for reuse.

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
import os
import platform

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_BYTES, MMAP_FROM_BYTES = 256 << 20, 64 << 20  # reuse_freed_memory
RELEASE_FROM_BYTES = 2 << 20  # release_freed_memory (it keeps KEEP_FREED_BYTES at the top)
USER_ALLOCATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def _mallopt(param: int, value: int) -> bool:
    """glibc's ``mallopt``; False where there is none (not Linux, not glibc)."""
    if platform.system() != "Linux":
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(param, value))
    except (OSError, AttributeError):
        return False


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
    """Give blocks of 2 MiB and more back to the system when freed (the run setting
    ``release_freed_memory``), so that the process's resident peak is what is live.

    With glibc's defaults a freed activation below 32 MiB stays resident and the heap
    fragments: S²IP-LLM's memory mode peaked at 3.3-3.6 GiB with 2.57 GiB live. The price is
    a fresh mapping per large tensor (page faults; with huge pages about 4 % of that mode's
    step, without them about 25 %). Smaller freed blocks stay for reuse. Returns whether it
    took effect.
    """
    return _keep_freed_below(RELEASE_FROM_BYTES)
