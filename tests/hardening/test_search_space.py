"""Issue 16, item 10 (tuning): a search space is checked against the run config before the
first trial, so a misspelt key is one clear error instead of twenty failed trials."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.tuning.config_study import check_space, tune
from tsfm.tuning.space import parse_space

SPACES = [
    ({"model.d_modle": "choice(8, 16)"}, "model.d_modle.*did you mean model.d_model"),
    ({"model.d_model": "choice(8, eight)"}, "model.d_model: 'eight' does not fit"),
    ({"optim": "choice(adam_halving, adam_nope)"}, "optim: 'adam_nope' does not fit"),
    ({"optimiser": "choice(adam, sgd)"}, "search space key 'optimiser' is not in the run config"),
    # values of the right type that the run's checks, the model or the optimizer reject
    ({"model.d_model": "choice(16, -8)"}, "model.d_model: -8 does not fit.*would fail.*at least"),
    ({"model.dropout": "interval(0.0, 1.5)"}, r"model.dropout: 1.5 does .*must be in \[0, 1\)"),
    ({"optim.lr": "choice(-0.001)"}, "optim.lr: -0.001 does not fit.*must be a positive finite"),
    ({"data.batch_size": "choice(0, 32)"}, "data.batch_size: 0 does not fit.*at least one window"),
]


@pytest.mark.parametrize(("space", "message"), SPACES)
def test_python_m_tsfm_tune_checks_the_space_before_the_first_trial(tmp_path, space, message):
    overrides = [*TINY_ITRANSFORMER, *TINY_RUN, f"tune.dir={tmp_path}", "tune.n_trials=2"]
    cfg = compose_config(*overrides)
    cfg.tune.params = space
    with pytest.raises(ValueError, match=message):
        tune(cfg, overrides)
    assert not (tmp_path / "study.db").exists()  # no study, no trial


@pytest.mark.parametrize(("space", "message"), SPACES)
def test_forecaster_tune_checks_the_space_before_the_first_trial(space, message):
    est = tiny()
    with pytest.raises(ValueError, match=message):
        est.tune(synthetic_frame(240, 3), n_trials=2, search_space=space)
    assert not hasattr(est, "study_")


@pytest.mark.parametrize("model", ["itransformer", "s2ip_llm", "timesclip"])
def test_the_shipped_search_spaces_pass_the_check(model):
    """With the preset each space is written for (its header's command)."""
    overrides = [f"experiment={model}_etth1_96", f"hparams_search={model}"]
    cfg = compose_config(*overrides)
    check_space(cfg, overrides, parse_space(cfg.tune.params))


def test_a_value_is_refused_only_when_no_searched_value_builds_with_it():
    overrides = [*TINY_ITRANSFORMER, *TINY_RUN]  # d_model 8, n_heads 2
    cfg = compose_config(*overrides)
    # 9 needs 3 heads, 3 heads need d_model 9: each builds with a value of the other entry
    check_space(cfg, overrides, parse_space({"model.d_model": "choice(9, 16)",
                                             "model.n_heads": "choice(3, 4)"}))  # fmt: skip
    with pytest.raises(ValueError, match=r"model.d_model: 9 does not fit.*by n_heads \(2\)"):
        check_space(cfg, overrides, parse_space({"model.d_model": "choice(9, 16)",
                                                 "model.n_heads": "choice(4, 8)"}))  # fmt: skip


def test_a_user_written_value_too_long_for_the_look_back_is_named():
    overrides = ["model=s2ip_llm", "hparams_search=s2ip_llm"]  # data.seq_len 96, not 512
    cfg = compose_config(*overrides)
    space = parse_space({**cfg.tune.params, "model.trend_length": "choice(96, 192)"})
    with pytest.raises(ValueError, match=r"model.trend_length: 192 does not fit .*look-back \(96"):
        check_space(cfg, overrides, space)
