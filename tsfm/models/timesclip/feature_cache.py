"""Frozen-encoder features of every training window, computed once (TimesCLIP's image view).

A window's images depend on nothing but the window's values and the renderer settings, and
the vision tower is frozen, so each ``(window, variate)`` pair has one fixed feature vector.
The cache holds them as ``[n_windows, n_vars, D]``, in memory or in a ``.npy`` file (memory-
mapped when read back), keyed by a digest of the split's values, the window geometry, the
renderer settings and the tower's weights: change any of them and the key changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tsfm.errors import InputError
from tsfm.models.notices import notice

log = logging.getLogger(__name__)

MODES = ("memory", "disk")
DTYPES = {"float16": torch.float16, "float32": torch.float32}


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def default_cache_dir() -> Path:
    """``$TSFM_CACHE/timesclip``, else ``~/.cache/tsfm/timesclip``."""
    root = os.environ.get("TSFM_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "tsfm") / "timesclip"


def digest(payload: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """Autocast off (CPU and CUDA): cached features are encoded in fp32 whatever the run's
    precision, so one cache serves fp32 and bf16 runs alike (it is built once)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.autocast("cpu", enabled=False))
        if torch.cuda.is_available():
            stack.enter_context(torch.autocast("cuda", enabled=False))
        yield


class ImageFeatureCache:
    """Vision-tower features of one split's windows, looked up by ``(index, variate)``.

    Args:
        mode: ``memory`` or ``disk`` (a ``.npy`` file under ``directory``, reused across runs).
        directory: where disk caches live (default :func:`default_cache_dir`).
        dtype: storage type (``float16`` halves the memory of ``float32``).
    """

    def __init__(self, mode: str = "memory", directory: str | None = None, dtype: str = "float16"):
        if mode not in MODES:
            raise InputError(f"cache mode must be one of {MODES}, got '{mode}'")
        if dtype not in DTYPES:
            raise InputError(f"cache dtype must be one of {sorted(DTYPES)}, got '{dtype}'")
        self.mode, self.dtype = mode, dtype
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.values: Tensor | None = None
        self.seq_len = self.stride = self.n_windows = 0
        self.key: str | None = None
        self.features: Tensor | np.ndarray | None = None

    # ------------------------------------------------------------------ binding to data
    def bind(
        self, values: Tensor, seq_len: int, stride: int, n_windows: int, describe: dict[str, Any]
    ) -> None:
        """Attach the split ``values [T, N]`` whose windows ``index`` refers to.

        ``describe`` holds everything else the features depend on (renderer, tower); the
        same key keeps what is already there.
        """
        payload = {
            "data": hashlib.sha1(values.float().cpu().contiguous().numpy().tobytes()).hexdigest(),
            "shape": list(values.shape),
            "seq_len": seq_len,
            "stride": stride,
            "n_windows": n_windows,
            "dtype": self.dtype,
            **describe,
        }
        key = digest(payload)
        if key == self.key:
            return
        self.values, self.seq_len, self.stride, self.n_windows = values, seq_len, stride, n_windows
        self.key, self.features = key, None
        if self.mode == "disk" and self.path.is_file():
            self.features = np.load(self.path, mmap_mode="r")
            log.info("TimesCLIP image-feature cache: loaded %s", self.path)
        elif self.mode == "disk":
            self._payload = payload

    @property
    def bound(self) -> bool:
        return self.values is not None

    @property
    def ready(self) -> bool:
        return self.features is not None

    @property
    def path(self) -> Path:
        return self.directory / f"{self.key}.npy"

    def windows(self, index: Tensor) -> Tensor:
        """``[B, seq_len, N]`` look-back windows of positions ``index``."""
        rows = (index * self.stride)[:, None] + torch.arange(self.seq_len)
        return self.values[rows]

    # ------------------------------------------------------------------ filling and reading
    def build(
        self, encode: Callable[[Tensor, Tensor], Tensor], chunk: int = 64, advice: str = ""
    ) -> None:
        """Encode every window once: ``encode(windows [w, L, N], index [w]) -> [w, N, D]``.
        After the first chunk, says how many images there are and about how long they take
        (:meth:`announce`, ``advice`` appended)."""
        if not self.bound:
            raise RuntimeError("bind the cache to a split before building it")
        start, parts = time.perf_counter(), []
        n_vars = self.values.shape[1]
        with torch.no_grad(), full_precision():
            for first in range(0, self.n_windows, chunk):
                index = torch.arange(first, min(first + chunk, self.n_windows))
                parts.append(encode(self.windows(index), index).to("cpu", DTYPES[self.dtype]))
                if first == 0:
                    self.announce(time.perf_counter() - start, len(index), n_vars, advice)
            features = torch.cat(parts)
        log.info("TimesCLIP image-feature cache built in %.1f s", time.perf_counter() - start)
        if self.mode == "memory":
            self.features = features
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        array = features.numpy()
        partial = self.path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(partial, array)
        os.replace(partial, self.path)  # atomic: concurrent runs never see half a file
        meta = {**getattr(self, "_payload", {}), "shape": list(array.shape)}
        self.path.with_suffix(".json").write_text(json.dumps(meta, indent=2))
        self.features = np.load(self.path, mmap_mode="r")
        log.info("TimesCLIP image-feature cache written to %s", self.path)

    def announce(self, seconds: float, done: int, n_vars: int, advice: str = "") -> None:
        """One line, said to the person watching the fit, else logged (a fit's first step waits
        for the whole cache): the images to encode and an estimate from the first ``done``
        windows, which took ``seconds``."""
        total = seconds * self.n_windows / max(done, 1)
        text = (
            f"TimesCLIP: encoding {self.n_windows * n_vars} images ({self.n_windows} training "
            f"windows x {n_vars} variates) through the frozen vision tower once, before the "
            f"first training step: about {_duration(total)} here (the first {done * n_vars} "
            f"took {seconds:.1f} s){advice}"
        )
        if not notice(text):  # said by the fit's display (console and run.log), else logged
            log.info("%s", text)

    def lookup(self, index: Tensor, columns: Tensor, device: torch.device) -> Tensor:
        """Features ``[B, n, D]`` of windows ``index [B]`` and variates ``columns [B, n]``."""
        if not self.ready:
            raise RuntimeError("the image-feature cache is not built yet")
        index, columns = index.cpu(), columns.cpu()
        if (index < 0).any() or (index >= self.n_windows).any():
            raise IndexError(
                f"window index out of range for the cached split ({self.n_windows} windows)"
            )
        if isinstance(self.features, np.ndarray):
            rows = self.features[index.numpy()[:, None], columns.numpy()]
            found = torch.from_numpy(np.ascontiguousarray(rows))
        else:
            found = self.features[index[:, None], columns]
        return found.to(device, non_blocking=True)
