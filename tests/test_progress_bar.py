"""The CLI's progress bar: epochs counted 1..N and no logger version among its metrics."""

from __future__ import annotations

import lightning as L
import pytest
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import CSVLogger

from tsfm.training.progress import counting_progress_bar


def test_cli_bar_counts_epochs_from_one_and_hides_the_logger_version(tmp_path):
    bar = counting_progress_bar()
    if bar is None:
        pytest.skip("rich is not installed: Lightning's own bar is used")
    trainer = L.Trainer(
        max_epochs=2, limit_train_batches=2, limit_val_batches=1, callbacks=[bar],
        logger=CSVLogger(tmp_path), enable_model_summary=False, enable_checkpointing=False,
    )  # fmt: skip
    trainer.fit(BoringModel())
    assert bar._get_train_description(0).strip() == "Epoch 1/2"
    assert bar._get_train_description(1).strip() == "Epoch 2/2"
    assert "v_num" not in bar.get_metrics(trainer, trainer.lightning_module)
