"""A Forecaster's validated fit keeps its best epoch in memory: no ``best.ckpt`` is written.

Writing the whole checkpoint on every improvement and reading it back took 0.5-0.8 s of a
20-epoch fit of aus_production (``runners/bench_first_forecast.py --data aus --val-size
24``). The best epoch chosen, its weights (so the forecasts, to the last bit) and the fit's
metrics are the file-based path's; ``work_dir=...`` still keeps ``best.ckpt``, and a
command-line run still writes ``best.ckpt`` and ``last.ckpt``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training.checkpoints import load_checkpoint

# 5 epochs whose best is the 4th (epoch 3): restoring it is not keeping the last one
OVERFITTING = ("trainer.max_epochs=5", "optim.lr=0.05", "seed=0", "test=false")


def checkpoint_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.ckpt"))


def noise_frame() -> pd.DataFrame:
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=list("abc"))
    frame.insert(0, "date", pd.date_range("2020-01-01", periods=200, freq="h"))
    return frame


def same_numbers(a: dict, b: dict) -> None:
    timings = {k for k in a if k.endswith("_seconds")}
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k not in timings} == {
        k: v for k, v in b.items() if k not in timings
    }


def test_the_best_epoch_kept_in_memory_is_the_one_best_ckpt_holds(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *OVERFITTING)
    kept = fit_and_test(cfg, tmp_path / "memory", best_in_memory=True)
    written = fit_and_test(cfg, tmp_path / "files")  # the command line's: files
    assert checkpoint_files(tmp_path / "memory") == [] and kept.best_checkpoint is None
    assert checkpoint_files(tmp_path / "files") == ["best.ckpt", "last.ckpt"]
    best = load_checkpoint(written.best_checkpoint)
    callback = kept.trainer.checkpoint_callback
    assert callback.best_epoch == best["epoch"] == 3 < kept.metrics["epochs"] - 1
    assert callback.best_model_score == written.trainer.checkpoint_callback.best_model_score
    for name, weight in written.module.state_dict().items():
        assert torch.equal(weight, kept.module.state_dict()[name]), name
        assert torch.equal(weight, best["state_dict"][name]), name
    same_numbers(kept.metrics, written.metrics)


@pytest.fixture
def seen(monkeypatch) -> dict[str, list[str]]:
    """The checkpoint files in each temporary folder (a fit's without work_dir) at its end."""
    found: dict[str, list[str]] = {}

    class Recorded(tempfile.TemporaryDirectory):
        def cleanup(self) -> None:
            found[self.name] = checkpoint_files(Path(self.name))
            super().cleanup()

    monkeypatch.setattr(tempfile, "TemporaryDirectory", Recorded)
    return found


@pytest.mark.filterwarnings("ignore:fit. :UserWarning")  # noise: worse than a baseline
def test_a_validated_forecaster_writes_no_checkpoint_and_forecasts_as_from_the_file(tmp_path, seen):
    settings = {"max_epochs": 6, "val_size": 40, "seed": 0, "lr": 0.05}
    frame = noise_frame()
    kept = tiny(**settings).fit(frame)
    assert len(seen) == 1 and list(seen.values()) == [[]]
    written = tiny(**settings, work_dir=tmp_path).fit(frame)  # work_dir keeps best.ckpt
    assert checkpoint_files(tmp_path) == ["best.ckpt"]
    # the best epoch is not the last: the forecasts are the restored epoch's
    assert load_checkpoint(tmp_path / "checkpoints" / "best.ckpt")["epoch"] == 2
    assert kept.fit_metrics_["epochs"] == 6
    pd.testing.assert_frame_equal(kept.predict(), written.predict(), check_exact=True)
    same_numbers(kept.fit_metrics_, written.fit_metrics_)


@pytest.mark.filterwarnings("ignore:fit. :UserWarning")
def test_a_validated_panel_fit_writes_no_checkpoint(seen):
    frame = noise_frame().melt(id_vars="date", var_name="unique_id", value_name="y")
    tiny(mode="independent", time_col="date", val_size=40, max_epochs=2).fit(frame)
    assert len(seen) == 1 and list(seen.values()) == [[]]
