"""A width a tuning trial draws trains by the small-data defaults a data-sized width gets
(the learning rate 1e-3 and the least optimizer steps: tsfm/estimator/small_data.py), unless
the user or the search set the rate or the budget; the tuned Forecaster keeps that
(tsfm/estimator/searched.py), so that its next fit, a clone's and a loaded one's repeat the
best trial, and a width the user sets afterwards keeps the paper's settings."""

from __future__ import annotations

import pickle
import warnings

import pytest
from sklearn.base import clone

from tests.helpers.data import synthetic_frame
from tsfm import Forecaster
from tsfm.estimator.params import build_config
from tsfm.estimator.searched import mark_searched

PRESET_LR = 1e-4  # iTransformer's paper rate (conf/optim/adam_halving.yaml)
WIDTH = {"d_model": [16], "d_ff": [16]}  # a searched width: one choice, one trial


def tuned(space: dict, **params) -> Forecaster:
    """A Forecaster tuned for one trial on 120 rows, the last 24 validating (65 training
    windows: 2 batches of 32 an epoch, 20 steps in the paper's 10 epochs)."""
    est = Forecaster(horizon=8, lookback=24, verbose=0, val_size=24, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the kept model's fit notes
        return est.tune(synthetic_frame(120, 2), n_trials=1, search_space=space, pruner="none")


def config(est: Forecaster):
    """The run config a fit of ``est`` on 65 training windows builds."""
    return build_config(est, freq="h", has_dates=True, time_col="date", n_windows=65)


def schedule(est: Forecaster) -> tuple[float, int]:
    cfg = config(est)
    return cfg.optim.lr, cfg.trainer.max_epochs


def test_a_searched_width_trains_by_the_data_sized_defaults_and_keeps_them(tmp_path):
    est = tuned(WIDTH)
    record = est.fit_metrics_  # the one trial's model, kept
    assert est.config_.model.d_model == 16
    assert record["lr"] == pytest.approx(1e-3)
    assert record["max_epochs"] == 50 and record["lr_halving_epochs"] == pytest.approx(5.0)
    assert record["step_budget"] == 100
    trial = (pytest.approx(1e-3), 50)  # what the tuned Forecaster's next fits train by
    assert schedule(est) == schedule(clone(est)) == trial
    assert schedule(pickle.loads(pickle.dumps(est))) == trial
    est.save(tmp_path / "tuned")
    assert schedule(Forecaster.load(tmp_path / "tuned")) == trial
    est.set_params(d_model=16)  # now the user's width: the paper's settings
    assert schedule(est) == (pytest.approx(PRESET_LR), 10)
    assert schedule(clone(est)) == (pytest.approx(PRESET_LR), 10)


def test_a_searched_learning_rate_is_kept_and_the_steps_still_reach_the_floor():
    record = tuned({**WIDTH, "lr": [3e-4]}).fit_metrics_
    assert record["lr"] == pytest.approx(3e-4)
    assert record["max_epochs"] == 50 and record["step_budget"] == 100


def test_a_searched_budget_is_kept():
    record = tuned({**WIDTH, "max_epochs": [2]}).fit_metrics_
    assert record["lr"] == pytest.approx(1e-3)  # the width is the search's: the default rate
    assert record["max_epochs"] == 2 and record["lr_halving_epochs"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (1e-3, 50)),  # the search's width alone: the defaults
        ({"lr": 2e-4}, (2e-4, 50)),  # the user's rate; the steps still reach the floor
        ({"optimizer": "sgd"}, (PRESET_LR, 50)),
        ({"max_epochs": 3}, (1e-3, 3)),  # the user's budget
        ({"optim__gamma": 0.9}, (1e-3, 10)),
    ],
)
def test_the_users_own_settings_beside_a_searched_width_are_kept(params, expected):
    est = Forecaster(horizon=8, lookback=24, d_model=16, d_ff=16, **params)
    mark_searched(est, ["d_model", "d_ff"])
    lr, epochs = schedule(est)
    assert (lr, epochs) == (pytest.approx(expected[0]), expected[1])


def test_a_width_the_user_chose_beside_a_searched_one_keeps_the_papers_settings():
    est = Forecaster(horizon=8, lookback=24, d_model=16, d_ff=32)
    mark_searched(est, ["d_model"])  # d_ff is the user's
    assert schedule(est) == (pytest.approx(PRESET_LR), 10)
