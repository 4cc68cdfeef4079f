"""The Forecaster's frames: pandas or polars, wide or long, own column names, a pandas
``DatetimeIndex``; and frames or settings it refuses, with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long
from tsfm import Forecaster


@pytest.mark.parametrize(
    ("layout", "library", "freq"),
    [("wide", "polars", "15min"), ("long", "pandas", "D"), ("long", "polars", "h")],
)
def test_long_and_polars_frames_give_the_forecasts_of_the_wide_pandas_frame(layout, library, freq):
    wide = synthetic_frame(200, 3, freq=freq)
    order = ["OT", "v0", "v1"] if layout == "long" else ["v0", "v1", "OT"]  # long: by id
    reference = tiny().fit(wide[["date", *order]]).predict()
    frame = to_long(wide) if layout == "long" else wide
    frame = pl.from_pandas(frame) if library == "polars" else frame
    est = tiny().fit(frame)
    forecast = est.predict()
    assert isinstance(forecast, pl.DataFrame if library == "polars" else pd.DataFrame)
    out = forecast.to_pandas() if library == "polars" else forecast
    future = pd.date_range(wide.date.iloc[-1], periods=HORIZON + 1, freq=freq)[1:]
    if layout == "long":
        assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 3 * HORIZON
        assert (out.groupby("unique_id").ds.apply(list) == [list(future)] * 3).all()
        out = out.pivot(index="ds", columns="unique_id", values="y")[["v0", "v1", "OT"]]
        out = out.reset_index(drop=True)
    else:
        assert (out.date.to_numpy() == future.to_numpy()).all()
        out = out[["v0", "v1", "OT"]]
    np.testing.assert_allclose(out.to_numpy(), reference[["v0", "v1", "OT"]].to_numpy(), rtol=1e-5)


def test_long_frames_with_own_column_names_and_integer_time():
    wide = synthetic_frame(150, 2)
    long = to_long(wide).rename(columns={"unique_id": "store", "ds": "t", "y": "sales"})
    long["t"] = (long.t - long.t.min()) // pd.Timedelta(hours=1) * 5  # step 5
    est = tiny(max_epochs=1).set_params(id_col="store", time_col="t", target_col="sales")
    forecast = est.fit(long).predict()
    assert list(forecast.columns) == ["store", "t", "sales"] and est.freq_ == 5
    assert forecast.t.tolist()[:HORIZON] == [745 + 5 * k for k in range(1, HORIZON + 1)]


def test_pandas_datetime_index_comes_back_as_an_index():
    wide = synthetic_frame(120, 2).set_index("date")
    forecast = tiny().fit(wide).predict()
    assert isinstance(forecast.index, pd.DatetimeIndex) and list(forecast.columns) == ["v0", "OT"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (synthetic_frame(100).drop(index=50), "not regular: row 50"),
        (synthetic_frame(20), "lookback \\+ horizon = 32"),
        (synthetic_frame(100).assign(OT=lambda d: d.OT.where(d.index != 7)), "'OT'.*row 7"),
        (synthetic_frame(100).assign(city="x"), "non-numeric column"),
        (to_long(synthetic_frame(100)).drop(index=3), r"no row at 2020-01-01 03:00:00 while"),
        ([1, 2, 3], "pandas or polars DataFrame"),
        (synthetic_frame(100).rename(columns={"v0": ""}), r"\[''\] are neither"),
        (synthetic_frame(100).rename(columns={"v0": 1.5}), r"\[1.5\] are neither"),
        (synthetic_frame(100).rename(columns={"v0": 1, "v1": "1"}), r"\[1, '1'\] read as"),
        (synthetic_frame(100).set_index("date", drop=False), "time index is named 'date'"),
    ],
)
def test_bad_frames_are_refused_with_a_message_that_says_why(frame, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny().fit(frame)


def test_a_presets_hourly_calendar_follows_half_hourly_data_and_says_so():
    frame = synthetic_frame(400, 2, freq="30min")
    est = Forecaster.from_experiment(
        "itransformer_etth1_96", horizon=8, lookback=24, max_epochs=1, d_model=16, d_ff=16
    )
    with pytest.warns(UserWarning, match="computes calendar features for 'h' data.*'30min'"):
        est.fit(frame)
    assert est.freq_ == "30min" and est.config_.data.freq == "30min"


def test_a_missing_horizon_is_refused_with_a_suggestion_for_the_data():
    with pytest.raises(ValueError, match="horizon is required.*horizon=48.*'h'"):
        Forecaster(lookback=24, max_epochs=1).fit(synthetic_frame(120, 2))
    quarterly = synthetic_frame(120, 2, freq="QS")
    with pytest.raises(ValueError, match="horizon=8"):
        Forecaster(lookback=24, max_epochs=1).fit(quarterly)


def test_named_targets_leave_the_frames_other_columns_out_after_fitting_too():
    frame = synthetic_frame(300, 4)
    est = tiny(targets=["OT"], past_covariates=["v0"]).fit(frame)
    assert est.input_columns_ == ["OT", "v0"]  # v1, v2 have no role: left out of the fit
    forecast = est.predict(frame)
    assert list(forecast.columns) == ["date", "OT"]
    pd.testing.assert_frame_equal(forecast, est.predict(frame[["date", "OT", "v0"]]))
    assert est.evaluate(frame) == est.evaluate(frame[["date", "v0", "OT"]])
    alone = tiny(targets=["OT"]).fit(frame)  # no covariates: not new variates to forecast
    assert list(alone.predict(frame).columns) == ["date", "OT"]
    assert alone.evaluate(frame) == alone.evaluate(frame[["date", "OT"]])
    with pytest.raises(ValueError, match="lacks \\['v0'\\]"):
        est.predict(frame.drop(columns=["v0"]))


@pytest.mark.parametrize(
    "roles",
    [
        {"targets": ["v1", "OT"]},
        {"data__features": "S"},
        {"data__features": "S", "targets": ["v1"]},
    ],
)
def test_a_fit_that_chose_its_columns_forecasts_scores_and_cross_validates_only_them(roles):
    frame = synthetic_frame(200, 4)
    est = tiny(**roles).fit(frame)
    chosen = list(est.columns_)
    assert chosen == roles.get("targets", ["OT"])  # S without targets: the last column
    assert list(est.predict(frame).columns) == ["date", *chosen]
    assert list(est.evaluate(frame, per_series=True).unique_id) == chosen
    folds = est.cross_validate(frame, n_windows=2, refit=False)
    assert sorted(folds.forecasts.unique_id.unique()) == sorted(chosen)


def test_ms_with_a_named_target_makes_the_other_columns_past_covariates():
    est = tiny(data__features="MS", targets=["v1"]).fit(synthetic_frame(200, 3))
    assert est.roles_.targets == ("v1",) and set(est.roles_.past) == {"v0", "OT"}
