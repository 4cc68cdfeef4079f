"""The Forecaster's training defaults where it sizes the model by the data
(``tsfm/estimator/small_data.py``): the learning rate, the least optimizer steps, and what
``fit_metrics_`` records."""

from __future__ import annotations

import warnings

import pytest

from tests.helpers.data import synthetic_frame
from tsfm import Forecaster
from tsfm.estimator.params import build_config

PRESET_LR = 1e-4  # iTransformer's (conf/optim/adam_halving.yaml), the paper's


def config(n_windows: int = 89, model: str = "itransformer", **params):
    """The run config a fit of ``n_windows`` training windows builds."""
    est = Forecaster(model, horizon=8, lookback=24, **params)
    return build_config(est, freq="h", has_dates=True, time_col="date", n_windows=n_windows)


def test_a_data_sized_model_trains_at_1e_3():
    assert config().optim.lr == pytest.approx(1e-3)
    assert config(n_windows=100_000).optim.lr == pytest.approx(1e-3)  # wider, still sized


@pytest.mark.parametrize(
    ("params", "lr"),
    [
        ({"lr": 3e-4}, 3e-4),
        ({"learning_rate": 3e-4}, 3e-4),
        ({"optim__lr": 3e-4}, 3e-4),
        ({"overrides": ["optim.lr=3e-4"]}, 3e-4),
        ({"optimizer": "sgd"}, PRESET_LR),  # another optimizer: the preset's rate
        ({"overrides": ["optim=adam_decay09"]}, PRESET_LR),
        ({"d_model": 32, "d_ff": 32}, PRESET_LR),  # a width the user chose: the paper's rate
    ],
)
def test_the_users_choices_keep_their_learning_rate(params, lr):
    assert config(**params).optim.lr == pytest.approx(lr)


def test_models_not_sized_by_width_keep_their_presets():
    assert config(model="s2ip_llm").optim.lr == pytest.approx(PRESET_LR)
    assert config(experiment="itransformer_etth1_96").optim.lr == pytest.approx(PRESET_LR)


def test_a_tiny_frame_gets_100_steps_over_the_papers_schedule_stretched():
    cfg = config()  # 89 windows: 2 batches of 32 an epoch, 20 steps in 10 epochs
    assert cfg.trainer.max_epochs == 50  # 5 times the epochs: 100 steps
    assert cfg.optim.decay_start_epoch == 5 and cfg.optim.gamma == pytest.approx(0.5**0.2)
    assert cfg.callbacks.early_stopping.patience == 15  # 3 of the paper's epochs
    kept_lr = config(lr=PRESET_LR, patience=4)  # the rate and patience chosen, not the budget
    assert kept_lr.trainer.max_epochs == 50 and kept_lr.optim.lr == pytest.approx(PRESET_LR)
    assert kept_lr.callbacks.early_stopping.patience == 4


@pytest.mark.parametrize("n_windows", [2_000, 100_000])
def test_frames_with_enough_steps_keep_the_papers_schedule(n_windows):
    cfg = config(n_windows=n_windows)
    assert (cfg.trainer.max_epochs, cfg.optim.decay_start_epoch) == (10, 1)
    assert cfg.optim.gamma == 0.5 and cfg.callbacks.early_stopping.patience == 3
    assert config(batch_size=8).trainer.max_epochs == 10  # 11 batches an epoch: 110 steps


@pytest.mark.parametrize(
    "params",
    [
        {"max_epochs": 10},
        {"trainer__max_steps": 40},
        {"scheduler": "none"},
        {"optim__gamma": 0.9},
        {"overrides": ["optim=adam_decay09"]},
        {"overrides": ["trainer.max_epochs=10"]},
        {"trainer__limit_train_batches": 1},
        {"d_model": 32, "d_ff": 32},
    ],
)
def test_the_users_budget_or_schedule_is_kept(params):
    cfg = config(**params)
    assert cfg.trainer.max_epochs == 10 and cfg.optim.decay_start_epoch == 1


def test_a_tiny_frame_trains_under_the_defaults_and_fit_metrics_say_how():
    """89 training windows, 2 batches an epoch: the paper's 1e-4 halved every epoch leaves
    the model where it started (in-sample scaled MSE ~1, as a forecast of the mean); the
    defaults fit the seasonal series."""
    frame = synthetic_frame(120, 2)

    def in_sample_mse(est: Forecaster) -> float:
        with warnings.catch_warnings():  # in-sample, and the metrics a short frame lacks
            warnings.simplefilter("ignore")
            return est.fit(frame).evaluate(frame)["mse"]

    paper = Forecaster(horizon=8, lookback=24, verbose=0, lr=PRESET_LR, max_epochs=10)
    assert in_sample_mse(paper) > 0.6
    est = Forecaster(horizon=8, lookback=24, verbose=0)
    assert in_sample_mse(est) < 0.3
    record = est.fit_metrics_
    assert record["lr"] == pytest.approx(1e-3) and record["scheduler"] == "exponential"
    assert record["lr_halving_epochs"] == pytest.approx(5.0)
    assert record["steps"] == record["step_budget"] == 100 and record["max_epochs"] == 50
    assert record["schedule_stretch"] == pytest.approx(5.0)  # what the fit warnings advise by
    assert paper.fit_metrics_["schedule_stretch"] is None
    assert paper.fit_metrics_["lr"] == pytest.approx(PRESET_LR)
    assert paper.fit_metrics_["step_budget"] == 20 and paper.fit_metrics_["max_epochs"] == 10


def test_fit_metrics_record_a_step_cap():
    est = Forecaster(horizon=8, lookback=24, verbose=0, max_epochs=3, trainer__max_steps=4)
    record = est.fit(synthetic_frame(120, 2)).fit_metrics_
    assert record["step_budget"] == record["steps"] == 4 and record["max_epochs"] == 3
