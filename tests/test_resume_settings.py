"""The command line's ways to continue a run (``ckpt_path``, ``resume``) are refused where a
Forecaster is given them, pointing to what a Forecaster does instead (Lightning would restore
the epoch counter with the weights and train nothing, and the model saved would not load)."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster

WARM = "warm_start=True"  # what the refusals point a Forecaster user to


@pytest.mark.parametrize("override", ["ckpt_path=/tmp/x/last.ckpt", "resume=true", "+resume=1"])
def test_the_command_lines_resume_settings_are_refused_when_given(override):
    key = override.lstrip("+").split("=")[0]
    with pytest.raises(ValueError, match=rf"override '\+?{key}=.*' sets {key}.*{WARM}"):
        Forecaster(horizon=8, overrides=[override])
    est = Forecaster(horizon=8)
    with pytest.raises(ValueError, match=rf"sets {key}.*python -m tsfm.run.*{WARM}"):
        est.set_params(overrides=["optim=adamw_cosine", override])
    assert est.overrides is None  # nothing changed by the refused call
    est.overrides = [override]  # set behind set_params' back: fit still refuses it
    with pytest.raises(ValueError, match=rf"sets {key}.*from_run"):
        est.fit(synthetic_frame(120))


@pytest.mark.parametrize("name", ["ckpt_path", "resume"])
def test_resume_settings_are_refused_as_parameters_and_search_keys(name):
    with pytest.raises(ValueError, match=rf"parameter '{name}' sets {name}.*{WARM}"):
        Forecaster(horizon=8, **{name: "x"})
    with pytest.raises(ValueError, match=rf"parameter '{name}' sets {name}"):
        Forecaster(horizon=8).set_params(**{name: "x"})
    with pytest.raises(ValueError, match=rf"sets {name}.*{WARM}"):
        tiny().tune(synthetic_frame(120), n_trials=1, search_space={name: [True, False]})
