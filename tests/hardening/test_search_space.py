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
    overrides = [f"model={model}", f"hparams_search={model}"]
    cfg = compose_config(*overrides)
    check_space(cfg, overrides, parse_space(cfg.tune.params))
