"""A training or evaluation loader whose worker count leaves the run's random numbers as they
are: ``data.num_workers=0``, 1 or 2 train the same model from the same seed.

Every time a torch ``DataLoader`` starts a pass over its data it draws a seed for its worker
processes from torch's global generator, whether or not it has workers; the shuffle of the
training windows and the dropout masks draw from that generator too. With
``persistent_workers`` (tsfm's, whenever ``num_workers > 0``, so that the workers are not
started again every epoch) the workers keep their first seed and later passes draw nothing:
from the second epoch on the shuffle and the dropout were other numbers than without
workers, and the trained model another (forecasts 0.02 apart on ETTh1). :class:`Loader`
makes each later pass of persistent workers draw that seed too (and drops it: the workers
keep theirs), so the global generator moves exactly as it does without workers, whose
numbers (the paper presets' figures among them) stay as they were.

What a dataset draws while reading a window (the variates ``data.train_variates`` samples,
M4's random training windows) does not come from the reading process's generator: such a
dataset holds a :class:`~tsfm.data.draws.SampleDraws`, whose seed for the pass :class:`Loader`
draws from the global generator in the main process before the pass starts; each sample's
numbers follow from that seed and the sample's index, in whichever process reads it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from tsfm.data.draws import SampleDraws


class Loader(DataLoader):
    """A ``DataLoader`` whose passes draw from torch's global generator alike with and
    without (persistent) worker processes."""

    def __iter__(self) -> Any:
        draws = getattr(self.dataset, "draws", None)
        if isinstance(draws, SampleDraws):  # before the workers read anything of this pass
            draws.new_pass(self.generator)
        if self.persistent_workers and self.num_workers > 0 and self._iterator is not None:
            # the worker seed a pass without persistent workers draws (torch's own draw)
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        return super().__iter__()
