"""None for a setting that takes none (its config field is not Optional) is refused when it
is given, at construction and at set_params, naming the parameter and the values it takes;
settings that may be None (levels, season_length, max_epochs) still take it."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError

SMALL = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 16, "verbose": 0}


def test_set_params_refuses_conformal_windows_none_naming_zero_as_the_switch_off():
    est = Forecaster(horizon=4, lookback=8, conformal_windows=20, **SMALL)
    with pytest.raises(InputError) as err:
        est.set_params(conformal_windows=None, max_epochs=2)
    message = str(err.value)
    assert message.startswith("parameter 'conformal_windows' cannot be None: it sets ")
    assert "conformal.windows, which takes a whole number" in message
    assert "0 switches conformal calibration off" in message
    assert est.get_params()["conformal_windows"] == 20  # nothing changed
    assert est.get_params()["max_epochs"] == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [("conformal_windows", "a whole number"), ("lr", "a number"), ("d_model", "a whole number"),
     ("loss", "text"), ("optimizer__lr", None)],
)  # fmt: skip
def test_construction_refuses_none_for_settings_that_take_none(name, kind):
    if kind is None:  # no such setting: refused as such by the fit, not for its None
        est = Forecaster(horizon=4, **{name: None})
        with pytest.raises(InputError, match="has no setting 'optimizer' \\(did you mean 'optim'"):
            est.fit(pd.DataFrame({"ds": pd.date_range("2020", periods=40), "y": range(40)}))
        return
    with pytest.raises(InputError, match=rf"^parameter '{name}' cannot be None: .*takes {kind}"):
        Forecaster(horizon=4, **{name: None})


def test_settings_that_may_be_none_still_take_it():
    est = Forecaster(horizon=4, levels=None, season_length=None, max_epochs=None)
    est.set_params(levels=None, season_length=None, max_time=None)
    assert est.get_params()["season_length"] is None
