"""A fit with no best epoch to keep writes no checkpoint files.

Without validation rows (a Forecaster's default, ``callbacks=none`` on the command line)
tsfm's checkpoint callback is off, and Lightning used to put its own in its place: a
checkpoint file written after every epoch and read back after training, about a fifth of a
small fit's training time (``runners/bench_first_forecast.py``). The fit now does without;
asking for Lightning's checkpoint (``trainer.enable_checkpointing=true``) still gets it, and
the forecasts are the same to the last bit either way. A Forecaster fit with validation rows
and a ``work_dir`` keeps its best epoch (``best.ckpt``; without one, in memory:
tests/test_best_in_memory.py) but no ``last.ckpt``, written every epoch for a command-line
run's ``resume=true``, which a fit never does.
"""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test


def checkpoint_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.ckpt"))


def test_a_fit_without_validation_writes_no_checkpoint_and_forecasts_the_same(tmp_path):
    frame = synthetic_frame(200, 3)
    plain = tiny(max_epochs=3, seed=5, work_dir=tmp_path / "plain").fit(frame)
    assert checkpoint_files(tmp_path / "plain") == []
    # the same fit with Lightning's per-epoch checkpoint, as every such fit wrote before
    saved = tiny(
        max_epochs=3, seed=5, work_dir=tmp_path / "saved", trainer__enable_checkpointing=True
    ).fit(frame)
    assert checkpoint_files(tmp_path / "saved") == ["epoch=2-step=15.ckpt"]
    pd.testing.assert_frame_equal(plain.predict(), saved.predict(), check_exact=True)
    for name, weight in plain.module_.state_dict().items():
        assert torch.equal(weight, saved.module_.state_dict()[name]), name
    assert plain.fit_metrics_["steps"] == saved.fit_metrics_["steps"] == 15


@pytest.mark.filterwarnings("ignore:fit. the fitted model:UserWarning")  # 2-epoch fits
def test_a_validated_fit_keeps_its_best_epoch_only_and_forecasts_the_same(tmp_path):
    frame = synthetic_frame(200, 3)
    best = tiny(max_epochs=2, val_size=40, seed=3, work_dir=tmp_path / "best").fit(frame)
    # last.ckpt is what resume=true continues a command-line run from; a fit never resumes
    assert checkpoint_files(tmp_path / "best") == ["best.ckpt"]
    both = tiny(
        max_epochs=2, val_size=40, seed=3, work_dir=tmp_path / "both",
        callbacks__checkpoint__save_last=True,
    ).fit(frame)  # fmt: skip
    assert checkpoint_files(tmp_path / "both") == ["best.ckpt", "last.ckpt"]
    pd.testing.assert_frame_equal(best.predict(), both.predict(), check_exact=True)
    assert best.fit_metrics_["val/best_loss"] == both.fit_metrics_["val/best_loss"]
    assert best.config_.callbacks.checkpoint.save_last is False


def test_a_panel_fit_without_validation_writes_no_checkpoint(tmp_path):
    frame = synthetic_frame(120, 2).melt(id_vars="date", var_name="unique_id", value_name="y")
    tiny(mode="independent", time_col="date", work_dir=tmp_path).fit(frame)
    assert checkpoint_files(tmp_path) == []


def test_a_command_line_run_without_checkpoints_writes_none(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "callbacks=none")
    result = fit_and_test(cfg, tmp_path)
    assert checkpoint_files(tmp_path) == []
    assert result.best_checkpoint is None and result.trainer.checkpoint_callback is None
