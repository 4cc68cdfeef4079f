"""Issue 16, item 4: a run whose loss turns NaN or infinite stops and reports no number: a
non-zero exit in the CLI, an exception in Python, a failed trial in tuning."""

from __future__ import annotations

import math
from types import SimpleNamespace

import optuna
import pytest
import torch
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tests.helpers.strict_json import read_strict_json
from tsfm.config import compose_config
from tsfm.training.divergence import DivergedError, StopOnDivergence
from tsfm.tuning.config_study import tune
from tsfm.tuning.outputs import best_trial
from tsfm.tuning.study import objective_value

DIVERGING = "optim.lr=1e6"  # the tiny model's loss is NaN by its second batch


def test_the_cli_stops_a_diverged_run_with_a_non_zero_exit_and_no_numbers(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli(
        *TINY_ITRANSFORMER, *TINY_RUN, DIVERGING, f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert proc.returncode != 0
    assert "training diverged: the training loss is nan at batch" in proc.stderr
    assert "learning rate too high (optim.lr)" in proc.stderr
    metrics = read_strict_json(run_dir / "metrics.json")
    assert metrics["status"] == "diverged" and "training diverged" in metrics["error"]
    assert not any(key.startswith(("test/", "val/")) for key in metrics)


def test_the_forecaster_raises_instead_of_forecasting_nan():
    with pytest.raises(DivergedError, match="training diverged.*optim.lr"):
        tiny(lr=1e6, max_epochs=2).fit(synthetic_frame(240, 3))


def test_a_nan_validation_loss_stops_training_naming_the_epoch():
    callback = StopOnDivergence()
    trainer = SimpleNamespace(
        sanity_checking=False,
        callback_metrics={"val/loss": torch.tensor(float("inf"))},
        current_epoch=4,
        global_step=120,
    )
    with pytest.raises(DivergedError, match="validation loss is inf after epoch 4"):
        callback.on_validation_end(trainer, None)
    trainer.callback_metrics["val/loss"] = torch.tensor(0.5)
    callback.on_validation_end(trainer, None)  # a finite loss passes


def test_on_an_accelerator_the_first_bad_step_is_kept_on_device_and_read_periodically():
    callback = StopOnDivergence(deferred=True)  # what a GPU run does, without a GPU
    trainer = SimpleNamespace(global_step=0, log_every_n_steps=5, current_epoch=0)
    losses = [0.9, 0.8, float("nan"), 0.7]  # NaN at the third batch; step 4 reads nothing yet
    for batch_idx, value in enumerate(losses):
        trainer.global_step = batch_idx + 1
        callback.on_train_batch_end(trainer, None, torch.tensor(value), None, batch_idx)
    trainer.global_step = 5  # the check interval: the recorded step is read
    with pytest.raises(DivergedError, match="is not finite in epoch 0, after 2 optimizer"):
        callback.on_train_batch_end(trainer, None, torch.tensor(0.6), None, 4)


def test_diverged_trials_fail_and_never_become_the_best_preset(tmp_path):
    overrides = [*TINY_ITRANSFORMER, *TINY_RUN, f"tune.dir={tmp_path}", "tune.n_trials=1"]
    cfg = compose_config(*overrides)
    cfg.tune.params = {"optim.lr": "choice(1e6)"}
    with pytest.raises(RuntimeError, match=r"no trial .*trial 0: DivergedError: training diverg"):
        tune(cfg, overrides)
    study = optuna.load_study(
        study_name="itransformer_etth1_24_8", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert "training diverged" in study.trials[0].user_attrs["error"]
    assert not (tmp_path / "experiment").exists()  # no preset, but the trials are listed
    assert (
        tmp_path / "results.txt"
    ).read_text() == f"study '{study.study_name}': 1 fail; no trial finished\n"


def test_non_finite_values_are_never_ranked():
    study = optuna.create_study()
    lr = {"optim.lr": FloatDistribution(1e-5, 1e7, log=True)}
    study.add_trial(create_trial(params={"optim.lr": 1e6}, distributions=lr, value=math.inf))
    assert best_trial(study) is None  # a study written before diverged trials failed
    study.add_trial(create_trial(params={"optim.lr": 1e-3}, distributions=lr, value=0.7))
    assert best_trial(study).params["optim.lr"] == 1e-3
    with pytest.raises(ValueError, match="is inf: a diverged trial is failed"):
        objective_value({"val/best_loss": math.inf}, "val/best_loss")
