"""``predict(df, level=...)`` under adaptive conformal (tsfm.estimator.adaptive_history): the
same update rule as ``evaluate``'s windows, and no adaptation on the rows the model was fitted
(or calibrated) on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny
from tsfm import Forecaster

FRAME = synthetic_frame(340, 2)
FITTED = 270  # rows 0..269: 220 training rows, then 50 validation rows (the conformal windows)
LEVELS = [80, 95]


@pytest.fixture(scope="module")
def adaptive() -> Forecaster:
    est = tiny(conformal_windows=20, conformal_step=2, conformal_adaptive_rate=0.2, seed=3)
    return est.fit(FRAME.iloc[:220], FRAME.iloc[220:FITTED])


def bands(forecast: pd.DataFrame) -> np.ndarray:
    return forecast.filter(regex="-(lo|hi)-").to_numpy()


def test_intervals_do_not_depend_on_how_much_fitted_history_predict_is_given(adaptive):
    split = adaptive.predict(level=LEVELS)  # from the fitted state: no outcome to adapt to
    # frames of fitted rows only: their outcomes (training and calibration rows) teach nothing
    for start in (0, 100, 200, FITTED - LOOKBACK - HORIZON, FITTED - LOOKBACK):
        found = adaptive.predict(FRAME.iloc[start:FITTED], level=LEVELS)
        pd.testing.assert_frame_equal(found, split, obj=f"predict(df[{start}:{FITTED}])")
    # past the fitted rows: the same level whatever fitted history comes before, as long as
    # the frame holds every window with an outcome after them (horizon - 1 windows straddle)
    end = FITTED + 40
    first = FITTED - (HORIZON - 1) - LOOKBACK
    later = [adaptive.predict(FRAME.iloc[start:end], level=LEVELS) for start in (0, 150, first)]
    for found in later[1:]:
        np.testing.assert_allclose(bands(found), bands(later[0]), rtol=1e-6, atol=1e-7)
    plain = adaptive.predict(FRAME.iloc[:end], level=[80]).filter(like="-hi-80").to_numpy()
    adaptive.module_.conformal.adaptive_rate = 0.0
    try:
        unmoved = adaptive.predict(FRAME.iloc[:end], level=[80]).filter(like="-hi-80").to_numpy()
    finally:
        adaptive.module_.conformal.adaptive_rate = 0.2
    assert not np.allclose(plain, unmoved)  # the new outcomes did move the level


def _window(windows: pd.DataFrame, cutoff, name: str) -> np.ndarray:
    rows = windows[(windows.cutoff == cutoff) & (windows.unique_id == name)]
    return rows[[f"forecast-{side}-{v}" for v in LEVELS for side in ("lo", "hi")]].to_numpy()


def _predicted(forecast: pd.DataFrame, name: str) -> np.ndarray:
    return forecast[[f"{name}-{side}-{v}" for v in LEVELS for side in ("lo", "hi")]].to_numpy()


@pytest.mark.parametrize("start", [FITTED - LOOKBACK, 150])  # the latter from fitted rows
def test_evaluate_window_equals_predict_of_the_frame_up_to_its_cutoff(adaptive, start):
    frame = FRAME.iloc[start:].reset_index(drop=True)
    _, windows = adaptive.evaluate(frame, return_forecasts=True)
    cutoffs = sorted(windows.cutoff.unique())
    for k in (0, 1, HORIZON - 1, HORIZON + 3, len(cutoffs) // 2, len(cutoffs) - 1):
        end = int(frame.index[frame.date == cutoffs[k]][0]) + 1
        found = adaptive.predict(frame.iloc[:end], level=LEVELS)
        for name in ("v0", "OT"):
            np.testing.assert_allclose(
                _predicted(found, name), _window(windows, cutoffs[k], name), rtol=1e-5,
                atol=1e-6, err_msg=f"cutoff {k}, {name}",
            )  # fmt: skip


def test_with_future_covariates_the_windows_past_the_end_read_future_df():
    from tests.test_covariates import TINY_IT, demand_frame

    frame = demand_frame(260)
    est = Forecaster(
        horizon=8, lookback=24, future_covariates=["temp"], conformal_windows=20,
        conformal_step=1, conformal_adaptive_rate=0.2, **TINY_IT,
    ).fit(frame.iloc[:150], frame.iloc[150:180])  # fmt: skip
    later = frame.iloc[180 - 24 :].reset_index(drop=True)
    _, windows = est.evaluate(later, return_forecasts=True)
    cutoffs = sorted(windows.cutoff.unique())
    for k in (3, 20, len(cutoffs) - 1):
        end = int(later.index[later.date == cutoffs[k]][0]) + 1
        future = later.iloc[end : end + 8][["date", "temp"]]
        found = est.predict(later.iloc[:end], future_df=future, level=LEVELS)
        np.testing.assert_allclose(
            _predicted(found, "load"), _window(windows, cutoffs[k], "load"), rtol=1e-5, atol=1e-6
        )


def test_variates_the_model_was_not_fitted_on_adapt_over_the_fitted_dates():
    one = FRAME[["date", "OT"]]
    est = tiny(conformal_windows=20, conformal_step=2, conformal_adaptive_rate=0.2, seed=3)
    est.fit(one.iloc[:220], one.iloc[220:FITTED])
    assert est.predict(one.iloc[:FITTED], level=[80]).equals(est.predict(level=[80]))
    other = FRAME.iloc[:FITTED][["date", "v0"]]  # another series over the fitted dates
    moved = bands(est.predict(other, level=[80]))
    est.module_.conformal.adaptive_rate = 0.0
    assert not np.allclose(moved, bands(est.predict(other, level=[80])))
