"""Time budgets: ``max_time`` (the Forecaster) and ``trainer.max_time`` (the command line)
take seconds, ``DD:HH:MM:SS`` or a timedelta; a fit the limit stops says so, records how it
stopped in ``fit_metrics_`` / metrics.json, and still ends with the best epoch's weights."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import torch
from lightning.pytorch.callbacks import Callback

import tsfm.pipeline
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.run import run
from tsfm.training.checkpoints import load_checkpoint
from tsfm.training.preflight import check_run
from tsfm.training.stopping import time_limit

LIMIT = 2  # seconds


class Scripted(Callback):
    """Epoch 0 is the best: every later epoch starts from scrambled weights; and a pause of
    the whole time limit after batch ``late`` of epoch ``epoch``: the limit stops training
    there, whatever the machine's speed. ``losses``: the validation loss of each epoch."""

    def __init__(self, epoch: int, late: int = 3):
        self.epoch, self.late, self.losses = epoch, late, []

    def on_train_epoch_start(self, trainer, module) -> None:
        if trainer.current_epoch:
            with torch.no_grad():
                for weight in module.parameters():
                    weight.normal_(0.0, 10.0)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.late:
            time.sleep(LIMIT + 0.2)

    def on_validation_end(self, trainer, module) -> None:
        if not trainer.sanity_checking:
            self.losses.append(float(trainer.callback_metrics["val/loss"]))


@pytest.fixture
def scripted(monkeypatch):
    def arm(epoch: int) -> Scripted:
        script, built = Scripted(epoch), tsfm.pipeline.build_callbacks
        monkeypatch.setattr(tsfm.pipeline, "build_callbacks", lambda c, d: [script, *built(c, d)])
        return script

    return arm


def test_the_time_limit_stops_training_says_so_and_keeps_the_best_epoch(scripted, tmp_path, capsys):
    script = scripted(epoch=2)
    est = tiny(
        max_epochs=20, val_size=0.2, patience=50, max_time=LIMIT, work_dir=tmp_path,
        callbacks__checkpoint__save_last=True,  # the last epoch's weights too, to compare
    )  # fmt: skip
    est.fit(synthetic_frame())
    metrics = est.fit_metrics_
    assert metrics["stopped"] == "max_time" and metrics["last_epoch_complete"] is False
    assert metrics["epochs"] == 3 and metrics["val/best_loss"] == pytest.approx(script.losses[0])
    assert min(script.losses[1:]) > script.losses[0]
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"training stopped at the time limit (max_time={LIMIT} s) after 2 finished epochs "
        "(epoch 3 cut short); the model is the best epoch's"
    )
    best = load_checkpoint(tmp_path / "checkpoints" / "best.ckpt")["state_dict"]
    last = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")["state_dict"]
    weights = est.module_.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in best.items())  # epoch 0's
    assert not all(torch.equal(weights[k], v) for k, v in last.items())
    est.save(tmp_path / "saved")
    assert Forecaster.load(tmp_path / "saved").fit_metrics_ == metrics


def test_fit_metrics_say_how_training_stopped_otherwise(scripted, capsys):
    scripted(epoch=-1)  # no pause: worse epochs only
    early = tiny(max_epochs=10, val_size=0.2, patience=1).fit(synthetic_frame())
    assert early.fit_metrics_["stopped"] == "early_stopping"
    assert early.fit_metrics_["epochs"] == 2 and early.fit_metrics_["last_epoch_complete"]
    ran = tiny(max_epochs=2, max_time=timedelta(hours=1)).fit(synthetic_frame())
    assert ran.fit_metrics_["stopped"] == "max_epochs" and ran.fit_metrics_["epochs"] == 2
    assert "time limit" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "value", [90, 90.0, "00:00:01:30", timedelta(minutes=1, seconds=30), {"seconds": 90}]
)
def test_a_time_limit_is_seconds_a_clock_or_a_timedelta(value):
    assert time_limit(value) == timedelta(seconds=90)


@pytest.mark.parametrize("value", ["90s", "01:30", 0, -5, True, float("nan"), [1]])
def test_anything_else_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match=r"max_time \(trainer.max_time\)=.* is not a time limit"):
        tiny(max_time=value).fit(synthetic_frame(120))
    if isinstance(value, (str, int, float)):
        cfg = compose_config(*TINY_ITRANSFORMER, f"trainer.max_time={value}")
        with pytest.raises(ValueError, match=r"^trainer.max_time=.*'DD:HH:MM:SS'"):
            check_run(cfg)


def test_the_command_lines_metrics_json_records_the_stop(scripted, tmp_path):
    scripted(epoch=1)
    overrides = [o for o in TINY_RUN if o != "trainer.max_epochs=1"]
    limited = ["trainer.limit_train_batches=6", "trainer.max_epochs=5", f"trainer.max_time={LIMIT}"]
    cfg = compose_config(*TINY_ITRANSFORMER, *overrides, *limited, "output.plot=false")
    run(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stopped"] == "max_time" and metrics["last_epoch_complete"] is False
    assert metrics["epochs"] == 2 and metrics["status"] == "ok"


def test_a_calibration_helper_shares_the_fits_time_limit_and_one_line_tells(capsys):
    est = tiny(max_epochs=100_000, max_time=LIMIT, conformal_windows=3, verbose=1)
    est.fit(synthetic_frame())  # no validation rows: a helper gives the calibration errors
    lines = [line for line in capsys.readouterr().err.splitlines() if "time limit" in line]
    assert len(lines) == 1, lines  # the final model's, not the helper's too
    assert lines[0].startswith(f"training stopped at the time limit (max_time={LIMIT} s, of ")
    assert "the conformal calibration helper used" in lines[0]
    assert est.fit_metrics_["stopped"] == "max_time"
    # one budget: the helper trains for half of it, the final model for what it left
    assert est.fit_metrics_["fit_seconds"] < 0.8 * LIMIT
