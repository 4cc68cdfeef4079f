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


def test_the_refusal_names_no_preset_number_as_the_default():
    """A Forecaster sizes d_model and lr from the data where they are left out; the preset's
    512 or 1e-4 is not what leaving them out gives, so the refusal says to leave them out."""
    for name in ("d_model", "lr"):
        with pytest.raises(InputError) as err:
            Forecaster(horizon=4, **{name: None})
        assert "leave the parameter out for its default" in str(err.value)
        assert "512" not in str(err.value) and "0.0001" not in str(err.value)


def test_a_save_holding_a_none_set_after_its_fit_still_loads_and_forecasts(tmp_path):
    """Saves written before the refusal could hold lr=None set after the fit (only the next
    fit refused it): load rebuilds them and forecasts as saved; the next fit still refuses."""
    from tsfm.estimator.none_values import restoring

    frame = pd.DataFrame({"ds": pd.date_range("2020", periods=60), "y": range(60)})
    est = Forecaster(horizon=4, lookback=8, **SMALL).fit(frame)
    with restoring():  # what set_params allowed before the refusal existed
        est.set_params(lr=None)
    est.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())
    with pytest.raises(InputError, match="lr"):
        loaded.fit(frame)
