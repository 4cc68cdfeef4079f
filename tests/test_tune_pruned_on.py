"""A study records what its trials are pruned on (``pruned_on``): resumed by a run that prunes
on another value, its pruner would compare epoch values in other units, so it is refused
before any trial; a study stored before the record pruned on val/loss; without a pruner
nothing is compared and it resumes."""

from __future__ import annotations

import optuna
import pytest
from omegaconf import OmegaConf

import tsfm.tuning.problem as problem_module
import tsfm.tuning.study as study_module
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_tune import study_config
from tsfm.errors import InputError
from tsfm.tuning.config import TuneConfig
from tsfm.tuning.config_study import tune
from tsfm.tuning.space import parse_space
from tsfm.tuning.study import open_study, run_trials

SPACE = parse_space({"model.d_model": [8, 16]})
PROBLEM = {"metric": "best/val/mae_original"}
REFUSED = (
    r"study 'stored' in sqlite:///.* pruned its trials on val/loss{}, and this run prunes on "
    r"val/mae_original .*Start a new study for this metric and search space "
    r"\(tune.study_name=\.\.\.[^)]*\), or resume this one without pruning \(tune.pruner=none\)"
)
STORED_BEFORE = r" \(stored before tsfm recorded it, when every study pruned on it\)"


@pytest.fixture(autouse=True)
def no_settling(monkeypatch):
    monkeypatch.setattr(problem_module, "RECORD_SETTLE_SECONDS", 0.0)


def _open(url: str, pruned_on: str | None, pruner: str = "median") -> optuna.Study:
    settings = OmegaConf.structured(TuneConfig)
    settings.study_name, settings.heartbeat_seconds, settings.pruner = "stored", None, pruner
    return open_study(settings, url, seed=0, problem=PROBLEM, pruned_on=pruned_on)


def _run(study: optuna.Study, n_trials: int, trained: list) -> None:
    def train_trial(trial, values, callbacks) -> float:
        trained.append(trial.number)
        trial.report(float(values["model.d_model"]), 0)  # an epoch value, as the callback's
        return float(values["model.d_model"])

    run_trials(study, SPACE, train_trial, n_trials)


def _old_study(url: str) -> None:
    """Two trials with epoch values, stored without a ``pruned_on`` record (a tsfm before it,
    which pruned every study on val/loss)."""
    _run(_open(url, pruned_on=None), 2, [])
    assert "pruned_on" not in optuna.load_study(study_name="stored", storage=url).user_attrs


def test_a_stored_study_resumed_with_another_pruning_value_is_refused_before_any_trial(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = _open(url, "val/loss")
    _run(study, 2, [])
    assert study.user_attrs["pruned_on"] == "val/loss"  # recorded when it was created
    with pytest.raises(InputError, match=REFUSED.format("")):
        _open(url, "val/mae_original")
    assert len(optuna.load_study(study_name="stored", storage=url).trials) == 2
    for pruner in ("hyperband",):
        with pytest.raises(InputError, match=f"the {pruner} pruner would compare"):
            _open(url, "val/mae_original", pruner)
    resumed, trained = _open(url, "val/loss"), []  # the value it was run with: resumes
    _run(resumed, 3, trained)
    assert trained == [2]


def test_a_study_stored_before_the_record_resumes_on_val_loss_and_refuses_another(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _old_study(url)
    with pytest.raises(InputError, match=REFUSED.format(STORED_BEFORE)):
        _open(url, "val/mae_original")
    assert "pruned_on" not in optuna.load_study(study_name="stored", storage=url).user_attrs
    resumed, trained = _open(url, "val/loss"), []
    assert resumed.user_attrs["pruned_on"] == "val/loss"  # recorded now
    _run(resumed, 3, trained)
    assert trained == [2]


def test_without_a_pruner_nothing_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    _old_study(url)
    resumed, trained = _open(url, "val/mae_original", pruner="none"), []
    assert resumed.user_attrs["pruned_on"] == "val/loss"  # what its epoch values are in
    _run(resumed, 3, trained)
    assert trained == [2]


def test_a_new_study_records_this_runs_value_and_a_trial_less_one_takes_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert _open(url, "val/mae_original").user_attrs["pruned_on"] == "val/mae_original"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _open(other, pruned_on=None)  # stored before the record, but no trial reported a value
    assert _open(other, "val/mae_original").user_attrs["pruned_on"] == "val/mae_original"


def test_the_command_line_refuses_an_old_study_ranked_by_an_original_error(tmp_path, monkeypatch):
    extra = (
        "trainer.max_epochs=1", "callbacks.checkpoint.monitor=val/mae_original",
        "tune.metric=best/val/mae_original",
    )  # fmt: skip
    with monkeypatch.context() as old:  # a tsfm before the record: pruned on val/loss
        old.setattr(study_module, "check_pruned_on", lambda *args: None)
        study, _ = tune(*study_config(tmp_path, "tune.n_trials=1", *extra))
    assert "pruned_on" not in study.user_attrs
    with pytest.raises(InputError, match=REFUSED.format(STORED_BEFORE).replace("'stored'", ".*")):
        tune(*study_config(tmp_path, "tune.n_trials=2", *extra))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    assert len(optuna.load_study(study_name=study.study_name, storage=storage).trials) == 1
    resumed, _ = tune(*study_config(tmp_path, "tune.n_trials=2", "tune.pruner=none", *extra))
    assert len(resumed.trials) == 2


def test_forecaster_tune_refuses_an_old_study_ranked_by_an_original_error(tmp_path, monkeypatch):
    est, frame = (
        tiny(callbacks__checkpoint__monitor="val/mae_original", verbose=0),
        synthetic_frame(150, 2),
    )
    options = {
        "search_space": {"d_model": [8, 16]}, "metric": "best/val/mae_original",
        "storage": f"sqlite:///{tmp_path / 'study.db'}", "study_name": "stored", "refit": False,
    }  # fmt: skip
    with monkeypatch.context() as old:  # a tsfm before the record: pruned on val/loss
        old.setattr(study_module, "check_pruned_on", lambda *args: None)
        est.tune(frame, n_trials=1, **options)
    refused = (
        STORED_BEFORE + r", and this run prunes on val/mae_original .*Start a new study for "
        r"this metric and search space \(study_name=\.\.\.\), or resume this one without "
        r"pruning \(pruner='none'\)"
    )
    with pytest.raises(InputError, match=refused):
        est.tune(frame, n_trials=2, **options)
    assert len(est.study_.trials) == 1
    est.tune(frame, n_trials=2, pruner="none", **options)
    assert len(est.study_.trials) == 2
