"""Random numbers a dataset draws while it reads a sample, as a function of the pass and the
sample alone, so that the process that reads it (the main one, or any loader worker) does not
change them.

A dataset that draws (``data.train_variates``' variates, M4's random training windows) holds
a :class:`SampleDraws`. At the start of every pass over it, :class:`~tsfm.data.loader.Loader`
draws one number from torch's global generator in the main process (which moves alike with
and without workers, so that number follows from the run's seed and the pass) and stores it in
a one-number tensor in shared memory, which the worker processes read too. Each sample's
numbers then come from that pass seed and the sample's index: SplitMix64 (Steele, Lea and
Flood, 2014), a counter-based generator whose ``i``-th output needs no earlier one, so
``data.num_workers=0``, 1 or 2 read the same windows, and a resumed run (which restores torch's
generator) the same as an uninterrupted one.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (the golden ratio)
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_UNIT = 2.0**-53  # 53 random bits to a float64 in [0, 1)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on uint64 values (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX[0]
    z = (z ^ (z >> np.uint64(27))) * _MIX[1]
    return z ^ (z >> np.uint64(31))


class SampleDraws:
    """The pass seed shared with the loader's workers, and the numbers of each sample.

    Until a loader sets it (:meth:`new_pass`), the seed is 0: a dataset read outside a
    :class:`~tsfm.data.loader.Loader` draws the same numbers for a sample every time unless
    :meth:`set_seed` is called.
    """

    def __init__(self) -> None:
        self._seed = torch.zeros(1, dtype=torch.int64).share_memory_()

    @property
    def seed(self) -> int:
        return int(self._seed[0])

    def set_seed(self, seed: int) -> None:
        if not self._seed.is_shared():  # a copy (deepcopy): shared again before workers start
            self._seed.share_memory_()
        self._seed[0] = seed

    def new_pass(self, generator: torch.Generator | None = None) -> None:
        """Draw the next pass's seed from ``generator`` (torch's global one by default)."""
        self.set_seed(int(torch.empty((), dtype=torch.int64).random_(generator=generator)))

    def _words(self, indices: Tensor, stream: int) -> np.ndarray:
        base = _mix(np.array([self.seed, stream], dtype=np.int64).astype(np.uint64))
        state = base[0] ^ base[1]
        counters = indices.detach().cpu().numpy().astype(np.uint64) + np.uint64(1)
        with np.errstate(over="ignore"):
            return _mix(state + counters * _GAMMA)

    def uniforms(self, indices: Tensor, stream: int = 0) -> Tensor:
        """One float64 in ``[0, 1)`` per sample index of ``indices`` (``stream`` tells apart
        several draws of one sample)."""
        words = self._words(indices.reshape(-1), stream) >> np.uint64(11)
        return torch.from_numpy(words.astype(np.float64) * _UNIT).reshape(indices.shape)

    def generator(self, index: int, stream: int = 0) -> torch.Generator:
        """A torch generator seeded from this pass and sample ``index``."""
        word = self._words(torch.tensor([index]), stream)[0] >> np.uint64(1)  # an int64 seed
        return torch.Generator().manual_seed(int(word))
