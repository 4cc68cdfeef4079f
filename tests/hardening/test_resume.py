"""Issue 16, item 11: ``resume=true`` continues an interrupted run from its last.ckpt (kept by
default), through the safe loader, and keeps the earlier epochs in logs/metrics.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test

RUN = [*TINY_ITRANSFORMER, *(o for o in TINY_RUN if o != "logger=none"), "logger=csv"]


def validated_epochs(log) -> list[int]:
    return pd.read_csv(log).dropna(subset=["val/loss"]).epoch.astype(int).tolist()


def test_resume_continues_from_last_ckpt_and_keeps_the_log_history(tmp_path, monkeypatch):
    # as under torch 2.4/2.5: only the safe loader's explicit weights_only=True holds
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    first = fit_and_test(compose_config(*RUN, "trainer.max_epochs=2"), tmp_path)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()  # kept by default
    log = tmp_path / "logs" / "metrics.csv"
    assert validated_epochs(log) == [0, 1]
    resumed = fit_and_test(compose_config(*RUN, "trainer.max_epochs=3", "resume=true"), tmp_path)
    assert first.trainer.global_step == 6 and resumed.trainer.global_step == 9  # 3 more steps
    assert validated_epochs(log) == [0, 1, 2]  # the first run's epochs are still there
    assert resumed.metrics["epochs"] == 3 and "test/mse" in resumed.metrics


def test_resume_needs_the_runs_last_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=true, but .*last.ckpt does not exist"):
        fit_and_test(compose_config(*RUN, "resume=true"), tmp_path)
