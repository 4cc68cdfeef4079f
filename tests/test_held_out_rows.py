"""A frame shorter than what ``val_size`` holds out: refused by saying how many rows the frame
has and how many ``val_size`` holds out of it (with the fix: a smaller ``val_size``), never
as a negative count of training rows, in a first fit, a refit of a fitted model, and a
panel's series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError

SMALL = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 16, "verbose": 0}


def daily(n: int, series: str | None = None) -> pd.DataFrame:
    y = np.sin(np.arange(n) / 3) + np.random.default_rng(n).normal(0, 0.1, n)
    frame = pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})
    return frame if series is None else frame.assign(unique_id=series)


@pytest.mark.parametrize("lookback", [8, None])  # the user's, or the default's rule
def test_a_frame_shorter_than_val_size_is_refused_naming_both_and_the_fix(lookback):
    est = Forecaster(horizon=4, lookback=lookback, val_size=100, **SMALL)
    with pytest.raises(InputError) as err:
        est.fit(daily(60))
    message = str(err.value)
    assert message.startswith("the frame has 60 rows, but val_size=100 holds out 100 rows")
    assert "set_params(val_size=...)" in message and "-40" not in message


def test_a_refit_with_the_fitted_val_size_on_a_short_frame_says_what_val_size_holds_out():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's notes
        est = Forecaster(horizon=4, lookback=8, val_size=40, **SMALL).fit(daily(120))
    for warm in (False, True):
        with pytest.raises(InputError, match=r"^the frame has 30 rows, but val_size=40 holds"):
            est.set_params(warm_start=warm).fit(daily(30))
    with pytest.raises(InputError) as err:  # some rows left, too few for one window
        est.set_params(warm_start=False).fit(daily(45))
    message = str(err.value)
    assert message.startswith("5 training rows (the frame's 45 less the 40 val_size=40 holds out)")
    assert "hold out fewer rows (set_params(val_size=...))" in message


def test_a_panel_series_shorter_than_val_size_is_not_said_to_train_on_negative_rows():
    panel = pd.concat([daily(60, "a"), daily(30, "b")], ignore_index=True)
    est = Forecaster(horizon=4, lookback=8, val_size=40, mode="independent", **SMALL)
    with pytest.raises(InputError) as err:
        est.fit(panel)
    message = str(err.value)
    assert "('b' has 30 rows, and 40 are to be held out to validate" in message
    assert "a smaller val_size, or None, holds out less" in message and "-10" not in message
