"""Interval levels after fit: ``set_params(levels=...)`` changes what evaluate, backtest and
plot score and draw without refitting (levels shape no model: a conformal model reads any
level off its scores, a quantile head off its grid), refused at use where the fitted model
cannot give them; saved, loaded, and used by the next fit. A parameter the fit chose is named
with its value in a "changed since fit" refusal, and giving that value is the same model."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster, InputError
from tsfm.training.conformal import TooFewScores

FRAME = synthetic_frame(340, 3)
TRAIN, VALID, LATER = FRAME.iloc[:220], FRAME.iloc[220:300], FRAME.iloc[300 - 24 :]
GRID = [0.025, 0.1, 0.5, 0.9, 0.975]


@pytest.fixture(scope="module")
def conformal_model() -> Forecaster:
    return tiny(conformal_windows=20, conformal_step=2).fit(TRAIN, VALID)


def _bounds(frame) -> list[str]:
    return sorted(c for c in frame.columns if "-lo-" in c or "-hi-" in c)


def test_set_levels_after_a_conformal_fit_scores_them_without_a_refit(conformal_model, tmp_path):
    est = conformal_model
    assert list(est.config_.levels) == [80.0, 95.0] and "levels" not in est.get_params()
    try:
        est.set_params(levels=[80, 95])  # the very levels the fit chose: nothing changed
        assert "coverage_95" in est.evaluate(LATER)
        est.set_params(levels=[90])
        scores = est.evaluate(LATER)
        assert "coverage_90" in scores and "width_90" in scores
        assert not {"coverage_80", "coverage_95", "msis"} & set(scores)
        forecasts, metrics = est.backtest(FRAME, n_windows=1)
        assert _bounds(forecasts) == ["forecast-hi-90", "forecast-lo-90"]
        assert "coverage_90" in metrics.columns
        assert "OT-hi-90" in est.predict(level=[90]).columns
        assert list(est.config_.levels) == [80.0, 95.0]  # the fit's record is kept
        loaded = Forecaster.load(est.save(tmp_path / "m"))
        assert loaded.get_params()["levels"] == [90]
        assert "coverage_90" in loaded.evaluate(LATER)
        est.set_params(levels=[99])  # 20 scores give up to 95.2 %: refused where used
        with pytest.raises(TooFewScores, match=r"levels has 99: a 99 % conformal interval"):
            est.evaluate(LATER)
        assert "OT-hi-80" in est.predict(level=[80]).columns  # predict's own levels still work
        est.set_params(levels=["90"])
        with pytest.raises(InputError, match="numbers written as text"):
            est.evaluate(LATER)
    finally:
        est.set_params(levels=None)
    assert "coverage_95" in est.evaluate(LATER)


def test_set_levels_after_a_quantile_fit_are_read_off_the_grid_or_refused():
    est = tiny(loss="quantile", quantiles=GRID).fit(TRAIN, VALID)
    est.set_params(levels=[80])
    scores = est.evaluate(LATER)
    assert "coverage_80" in scores and "coverage_95" not in scores
    est.set_params(levels=[90])  # the grid has no 0.05, 0.95
    with pytest.raises(InputError, match=r"levels has 90: .* lack \[0.05, 0.95\].*"
                       r"set_params\(levels=\[80, 95\]\)"):  # fmt: skip
        est.evaluate(LATER)


def test_the_next_fit_and_a_warm_fit_use_the_new_levels():
    est = tiny(conformal_windows=20, conformal_step=2).fit(FRAME.iloc[:200], FRAME.iloc[200:260])
    est.set_params(levels=[90], warm_start=True)
    est.fit(FRAME.iloc[:260], FRAME.iloc[260:])  # warm: not refused, and fitted with them
    assert list(est.config_.levels) == [90.0]
    assert "coverage_90" in est.evaluate(LATER)


def test_a_parameter_the_fit_chose_is_named_with_its_value_and_giving_it_is_the_same_model():
    est = Forecaster(horizon=8, d_ff=16, n_heads=2, max_epochs=1, verbose=0).fit(TRAIN)
    chosen, lookback = est.config_.model.d_model, est.lookback_  # sized by the data
    before = est.predict()
    est.set_params(d_model=chosen + 8, lookback=lookback)
    with pytest.raises(
        InputError, match=rf"d_model={chosen} \(unset: the fit's choice\) -> {chosen + 8}\)"
    ):
        est.predict()
    est.set_params(d_model=chosen)  # set back as the message names it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(est.predict(), before)


def test_default_levels_left_out_for_too_few_scores_are_warned_of_and_set_ones_refused():
    univariate = FRAME[["date", "OT"]]
    train, valid = univariate.iloc[:220], univariate.iloc[220:]
    with pytest.warns(UserWarning, match=r"levels left unset: the default 95 % interval left "
                      r"out, as 6 calibration scores give intervals up to 85.7 % \(95 % needs "
                      r"19 scores\); the fit scores levels=\[80\]"):  # fmt: skip
        est = tiny(conformal_windows=6, conformal_step=2).fit(train, valid)
    assert list(est.config_.levels) == [80.0]
    gappy = univariate.copy()
    gappy.loc[300:305, "OT"] = float("nan")  # in some of the last (calibration) windows
    train, valid = gappy.iloc[:220], gappy.iloc[220:]
    with pytest.warns(UserWarning, match=r"the default 95 % interval left out, as 1\d observed "
                      r"calibration scores \(targets missing in the other windows\)"):  # fmt: skip
        est = tiny(conformal_windows=20, conformal_step=2, missing="mask").fit(train, valid)
    assert list(est.config_.levels) == [80.0]
    with pytest.raises(TooFewScores, match=r"asks for levels \[95\]"):
        tiny(conformal_windows=20, conformal_step=2, missing="mask", levels=[80, 95]).fit(
            train, valid
        )
