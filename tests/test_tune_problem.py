"""A resumed study ranks only trials of the same problem: search space, metric, validation
share and every unsearched setting; and tune never returns a best outside the space."""

from __future__ import annotations

import json

import optuna
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_tune import study_config
from tsfm.errors import InputError
from tsfm.tuning.config_study import tune
from tsfm.tuning.outputs import best_trial
from tsfm.tuning.space import in_space, parse_space


def storage_of(directory):
    return f"sqlite:///{directory / 'study.db'}"


def test_a_python_study_refuses_another_space_loss_or_validation_share(tmp_path):
    frame = synthetic_frame(150, 2)
    space = {"d_model": [8, 16]}
    tiny().tune(frame, n_trials=1, search_space=space, pruner="none", output_dir=tmp_path)
    refusals = [
        ({"search_space": {"d_model": [64]}}, r"search_space.model.d_model: .*\[8, 16\].* there"),
        ({"search_space": {"d_model": [8, 16], "dropout": 0.3}}, "model.dropout: 0.0 there, 0.3"),
        ({"val_size": 0.5}, r"val_size: 0.2 there, 0.5 here"),
        ({"metric": "fit_seconds"}, r"metric: 'val/best_loss' there, 'fit_seconds' here"),
    ]
    for options, difference in refusals:
        options = {"search_space": space, **options}
        with pytest.raises(ValueError, match=f"run on another problem \\({difference}"):
            tiny().tune(frame, n_trials=2, output_dir=tmp_path, pruner="none", **options)
    for est, difference in [
        (tiny(loss="mae"), "loss: 'mse' there, 'mae' here"),
        (tiny(n_heads=1), "model.n_heads: 2 there, 1 here"),
        (tiny(max_epochs=2), "trainer.max_epochs: 1 there, 2 here"),
    ]:
        with pytest.raises(ValueError, match=f"another problem \\({difference}"):
            est.tune(frame, n_trials=2, search_space=space, pruner="none", output_dir=tmp_path)
    # the same settings spelt otherwise (a default given explicitly) resume the study
    same = tiny(lr=1e-4).tune(frame, n_trials=1, search_space=space, output_dir=tmp_path)
    assert len(same.study_.trials) == 1


def test_the_command_line_study_records_its_search_space_and_metric(tmp_path):
    cfg, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    study, _ = tune(cfg, overrides)
    other, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    other.tune.params = {**other.tune.params, "model.d_model": "choice(32, 64)"}
    with pytest.raises(ValueError, match=r"another problem \(search_space.model.d_model: "):
        tune(other, overrides)
    other, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    other.tune.metric = "fit_seconds"
    with pytest.raises(ValueError, match=r"another problem \(metric: 'val/best_loss' there"):
        tune(other, overrides)
    other, overrides = study_config(tmp_path, "tune.n_trials=1", "model.n_heads=1")
    with pytest.raises(ValueError, match=r"another problem \(model.n_heads: 2 there, 1 here"):
        tune(other, overrides)


def test_the_best_trial_is_one_of_the_space_asked_for():
    space = parse_space({"model.d_model": [64], "model.dropout": 0.1})
    assert in_space({"model.d_model": 64}, space)
    assert not in_space({"model.d_model": 16}, space)
    assert not in_space({"model.d_model": 64, "optim.lr": 1e-3}, space)
    study = optuna.create_study()  # e.g. written before studies recorded their space
    study.enqueue_trial({"model.d_model": 16})
    study.optimize(lambda t: t.suggest_categorical("model.d_model", [8, 16]) / 10, n_trials=1)
    assert best_trial(study) is not None and best_trial(study, space) is None


def test_a_study_without_a_completed_trial_says_why_its_trials_failed():
    frame, space = synthetic_frame(150, 2), {"lr": [1e6]}  # the loss diverges at once
    with pytest.raises(RuntimeError, match=r"no trial .* completed .*trial 0: DivergedError: t"):
        tiny().tune(frame, n_trials=1, search_space=space, pruner="none")


