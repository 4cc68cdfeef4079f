"""Which series a joint model forecasts (README, "New series"): with past or future covariates,
exactly those it was trained on (fewer or new ones are refused naming the columns); with only
targets and static covariates, more or fewer."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_covariates import TINY_IT
from tests.test_horizon_rows import long_frame, split
from tsfm import Forecaster

HORIZON, LOOKBACK = 8, 24


def test_a_joint_model_with_covariates_forecasts_its_own_series_only():
    history, future = split(long_frame())
    model = Forecaster(horizon=HORIZON, lookback=LOOKBACK, future_covariates=["x"], **TINY_IT).fit(
        history
    )
    both = model.predict(history.iloc[::-1], future_df=future)  # any order of the rows
    assert set(both.unique_id) == {"a", "b"}
    fewer = history[history.unique_id == "a"]
    with pytest.raises(ValueError, match="it lacks \\['b', 'x\\[b\\]'\\] and has \\[\\]"):
        model.predict(fewer, future_df=future[future.unique_id == "a"])
    new = pd.concat([fewer, history[history.unique_id == "b"].assign(unique_id="c")])
    with pytest.raises(ValueError, match="has \\['c', 'x\\[c\\]'\\].*mode='independent'"):
        model.evaluate(new)


def test_a_joint_model_with_only_statics_forecasts_fewer_and_new_series():
    frame = long_frame().drop(columns="x")
    statics = pd.DataFrame({"unique_id": ["a", "b", "c"], "size": [1.0, 2.0, 3.0]})
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, static_covariates=["size"], **TINY_IT
    ).fit(frame, static_df=statics[:2])
    fewer = frame[frame.unique_id == "a"]
    assert set(model.predict(fewer).unique_id) == {"a"}
    new = pd.concat([fewer, frame[frame.unique_id == "b"].assign(unique_id="c")])
    assert set(model.predict(new, static_df=statics).unique_id) == {"a", "c"}
