"""Two workers opening one NEW stored study at the same instant on other data: Optuna has no
atomic insert, so both may record their problem (its data's SHA-256), the later write standing.
The worker whose record does not stand stops at the latest at its next trial, before or right
after training it, so the study never ranks a trial of another problem. The interleavings are
made one after another through one SQLite storage (no real race)."""

from __future__ import annotations

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.trial import TrialState

import tsfm.tuning.problem as problem_module
from tsfm.errors import InputError
from tsfm.tuning.config import TuneConfig
from tsfm.tuning.problem import problem_text, recorded_check
from tsfm.tuning.space import parse_space
from tsfm.tuning.study import open_study, run_trials

SPACE = parse_space({"model.d_model": [8, 16]})
A = {"metric": "val/best_loss", "data_sha256": "a" * 64}
B = {"metric": "val/best_loss", "data_sha256": "b" * 64}


@pytest.fixture(autouse=True)
def no_settling(monkeypatch):
    monkeypatch.setattr(problem_module, "RECORD_SETTLE_SECONDS", 0.0)


def _open(url: str, problem: dict) -> optuna.Study:
    tune = OmegaConf.structured(TuneConfig)
    tune.study_name, tune.heartbeat_seconds = "shared", None
    return open_study(tune, url, seed=0, problem=problem)


def _trials(trained: list, side_effect=None):
    def train_trial(trial, values, callbacks) -> float:
        trained.append(trial.number)
        if side_effect is not None:
            side_effect()
        return float(values["model.d_model"])

    return train_trial


def _late_write(url: str, problem: dict) -> None:
    """Worker B, which read no record before A wrote its own, writing B's after A read its
    back (as recorded_problem does after finding none)."""
    study = optuna.load_study(study_name="shared", storage=url)
    study.set_user_attr("problem", problem_text(problem))


def test_a_worker_whose_record_was_overwritten_stops_before_its_first_trial(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a = _open(url, A)  # created, recorded A, read A back
    _late_write(url, B)  # B's write lands after A's check
    b = _open(url, B)  # B reads its own back: it goes on
    trained_a, trained_b = [], []
    with pytest.raises(InputError, match="other data") as refused:
        run_trials(a, SPACE, _trials(trained_a), 2, recheck=recorded_check(a, A, url))
    assert "another worker" in str(refused.value) and "study_name" in str(refused.value)
    assert trained_a == [] and a.trials == []  # stopped before any trial
    run_trials(b, SPACE, _trials(trained_b), 2, recheck=recorded_check(b, B, url))
    assert len(trained_b) == 2


def test_an_overwrite_during_a_trial_fails_that_trial_instead_of_ranking_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a = _open(url, A)
    trained = []
    with pytest.raises(InputError, match="other data"):
        run_trials(
            a, SPACE, _trials(trained, lambda: _late_write(url, B)), 3,
            recheck=recorded_check(a, A, url),
        )  # fmt: skip
    assert trained == [0]  # it stopped after the trial during which B wrote
    assert [t.state for t in a.trials] == [TrialState.FAIL]  # never ranked
    assert "other data" in a.trials[0].user_attrs["error"]


def test_an_overwrite_during_a_pruned_trial_fails_that_trial_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a = _open(url, A)
    trained = []

    def pruned(trial, values, callbacks) -> float:
        trained.append(trial.number)
        trial.report(1.0, 0)
        _late_write(url, B)
        raise optuna.TrialPruned()

    with pytest.raises(InputError, match="other data"):
        run_trials(a, SPACE, pruned, 3, recheck=recorded_check(a, A, url))
    assert trained == [0]  # stopped after it: not counted, feeding no pruner
    assert [t.state for t in a.trials] == [TrialState.FAIL]
    assert "other data" in a.trials[0].user_attrs["error"]


def test_a_write_during_the_settling_is_refused_when_the_study_opens(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    monkeypatch.setattr(problem_module.time, "sleep", lambda seconds: _late_write(url, B))
    with pytest.raises(InputError, match="was run on other data"):
        _open(url, A)


def test_workers_of_one_problem_and_an_in_memory_study_go_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a, b = _open(url, A), _open(url, A)
    trained = []
    run_trials(a, SPACE, _trials(trained), 1, recheck=recorded_check(a, A, url))
    run_trials(b, SPACE, _trials(trained), 2, recheck=recorded_check(b, A, url))
    assert len(trained) == 2
    memory = optuna.create_study()
    assert recorded_check(memory, A, "memory") is None  # no other worker to check for
