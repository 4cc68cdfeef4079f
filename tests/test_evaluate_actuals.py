"""``Forecaster`` scores and returned windows read the actuals as the frame holds them,
never scaled and back (wide, masked gaps, adaptive conformal, independent panels): an actual
of 0 stays 0, left out of MAPE (a series 0 throughout has none), and ``evaluate`` scores a
window as ``backtest`` does."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.estimator import tiny
from tests.test_actuals_as_read import LOOKBACK, counts_frame

VARIANTS = {
    "wide": {},
    "masked gaps": {"missing": "mask"},
    "adaptive conformal": {
        "conformal_windows": 10,
        "conformal_step": 4,
        "conformal_adaptive_rate": 0.05,
        "val_size": 56,  # a scaler whose round trip of 0 is not 0
    },
    "independent panel": {"mode": "independent"},
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def fitted(request):
    """A Forecaster fitted on the rows before 240 (where 'stopped' stops), the frame it
    scores (in its layout) and the frame as given, long."""
    frame = counts_frame()
    if request.param == "masked gaps":
        frame.loc[frame.index % 7 == 3, "level"] = np.nan  # gaps in look-backs and targets
    long = frame.melt(id_vars="date", var_name="unique_id", value_name="y")
    given = long.rename(columns={"date": "ds"}) if request.param == "independent panel" else frame
    rows = given.ds if "ds" in given else given.date
    est = tiny(**VARIANTS[request.param], season_length=1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(given[rows < frame.date[240]])
    return est, given, long, frame.date


def test_evaluate_returns_and_scores_the_actuals_as_read(fitted):
    est, given, long, dates = fitted
    rows = given.ds if "ds" in given else given.date
    scored = given[rows >= dates[240 - LOOKBACK]]
    with pytest.warns(UserWarning) as caught:
        metrics, windows = est.evaluate(scored, return_forecasts=True)
        per_series = est.evaluate(scored, per_series=True).set_index("unique_id")
    said = " ".join(str(w.message) for w in caught)
    assert "MAPE leaves out" in said and "mape is missing for ['stopped']" in said
    time = "ds" if "ds" in windows else "date"
    read = windows.merge(long, left_on=["unique_id", time], right_on=["unique_id", "date"])
    assert len(read) == len(windows)
    np.testing.assert_array_equal(read["y_x"], read["y_y"])  # as given, NaN where missing
    assert np.isnan(per_series.loc["stopped", "mape"])  # 0 throughout: no MAPE
    windows = windows.dropna(subset=["y"])
    y, error = windows["y"].to_numpy(), (windows["forecast"] - windows["y"]).abs().to_numpy()
    assert metrics["mae_original"] == pytest.approx(error.mean(), rel=1e-12)
    percent = 100 * error[y != 0] / np.abs(y[y != 0])  # the actuals of 0 left out
    assert metrics["mape"] == pytest.approx(percent.mean(), rel=1e-12)
    if "forecast-lo-80" in windows:  # coverage of the actuals as read
        inside = (windows["y"] >= windows["forecast-lo-80"]) & (
            windows["y"] <= windows["forecast-hi-80"]
        )
        assert metrics["coverage_80"] == pytest.approx(inside.mean(), rel=1e-12)
    # the seasonal-naive forecast (season_length=1) repeats the last look-back value as read
    given_values = long.set_index(["unique_id", "date"])["y"]
    last = given_values.reindex(pd.MultiIndex.from_arrays([read.unique_id, read.cutoff]))
    seen = last.notna().to_numpy()  # else the value carried over a gap
    np.testing.assert_array_equal(read["snaive"].to_numpy()[seen], last.to_numpy()[seen])


def test_evaluate_scores_a_window_as_backtest_does(fitted):
    est, given, _, dates = fitted
    rows = given.ds if "ds" in given else given.date
    window = given[(rows >= dates[301 - LOOKBACK]) & (rows < dates[309])]  # starts observed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = est.evaluate(window)
        folds = est.backtest(given[rows < dates[309]], n_windows=1)
    for name in ("mae_original", "mape", "smape", "mase"):
        assert metrics[name] == pytest.approx(folds.metrics[name].iloc[0], rel=1e-9), name
