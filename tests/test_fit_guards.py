"""A Forecaster's fitted state around training: Ctrl-C during ``fit``, ``cross_validate`` or
``tune`` raises KeyboardInterrupt (not Lightning's SystemExit), says so in one line, and
leaves the Forecaster as it was; so does an error."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from lightning.pytorch.callbacks import Callback

import tsfm.pipeline
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm.training.stopping import FitInterrupted, interruptible


class CtrlC(Callback):
    """Ctrl-C as a person gives it: SIGINT to this process after ``at`` training batches."""

    def __init__(self, at: int):
        self.at, self.seen = at, 0

    def on_train_batch_end(self, trainer, *args) -> None:
        self.seen += 1
        if self.seen == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def ctrl_c(monkeypatch):
    """``ctrl_c(at)``: every fit from now on is interrupted after ``at`` training batches."""

    def arm(at: int) -> None:
        built = tsfm.pipeline.build_callbacks
        monkeypatch.setattr(
            tsfm.pipeline, "build_callbacks", lambda cfg, run_dir: [*built(cfg, run_dir), CtrlC(at)]
        )

    return arm


def test_ctrl_c_in_fit_is_a_keyboard_interrupt_and_says_how_many_epochs_finished(ctrl_c, capsys):
    est = tiny(max_epochs=5, val_size=0.2)  # 9 training batches an epoch
    ctrl_c(12)
    with pytest.raises(KeyboardInterrupt) as caught:
        est.fit(synthetic_frame())
    assert isinstance(caught.value, FitInterrupted) and caught.value.epochs == 1
    assert not hasattr(est, "module_")  # no half-trained model
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == (
        "fit interrupted (Ctrl-C) after 1 finished epoch; the Forecaster keeps its earlier "
        "state: not fitted"
    )
    assert not any("Detected KeyboardInterrupt" in line for line in lines)


@pytest.mark.parametrize("warm_start", [False, True])
def test_an_interrupted_refit_keeps_the_model_fitted_before(ctrl_c, capsys, warm_start):
    frame = synthetic_frame()
    est = tiny(val_size=0.2, warm_start=warm_start).fit(frame)
    before = {k: v.clone() for k, v in est.module_.state_dict().items()}
    forecast, metrics, history = est.predict(), est.fit_metrics_, est.history_
    ctrl_c(3)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(max_epochs=3, lr=1e-2).fit(synthetic_frame(500, seed=1))
    assert "the model it was fitted with before" in capsys.readouterr().err
    assert est.fit_metrics_ is metrics and est.history_ is history
    assert all(torch.equal(v, before[k]) for k, v in est.module_.state_dict().items())
    assert est.predict().equals(forecast)


def test_a_failed_refit_keeps_the_model_fitted_before():
    est = tiny().fit(synthetic_frame())
    module = est.module_
    with pytest.raises(ValueError, match="training rows"):
        est.fit(synthetic_frame(20))  # too short for one window
    assert est.module_ is module
    est.predict()


def test_ctrl_c_in_cross_validation_and_tuning_leaves_the_forecaster_as_it_was(ctrl_c, capsys):
    frame = synthetic_frame()
    est = tiny().fit(frame)
    module = est.module_
    ctrl_c(2)
    with pytest.raises(KeyboardInterrupt):
        est.cross_validate(frame, n_windows=2)
    lines = capsys.readouterr().err.strip().splitlines()
    assert sum("interrupted" in line for line in lines) == 1  # the outermost call's line
    assert lines[-1] == (
        "cross_validate interrupted (Ctrl-C) after 0 finished epochs of a fold's model; the "
        "Forecaster keeps its earlier state: the model it was fitted with before"
    )
    with pytest.raises(KeyboardInterrupt):
        est.tune(frame, n_trials=2, search_space={"d_model": [8, 16]}, pruner="none")
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tune interrupted (Ctrl-C) after 0 finished epochs of a trial's")
    assert est.module_ is module and not hasattr(est, "study_")
    est.predict()


def test_ctrl_c_is_silent_at_verbose_0(ctrl_c, capsys):
    ctrl_c(2)
    with pytest.raises(KeyboardInterrupt):
        tiny(verbose=0).fit(synthetic_frame())
    assert capsys.readouterr().err == ""


def test_other_exits_from_inside_fit_pass_unchanged():
    class Trainer:
        interrupted = False

    with pytest.raises(SystemExit), interruptible(Trainer()):
        raise SystemExit(3)