def test_lookback_is_searched_and_every_lookback_scores_the_same_validation_targets(tmp_path):
    from tsfm.estimator.fitting import estimator_split

    n_rows, n_train, horizon = 150, 120, 8
    for lookback in (12, 24, 48):  # the look-back reaches into the training rows
        start, end = estimator_split(n_rows, n_train, lookback, True).val
        assert start + lookback == n_train and end == n_rows  # the first target, the last row
    space = {"lookback": [12, 24], "d_model": [8]}
    est = tiny().tune(synthetic_frame(150, 2), n_trials=2, search_space=space, pruner="none")
    best = est.study_.best_trial.params["data.seq_len"]
    assert est.best_params_["lookback"] == est.lookback == est.config_.data.seq_len == best
    assert len(est.predict()) == horizon
    assert est.study_.study_name == "itransformer_lookbacks_8"  # not the best lookback's name
    for key, reason in [
        ("horizon", "run one study per horizon"),
        ("val_size", "pass val_size=... to tune"),
        ("targets", "only lookback can"),
    ]:
        with pytest.raises(ValueError, match=f"key '{key}' cannot be searched.*{reason}"):
            tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space={key: [1, 2]})
    with pytest.raises(ValueError, match="lookback: 0 is not a positive whole number"):
        tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space={"lookback": [0, 24]})


def test_a_command_line_study_refuses_to_resume_on_a_file_rewritten_in_place(tmp_path):
    path = tmp_path / "data.csv"
    synthetic_frame(200, 2).to_csv(path, index=False)
    extra = ("data=custom", f"data.path={path}", "data.target=OT", "trainer.max_epochs=1")
    study, _ = tune(*study_config(tmp_path, "tune.n_trials=1", *extra))
    recorded = json.loads(study.user_attrs["problem"])["data_sha256"]
    metrics = json.loads((tmp_path / "trials" / "0000" / "metrics.json").read_text())
    assert recorded == metrics["data_sha256"]  # the digest each trial's metrics.json holds
    resumed, _ = tune(*study_config(tmp_path, "tune.n_trials=2", *extra))  # the same file
    assert len(resumed.trials) == 2
    changed = synthetic_frame(200, 2)
    changed["OT"] = changed["OT"].to_numpy()[::-1]  # the same path, other values
    changed.to_csv(path, index=False)
    refused = rf"run on other data \(SHA-256 {recorded[:12]}\.\.\. there, [0-9a-f]{{12}}\.\.\. here"
    with pytest.raises(InputError, match=refused + r".*Give it the data it was run on, or name"):
        tune(*study_config(tmp_path, "tune.n_trials=3", *extra))
    assert (
        len(optuna.load_study(study_name=study.study_name, storage=storage_of(tmp_path)).trials)
        == 2
    )


def test_a_study_recorded_without_the_datas_digest_resumes_and_records_it(tmp_path):
    from tsfm.tuning.problem import check_problem, problem_text  # moved there with the check

    study = optuna.create_study(study_name="old")
    problem = {"metric": "val/best_loss", "model.d_model": 8}
    study.set_user_attr("problem", problem_text(problem))  # as a tsfm before the digest wrote
    check_problem(study, {**problem, "data_sha256": "ab" * 32}, "memory")
    assert json.loads(study.user_attrs["problem"])["data_sha256"] == "ab" * 32
    with pytest.raises(InputError, match=r"other data \(SHA-256 abababababab\.\.\. there, cd"):
        check_problem(study, {**problem, "data_sha256": "cd" * 32}, "memory")
    with pytest.raises(
        InputError, match=r"another problem \(data_sha256: abababababab\.\.\. there, cdcd"
    ):
        check_problem(study, {**problem, "model.d_model": 16, "data_sha256": "cd" * 32}, "m")
