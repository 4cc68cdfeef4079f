"""An epoch's training loss, wherever it is reported (the verbose=1 epoch lines, the run's
callback metrics, metrics.csv), is the epoch's mean over samples, as the validation loss is:
each batch weighted by its size, not the last batch's value. Each step's loss stays logged
as ``train/loss_step``."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from lightning.pytorch.callbacks import Callback

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm.training.progress import EpochProgress


class BatchLosses(Callback):
    """Every training batch's loss and size, per epoch (the hand computation's inputs)."""

    def __init__(self) -> None:
        self.batches: dict[int, list[tuple[float, int]]] = {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = (float(outputs["loss"]), int(batch["y"].shape[0]))
        self.batches.setdefault(trainer.current_epoch, []).append(loss)

    def mean(self, epoch: int) -> float:
        losses = self.batches[epoch]
        return sum(loss * n for loss, n in losses) / sum(n for _, n in losses)


def test_epoch_lines_and_metrics_csv_give_the_epochs_mean_training_loss(tmp_path):
    recorded, stream = BatchLosses(), io.StringIO()
    f = tiny(
        max_epochs=2, val_size=0.2, threads=1, verbose=0, batch_size=50, data__drop_last=False,
        trainer__log_every_n_steps=1, work_dir=tmp_path, overrides=["logger=csv"],
    )  # fmt: skip
    f.fit_table(f.read(synthetic_frame()), callbacks=[recorded, EpochProgress(stream)])
    sizes = [n for _, n in recorded.batches[0]]
    assert len(set(sizes)) == 2 and sizes[-1] < sizes[0]  # a smaller last batch: weights matter
    means = [recorded.mean(epoch) for epoch in (0, 1)]
    unweighted = [sum(v for v, _ in recorded.batches[e]) / len(sizes) for e in (0, 1)]
    last = [recorded.batches[e][-1][0] for e in (0, 1)]
    lines = re.findall(r"^epoch (\d)/2 .* train (\S+)  val", stream.getvalue(), re.M)
    assert [int(e) for e, _ in lines] == [1, 2]
    for (_, shown), mean, final in zip(lines, means, last, strict=True):
        assert float(shown) == pytest.approx(mean, rel=1e-3)  # printed with 4 digits
        assert float(shown) != pytest.approx(final, rel=1e-3)
    logged = pd.read_csv(tmp_path / "logs" / "metrics.csv")
    epochs = logged.dropna(subset=["train/loss"])
    assert epochs["epoch"].tolist() == [0, 1]
    assert epochs["train/loss"].tolist() == pytest.approx(means, rel=1e-6)
    assert epochs["train/loss"].tolist() != pytest.approx(unweighted, rel=1e-6)
    steps = logged["train/loss_step"].dropna().tolist()  # the per-step log is kept
    assert steps == pytest.approx([v for e in (0, 1) for v, _ in recorded.batches[e]], rel=1e-6)
