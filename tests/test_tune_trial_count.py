"""``n_trials`` counts finished trials: a failed trial is replaced by another, up to a cap of
as many failures as the run had trials missing, and the run says when the cap stopped it."""

from __future__ import annotations

import logging

import optuna
from optuna.trial import TrialState

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm.tuning.space import parse_space
from tsfm.tuning.study import run_trials

SPACE = parse_space({"model.d_model": [8, 16]})


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.trials]


def failing(numbers: set[int] | None = None):
    """A trial that fails (as a diverged one does) when its number is in ``numbers``
    (every trial with None), else completes."""

    def train_trial(trial, values, callbacks) -> float:
        if numbers is None or trial.number in numbers:
            raise ValueError("training diverged")
        return float(values["model.d_model"])

    return train_trial


def test_failed_trials_are_replaced_until_the_study_holds_n_finished_ones():
    study = optuna.create_study()
    run_trials(study, SPACE, failing({0, 2}), n_trials=3)
    assert states(study) == ["FAIL", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    run_trials(study, SPACE, failing(), n_trials=4, worker_trials=1)  # worker_trials caps
    assert states(study)[5:] == ["FAIL"]  # the trials started, failed ones included


def test_a_run_stops_after_as_many_failures_as_trials_missing_and_says_so(caplog, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"  # stored: a rerun continues it
    study = optuna.create_study(study_name="s", storage=storage)
    run_trials(study, SPACE, failing({1}), n_trials=1)  # one finished, then 3 missing
    with caplog.at_level(logging.WARNING, logger="tsfm.tuning.study"):
        run_trials(study, SPACE, failing(), n_trials=4)
    assert states(study) == ["COMPLETE", "FAIL", "FAIL", "FAIL"]
    assert (
        "study 's' holds 1 finished trials of the 4 asked: this run stopped after 3 failed trials"
        in caplog.text
        and "run the same command again to add the rest" in caplog.text
    )
    run_trials(study, SPACE, failing(set()), n_trials=4)  # a rerun adds the rest
    assert states(study)[4:] == ["COMPLETE"] * 3


def test_forecaster_tune_holds_n_finished_trials_though_some_diverge():
    frame = synthetic_frame(150, 2)
    space = {"lr": [1e9, 1e-3]}  # a trial drawing 1e9 diverges and fails
    f = tiny().tune(frame, n_trials=2, search_space=space, pruner="none", seed=1)
    finished = [t for t in f.study_.trials if t.state == TrialState.COMPLETE]
    assert len(finished) == 2 and TrialState.FAIL in {t.state for t in f.study_.trials}


def test_a_study_in_memory_is_not_said_to_continue_on_a_rerun(caplog):
    """A rerun of an in-memory study (Forecaster.tune without storage) starts afresh."""
    study = optuna.create_study(study_name="m")
    with caplog.at_level(logging.WARNING, logger="tsfm.tuning.study"):
        run_trials(study, SPACE, failing(), n_trials=2)
    assert "holds 0 finished trials of the 2 asked" in caplog.text
    assert "run the same command again" not in caplog.text
