"""``Forecaster.load`` takes back every parameter value the Forecaster took at construction
and fit: a bool where an int is asked (``verbose=False``), 0/1 for a yes/no setting
(``warm_start=0``), an int where a float is asked (``lr=1``) and NumPy numbers (``seed``,
``horizon`` from array arithmetic), keeping the value the user gave (``verbose=False``
loads back as False, not 0)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny
from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError

CASES = [
    {"verbose": False},
    {"verbose": True},
    {"verbose": np.int64(0)},
    {"warm_start": 0},
    {"warm_start": 1},
    {"lr": 1},
    {"dropout": 0},
    {"seed": np.int64(3)},
    {"threads": np.int64(1)},
    {"max_epochs": np.int64(1)},
    {"batch_size": np.int64(16)},
    {"horizon": np.int64(HORIZON), "lookback": np.int64(LOOKBACK)},
    {"val_size": np.int64(HORIZON)},
    {"val_size": np.float64(0.25)},
]


def _check_loaded(loaded: Forecaster, given: dict) -> None:
    params = loaded.get_params()
    for name, value in given.items():
        assert params[name] == value, name
        if isinstance(value, np.generic):  # stored as the plain number it stands for
            assert type(params[name]) is type(value.item()), name
        else:  # the value given, not an equal one of another type (False, not 0)
            assert type(params[name]) is type(value), name


@pytest.mark.parametrize("given", CASES, ids=lambda c: ",".join(f"{k}={v!r}" for k, v in c.items()))
def test_a_parameter_construction_takes_loads_back_as_given(given, tmp_path):
    settings = {"horizon": HORIZON, "lookback": LOOKBACK, "verbose": 0, "threads": 1, **given}
    est = Forecaster(**{**TINY["itransformer"], "max_epochs": 1, **settings})
    est.fit(synthetic_frame(160, 2))
    loaded = Forecaster.load(est.save(tmp_path / "m"))
    _check_loaded(loaded, given)
    assert loaded.verbose == settings["verbose"]


def test_settings_set_after_fit_load_back_as_given(tmp_path):
    est = tiny(verbose=0, threads=1).fit(synthetic_frame(160, 2))
    est = pickle.loads(pickle.dumps(est))
    given = {"verbose": False, "warm_start": 1, "seed": np.int64(5), "lr": 1}
    est.set_params(**given)  # saved with the fit's parameters (fitted_params) beside them
    _check_loaded(Forecaster.load(est.save(tmp_path / "m")), given)


@pytest.mark.parametrize("given", [{"verbose": 3}, {"warm_start": 2}, {"val_size": True}])
def test_values_construction_refuses_are_refused_at_fit(given):
    with pytest.raises(InputError, match=next(iter(given))):
        tiny(**given).fit(synthetic_frame(160, 2))
