"""The CLI's progress bar: epochs counted 1..N and no logger version among its metrics; one
line per epoch into run.log, and onto the console where the bar is not shown (piped)."""

from __future__ import annotations

import io
import logging
import re

import lightning as L
import pytest
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import CSVLogger

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
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


def test_a_piped_cli_run_logs_one_line_per_epoch_to_the_console_and_run_log(tmp_path):
    run_dir = tmp_path / "run"
    shown = [o for o in TINY_RUN if "enable_progress_bar" not in o]  # the bar on, as by default
    proc = run_cli(
        *TINY_ITRANSFORMER, *shown, "trainer.max_epochs=2", f"hydra.run.dir={run_dir}",
        cwd=tmp_path, env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = r"^epoch {}/2  \d+\.\d s  train \d\S*  val \d\S*"
    for text in (proc.stdout + proc.stderr, (run_dir / "run.log").read_text()):
        assert re.search(line.format(1) + "  ETA at most", text, re.M), text[-3000:]
        assert re.search(line.format(2) + "$", text, re.M), text[-3000:]


def test_under_a_shown_progress_bar_the_epoch_lines_go_to_run_log_only(tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from tsfm.training import progress

    root, console, log_file = logging.getLogger(), io.StringIO(), tmp_path / "run.log"
    handlers = [logging.StreamHandler(console), logging.FileHandler(log_file)]
    monkeypatch.setattr(root, "handlers", handlers)
    monkeypatch.setattr(root, "level", logging.INFO)
    monkeypatch.setattr(progress, "watched", lambda stream=None: True)  # a terminal
    progress.epoch_log(OmegaConf.create({"enable_progress_bar": None}))._print("epoch 1/2  a")
    progress.epoch_log(OmegaConf.create({"enable_progress_bar": False}))._print("epoch 1/2  b")
    monkeypatch.setattr(progress, "watched", lambda stream=None: False)  # piped
    progress.epoch_log(OmegaConf.create({"enable_progress_bar": None}))._print("epoch 1/2  c")
    handlers[1].flush()
    assert console.getvalue().splitlines() == ["epoch 1/2  b", "epoch 1/2  c"]
    assert log_file.read_text().splitlines() == ["epoch 1/2  a", "epoch 1/2  b", "epoch 1/2  c"]
