"""A frame given to a fitted wide, targets-only model that mixes its variates (iTransformer)
with a column it was not fitted on beside the fitted ones: the column is forecast as a new
variate (the documented capability) and changes the fitted variates' forecasts, so every
call that forecasts it warns once, naming the column and the fixes; the fitted columns, only
new ones, or a model fitted with ``targets=`` (other columns left unread) do not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long

STRAY = "the model was not fitted on"


@pytest.fixture(scope="module")
def fitted():
    frame = synthetic_frame(160, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's notes
        return tiny(seed=0).fit(frame.iloc[:120]), frame


def stray_warnings(call) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if STRAY in str(w.message)]


def test_a_stray_column_beside_the_fitted_ones_is_warned_of_once_per_call(fitted):
    est, frame = fitted
    stray = frame.assign(RowId=np.arange(len(frame), dtype=float))
    base, none = stray_warnings(lambda: est.predict(frame))
    assert none == []  # the fitted columns
    moved, said = stray_warnings(lambda: est.predict(stray))
    assert len(said) == 1
    assert said[0].startswith("the frame has column(s) ['RowId'] the model was not fitted on")
    assert "forecasts them as new variates" in said[0] and "change the forecasts" in said[0]
    assert "['v0', 'v1', 'OT']" in said[0] and "df.drop(columns=['RowId'])" in said[0]
    assert "fit with targets=[...]" in said[0]
    assert not np.allclose(moved.OT.to_numpy(), base.OT.to_numpy())  # what it warns of
    assert len(stray_warnings(lambda: est.evaluate(stray))[1]) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="backtest needs the columns the model was trained"):
            est.backtest(stray, n_windows=2)  # refused: nothing to warn of
    assert not [w for w in caught if STRAY in str(w.message)]
    assert stray_warnings(lambda: est.make_future_dataframe(stray))[1] == []  # no forecast
    only_new = frame.rename(columns={"v0": "a", "v1": "b", "OT": "c"})
    assert stray_warnings(lambda: est.predict(only_new))[1] == []  # new series, on purpose


def test_a_model_fitted_with_targets_leaves_other_columns_unread_without_a_warning(fitted):
    _, frame = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = tiny(seed=0, targets=["v0", "v1", "OT"]).fit(frame.iloc[:120])
    stray = frame.assign(RowId=np.arange(len(frame), dtype=float))
    forecast, said = stray_warnings(lambda: est.predict(stray))
    assert said == [] and "RowId" not in forecast.columns and len(forecast) == HORIZON
    np.testing.assert_allclose(forecast.OT, est.predict(frame).OT)


def test_a_joint_long_frame_with_a_series_the_model_was_not_fitted_on_is_warned_of():
    frame = to_long(synthetic_frame(120, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = tiny(seed=0).fit(frame[frame.unique_id != "OT"])
    _, said = stray_warnings(lambda: est.predict(frame))
    assert len(said) == 1 and said[0].startswith("the frame has series ['OT'] the model was not")
    assert "change the forecasts of the fitted series (['v0', 'v1'])" in said[0]
    assert "df[df['unique_id'].isin(['v0', 'v1'])]" in said[0]
    assert stray_warnings(lambda: est.predict(frame[frame.unique_id == "OT"]))[1] == []
