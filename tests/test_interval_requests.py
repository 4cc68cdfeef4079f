"""What predict(level=..., quantiles=...) and plot(level=...) take, as darts and neuralforecast
users write them: a list of quantile levels gives those quantiles (refused where the model
cannot give them), other forms are refused with the fix; a frame of other variates than the
per-series calibration's, and numbers of steps, are refused with the reason and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import InputError
from tsfm.estimator.plotting import plot_forecast

FRAME = synthetic_frame(300, 3)
TRAIN, VALID = FRAME.iloc[:220], FRAME.iloc[220:]
GRID = [0.025, 0.1, 0.5, 0.9, 0.975]


@pytest.fixture(scope="module")
def conformal_model():
    return tiny(conformal_windows=20, conformal_step=2).fit(TRAIN, VALID)  # per series


@pytest.fixture(scope="module")
def quantile_model():
    return tiny(loss="quantile", quantiles=GRID).fit(TRAIN, VALID)


def test_a_list_of_quantiles_gives_those_quantiles_of_a_conformal_model(conformal_model):
    out = conformal_model.predict(quantiles=[0.9, 0.1])  # any order: ascending columns
    assert list(out.columns) == ["date"] + [
        f"{c}{s}" for c in ("v0", "v1", "OT") for s in ("", "-q-0.1", "-q-0.9")
    ]
    bands = conformal_model.predict(level=[80])
    for name in ("v0", "v1", "OT"):  # the bounds of the 80 % interval
        np.testing.assert_allclose(out[f"{name}-q-0.1"], bands[f"{name}-lo-80"])
        np.testing.assert_allclose(out[f"{name}-q-0.9"], bands[f"{name}-hi-80"])
    three = conformal_model.predict(quantiles=(0.05, 0.5, 0.95))
    assert [c for c in three.columns if c.startswith("OT")] == [
        "OT", "OT-q-0.05", "OT-q-0.5", "OT-q-0.95",
    ]  # fmt: skip
    np.testing.assert_allclose(three["OT-q-0.5"], three["OT"])  # the median is the point
    both = conformal_model.predict(level=[90], quantiles=np.array([0.3]))
    assert [c for c in both.columns if c.startswith("OT")] == [
        "OT", "OT-lo-90", "OT-hi-90", "OT-q-0.3",
    ]  # fmt: skip
    long = conformal_model.predict(to_long(FRAME), quantiles=[0.2])
    assert list(long.columns) == ["unique_id", "ds", "y", "y-q-0.2"]
    # 20 scores per series give central intervals up to 95.2 %: quantiles 0.0238 .. 0.976
    with pytest.raises(ValueError, match=r"quantiles \[0.01\].*from 0.02381 to 0.9762"):
        conformal_model.predict(quantiles=[0.01, 0.5])


def test_a_quantile_model_gives_the_quantiles_it_was_fitted_on_and_names_them(quantile_model):
    out = quantile_model.predict(quantiles=[0.1, 0.975])
    assert [c for c in out.columns if c.startswith("OT")] == ["OT", "OT-q-0.1", "OT-q-0.975"]
    np.testing.assert_allclose(out["OT-q-0.1"], quantile_model.predict(quantiles=True)["OT-q-0.1"])
    with pytest.raises(ValueError, match=r"fitted on, \[0.025, 0.1, 0.5, 0.9, 0.975\]; \[0.3\]"):
        quantile_model.predict(quantiles=[0.3, 0.5])


def test_a_distribution_model_gives_any_quantile():
    est = tiny(loss="normal").fit(TRAIN, VALID)
    out = est.predict(quantiles=[0.01, 0.33, 0.99])
    low, mid, high = (out[f"OT-q-{q}"] for q in (0.01, 0.33, 0.99))
    assert (low < mid).all() and (mid < out["OT"]).all() and (out["OT"] < high).all()


def test_an_independent_panel_gives_the_quantiles_asked_for():
    from tests.test_covariates import TINY_IT, panel_frame
    from tsfm import Forecaster

    panel = panel_frame().drop(columns=["promo", "store"])
    est = Forecaster(horizon=6, lookback=24, mode="independent", loss="normal", **TINY_IT)
    out = est.fit(panel).predict(quantiles=[0.25, 0.75])
    assert list(out.columns) == ["unique_id", "ds", "y", "y-q-0.25", "y-q-0.75"]
    assert (out["y-q-0.25"] < out.y).all() and (out.y < out["y-q-0.75"]).all()


@pytest.mark.parametrize("asked", [0.5, "0.5", 1, 0, np.float64(0.9)])
def test_quantiles_that_are_neither_a_bool_nor_a_list_are_refused(conformal_model, asked):
    with pytest.raises(ValueError, match=r"quantiles takes True .*False, or a list") as err:
        conformal_model.predict(quantiles=asked)
    if asked in (0.5, "0.5", 0.9):
        assert f"quantiles=[{float(asked):g}]" in str(err.value)


def test_no_quantiles_asked_gives_the_points(conformal_model):
    points = conformal_model.predict()
    for asked in (False, None, []):
        pd.testing.assert_frame_equal(conformal_model.predict(quantiles=asked), points)
    with pytest.raises(ValueError, match=r"quantiles repeats 0.5: give each level once, e.g. "
                       r"quantiles=\[0.5\]"):  # fmt: skip
        conformal_model.predict(quantiles=[0.5, 0.5])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        conformal_model.predict(quantiles=[10, 90])


def test_a_single_level_gets_the_list_it_meant(conformal_model):
    with pytest.raises(ValueError, match=r"e.g. level=\[90\] for the 90 % interval; got 0.9"):
        conformal_model.predict(level=0.9)
    with pytest.raises(ValueError, match=r"e.g. level=\[90\] for the 90 % interval"):
        plot_forecast(conformal_model, level=0.9)
    with pytest.raises(ValueError, match=r"e.g. level=\[80\]; got 80"):
        conformal_model.predict(level=80)
    with pytest.raises(ValueError, match=r"level takes a list of percentages.*; got '80'"):
        conformal_model.predict(level="80")


def test_numbers_written_as_text_in_a_list_are_refused_as_a_single_one_is(conformal_model):
    for call, fix in (
        (lambda: conformal_model.predict(level=["80"]), r"level=\[80\]"),
        (lambda: conformal_model.predict(level=[80, "95"]), r"level=\[80, 95\]"),
        (lambda: conformal_model.predict(quantiles=["0.1"]), r"quantiles=\[0.1\]"),
        (lambda: plot_forecast(conformal_model, level=["80"]), r"level=\[80\]"),
    ):
        with pytest.raises(
            InputError, match=rf"numbers written as text .*give numbers, e.g. {fix}"
        ):
            call()


@pytest.mark.parametrize("setting", [{"levels": ["80"]}, {"quantiles": ["0.1", 0.5, 0.9]}])
def test_numbers_written_as_text_are_refused_at_fit_before_the_data(setting, no_training):
    name = next(iter(setting))
    with pytest.raises(InputError, match=rf"{name} holds numbers written as text"):
        tiny(loss="quantile", **setting).fit(TRAIN)


def test_a_quantile_grid_in_any_order_is_fitted_sorted_and_repeats_are_refused(tmp_path):
    from tsfm import Forecaster

    est = tiny(loss="quantile", quantiles=[0.9, 0.5, 0.1]).fit(TRAIN, VALID)
    assert list(est.config_.quantiles) == [0.1, 0.5, 0.9] and list(est.config_.levels) == [80]
    assert list(est.predict(quantiles=True).columns)[1:4] == ["v0", "v0-q-0.1", "v0-q-0.5"]
    loaded = Forecaster.load(est.save(tmp_path / "m"))  # the parameter as given, the grid sorted
    pd.testing.assert_frame_equal(loaded.predict(level=[80]), est.predict(level=[80]))
    est.set_params(quantiles=[0.1, 0.5, 0.9])  # the same grid in another order: the same model
    pd.testing.assert_frame_equal(est.predict(level=[80]), loaded.predict(level=[80]))
    with pytest.raises(InputError, match=r"quantiles repeats 0.5: give each level once, e.g. "
                       r"quantiles=\[0.1, 0.5, 0.9\]"):  # fmt: skip
        tiny(loss="quantile", quantiles=[0.9, 0.5, 0.1, 0.5]).fit(TRAIN, VALID)


def test_a_number_of_steps_is_refused_naming_predict_steps(conformal_model):
    with pytest.raises(TypeError, match=r"not a number of steps: predict\(steps=4\) forecasts 4 "
                       r"steps \(beyond the horizon, 8, by feeding"):  # fmt: skip
        conformal_model.predict(4)
    whole = conformal_model.predict(level=[80])
    first = conformal_model.predict(level=[80], steps=4)  # conformal bands of steps 1..4
    pd.testing.assert_frame_equal(first, whole.iloc[:4], check_exact=True)
    with pytest.raises(InputError, match=r"intervals reach only the horizon \(horizon=8\)"):
        conformal_model.predict(level=[80], steps=9)


def test_other_variates_than_the_calibrated_ones_are_refused_with_reason_and_fix(conformal_model):
    points = conformal_model.predict(FRAME[["date", "v1", "OT"]])  # points: any variates
    assert list(points.columns) == ["date", "v1", "OT"]
    with pytest.raises(
        ValueError, match=r"lacks \['v0'\] \(model 'itransformer' forecasts each"
    ) as err:
        conformal_model.predict(FRAME[["date", "v1", "OT"]], level=[80])
    assert "pass every fitted variate" in str(err.value) and "no calibration" not in str(err.value)
    extra = FRAME.assign(new=FRAME.OT * 2)
    with pytest.raises(ValueError, match=r"its \['new'\] have no calibration scores") as err:
        conformal_model.predict(extra, level=[80])
    assert "lacks" not in str(err.value) and r"leave ['new'] out" in str(err.value)
