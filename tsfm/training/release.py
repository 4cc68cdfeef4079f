"""The Lightning side of the run setting ``release_freed_memory``: the model's memory blocks
give freed memory back to the system after each forward and backward pass
(:func:`tsfm.training.allocator.release_between_blocks`)."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback

from tsfm.training.allocator import release_between_blocks


class ReleaseBetweenBlocks(Callback):
    """Hooks ``pl_module.model.memory_blocks()`` where the model has them (S²IP-LLM: its
    backbone's blocks); other models are left as they are."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        blocks = getattr(pl_module.model, "memory_blocks", None)
        if blocks is not None:
            release_between_blocks(blocks())
