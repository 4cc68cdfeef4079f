"""Settings given after a fit: the data-chosen look-back given back as a number is the same
model, and tune's own seed follows the Forecaster's rule (whole numbers, 0 to 2**32 - 1)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError
from tsfm.estimator.search_checks import study_settings


def test_the_chosen_lookback_given_back_is_the_fitted_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = Forecaster(horizon=8, max_epochs=1, verbose=0, **TINY["itransformer"])
        est.fit(synthetic_frame(200, 2))
    forecast = est.predict()
    est.set_params(lookback=est.lookback_)  # what the data chose: nothing changed
    assert est.predict().equals(forecast)
    est.set_params(lookback=est.lookback_ + 1)
    with pytest.raises(InputError, match="parameters that shape the model changed"):
        est.predict()


@pytest.mark.parametrize("seed", ["3", True, 1.5, -1, 2**40])
def test_tunes_seed_is_checked_as_the_forecasters(seed):
    with pytest.raises(InputError, match="seed must be a whole number from 0 to 2\\*\\*32 - 1"):
        study_settings({"seed": seed})


def test_tune_takes_a_numpy_seed():
    assert study_settings({"seed": np.int64(3)}).seed == 3
