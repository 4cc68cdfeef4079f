"""``Forecaster.tune`` from Python: search spaces in Python's own terms, panels, and fixed
entries that the best settings keep."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_covariates import TINY_IT, panel_frame
from tests.test_tune import study_config
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.tuning.config_study import tune
from tsfm.tuning.space import fixed_values, parse_space


def test_lists_and_optuna_distributions_are_search_entries_and_tuples_are_refused():
    lr = FloatDistribution(1e-4, 1e-2, log=True)
    space = parse_space({"a": [8, 16], "b": lr, "c": 0.1, "d": "choice(1, 2)"})
    assert space == {"a": CategoricalDistribution([8, 16]), "b": lr, "c": 0.1, "d": space["d"]}
    assert fixed_values(space) == {"c": 0.1}
    with pytest.raises(ValueError, match="ambiguous; a list is a choice.*interval\\(low, high\\)"):
        parse_space({"lr": (1e-4, 1e-2)})
    with pytest.raises(ValueError, match="an empty list"):
        parse_space({"a": []})


def test_parameter_names_groups_and_fixed_values_end_in_the_best_parameters(tmp_path):
    space = {
        "d_model": [8, 16],
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
        "optim": "choice(adam_halving, adamw_cosine)",
        "dropout": 0.25,  # fixed: every trial, and the best parameters, hold it
    }
    est = tiny(max_epochs=1, overrides=["optim=adam_halving"]).tune(
        synthetic_frame(200, 2), n_trials=2, search_space=space, pruner="none",
        output_dir=tmp_path,
    )  # fmt: skip
    best = est.study_.best_trial
    assert est.best_params_["dropout"] == est.get_params()["dropout"] == 0.25
    assert est.config_.model.dropout == 0.25  # the kept model trained with it
    assert est.get_params()["val_size"] == 0.2  # what the trials validated on: a refit does too
    assert len(est.predict()) == 8  # the parameters still describe the kept model
    assert est.best_params_["overrides"] == [f"optim={best.params['optim']}"]  # not twice
    assert est.best_params_["d_model"] == best.params["model.d_model"]
    preset = tmp_path / "experiment" / "itransformer_custom_8_tuned.yaml"
    tuned = compose_config(f"hydra.searchpath=[file://{tmp_path}]", f"experiment={preset.stem}")
    assert tuned.model.dropout == 0.25
    optimizer = {"adam_halving": "adam", "adamw_cosine": "adamw"}[best.params["optim"]]
    assert tuned.optim.optimizer == optimizer  # the searched group is chosen, and
    assert tuned.optim.lr == pytest.approx(best.params["optim.lr"])  # its lr the best one


def test_the_command_lines_best_preset_keeps_the_fixed_entries(tmp_path):
    cfg, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    cfg.tune.params = {**cfg.tune.params, "model.dropout": "0.3"}
    _, outputs = tune(cfg, overrides)
    preset = outputs["experiment"]
    tuned = compose_config(
        f"hydra.searchpath=[file://{preset.parent.parent}]", f"experiment={preset.stem}"
    )
    assert tuned.model.dropout == 0.3


def test_independent_panels_are_tuned_per_series():
    panel = panel_frame(lengths=(120, 90, 60))
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"],
        static_covariates=["store"], **TINY_IT,
    ).tune(panel, n_trials=2, search_space={"d_model": [8, 16]}, pruner="none")  # fmt: skip
    assert est.mode_ == "independent" and est.series_ == ["s0", "s1", "s2"]
    assert est.val_size == 0.2  # the trials' validation share: a refit of est does the same
    assert est.best_params_["d_model"] == est.config_.model.d_model
    future = est.make_future_dataframe().assign(promo=0.0)
    assert len(est.predict(future_df=future)) == 18
    with pytest.raises(ValueError, match="last val_size rows of each series"):
        est.tune(panel, n_trials=1, val_df=panel)


def test_tuned_parameters_describe_the_kept_model_with_fixed_groups_and_numpy_numbers(tmp_path):
    space = {"optim": "choice(adam_halving, adamw_cosine)", "logger": "none", "d_model": [8, 16]}
    frame = synthetic_frame(200, 2)
    est = tiny(max_epochs=1, d_ff=np.int64(16))
    est.set_params(lookback=np.int64(24), horizon=np.int64(8))
    est.tune(frame, n_trials=2, search_space=space, pruner="none", output_dir=tmp_path)
    assert len(est.predict()) == 8  # its overrides in the trials' order: nothing "changed"
    assert (tmp_path / "experiment" / "itransformer_custom_8_tuned.yaml").is_file()
    again = tiny(max_epochs=1, d_ff=16).tune(  # plain ints: the same problem, resumed
        frame, n_trials=3, search_space=space, pruner="none", output_dir=tmp_path
    )
    assert len(again.study_.trials) == 3


def test_workers_may_load_the_data_differently_and_join_one_study():
    from tsfm.tuning.problem import study_problem

    space = parse_space({"model.d_model": "choice(8, 16)"})
    plain = study_problem(compose_config(), space, "val/best_loss")
    loader = "data.num_workers=2", "data.pin_memory=true", "data.eval_batch_size=512"
    assert study_problem(compose_config(*loader), space, "val/best_loss") == plain
    assert study_problem(compose_config("data.batch_size=64"), space, "val/best_loss") != plain


@pytest.mark.parametrize("n_trials", [0, -1, 2.5, True])
def test_fewer_than_one_trial_is_refused_before_the_study_naming_the_parameter(tmp_path, n_trials):
    with pytest.raises(ValueError, match=r"^n_trials must be a whole number of trials, at lea"):
        tiny().tune(synthetic_frame(150, 2), n_trials=n_trials, output_dir=tmp_path / "py")
    cfg, overrides = study_config(tmp_path / "cli", "tune.n_trials=0")
    with pytest.raises(ValueError, match=r"^tune.n_trials must be a whole number .* got 0"):
        tune(cfg, overrides)
    assert not (tmp_path / "py").exists() and not (tmp_path / "cli").exists()  # no study


@pytest.mark.parametrize("verbose", [0, 2])
def test_a_failed_trial_is_one_line_its_reason_and_verbose_2_adds_the_traceback(verbose):
    import logging

    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(logging.Formatter().format(record))
    logging.getLogger("optuna").addHandler(handler)
    try:
        with pytest.raises(RuntimeError, match="no trial"):  # the loss diverges at once
            tiny(verbose=verbose).tune(synthetic_frame(150, 2), n_trials=1, pruner="none",
                                       search_space={"lr": [1e6]})  # fmt: skip
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    failed = [line for line in lines if line.startswith("Trial 0 failed")]
    assert failed[0].startswith(
        "Trial 0 failed with parameters: {'optim.lr': 1000000.0} because of the following "
        "error: DivergedError('training diverged: the training loss is nan"
    )
    if verbose == 0:
        assert failed == [failed[0].splitlines()[0]]  # one line: no traceback, no "value None"
    else:
        assert "Traceback" in failed[0] and len(failed) == 2
