"""What a forecast is given besides the history: future_df's zone, repeated rows and columns,
and panel frames lacking the covariates the model needs; each refused with the fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, demand_frame, panel_frame
from tsfm import Forecaster


@pytest.fixture(scope="module")
def berlin_panel():
    frame = panel_frame(lengths=(120, 100), categories=("a", "b"))[
        ["unique_id", "ds", "y", "promo"]
    ]
    frame["ds"] = frame.ds.dt.tz_localize("Europe/Berlin")
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"], **TINY_IT
    ).fit(frame)
    future = est.make_future_dataframe()
    future["promo"] = np.arange(len(future)) % 3 == 0
    return est, frame, future.astype({"promo": float})


def test_future_df_without_the_fitted_zone_is_refused_and_other_zones_are_converted(berlin_panel):
    est, _, future = berlin_panel
    expected = est.predict(future_df=future)
    naive = future.assign(ds=future.ds.dt.tz_localize(None))  # local clock without its zone
    with pytest.raises(
        ValueError, match="without a time zone but the fitted frame's are in Europe"
    ):
        est.predict(future_df=naive)
    in_utc = future.assign(ds=future.ds.dt.tz_convert("UTC"))  # the same instants
    pd.testing.assert_frame_equal(est.predict(future_df=in_utc), expected)


def test_daily_local_dates_take_a_future_df_in_another_zone():
    days = pd.date_range("2022-01-01", periods=150, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame(
        {"ds": days, "y": np.sin(np.arange(150) / 3), "temp": np.cos(np.arange(150.0))}
    )
    est = Forecaster(horizon=5, lookback=28, future_covariates=["temp"], **TINY_IT).fit(frame)
    future = est.make_future_dataframe().assign(temp=np.linspace(0, 1, 5))
    expected = est.predict(future_df=future)
    in_utc = future.assign(ds=future.ds.dt.tz_convert("UTC"))  # 22:00 or 23:00 the day before
    pd.testing.assert_frame_equal(est.predict(future_df=in_utc), expected)
    as_text = future.assign(ds=future.ds.astype(str))  # offsets: instants, on Berlin's clock
    pd.testing.assert_frame_equal(est.predict(future_df=as_text), expected)
    naive = future.assign(ds=future.ds.dt.tz_localize(None))  # Berlin's dates, without a zone
    assert np.allclose(est.predict(future_df=naive).y, expected.y)


def test_a_timestamp_given_twice_in_future_df_is_refused(berlin_panel):
    est, _, future = berlin_panel
    revised = future.iloc[[0]].assign(promo=5.0)
    for doubled in (pd.concat([future, revised]), pd.concat([revised, future])):
        with pytest.raises(ValueError, match=r"more than one row for series 's0' at 2021-01-06"):
            est.predict(future_df=doubled)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300])
def test_an_infinite_or_overflowing_future_covariate_is_named(berlin_panel, value):
    est, _, future = berlin_panel
    bad = future.copy()
    bad.loc[2, "promo"] = value
    stamp = bad.ds[2].strftime("%Y-%m-%d %H:%M")
    with pytest.raises(
        ValueError, match=rf"'promo' is {re.escape(f'{value:g}')} for series 's0' at {stamp}"
    ):
        est.predict(future_df=bad)


def test_a_panel_frame_lacking_a_covariate_names_it(berlin_panel):
    est, frame, future = berlin_panel
    bare = frame.drop(columns="promo")
    for call in (
        lambda: est.predict(bare, future_df=future),
        lambda: est.evaluate(bare),
        lambda: est.backtest(bare, n_windows=1),
    ):
        with pytest.raises(ValueError, match=r"lacks the column\(s\) \['promo'\] the model"):
            call()
    assert len(est.make_future_dataframe(bare)) == 12  # ids and times are all it needs


def test_future_df_for_a_panel_without_future_covariates_is_refused():
    frame = panel_frame(lengths=(80, 70), categories=("a", "b"))
    est = Forecaster(
        horizon=4, lookback=16, mode="independent", past_covariates=["promo"], **TINY_IT
    ).fit(frame[["unique_id", "ds", "y", "promo"]])
    future = est.make_future_dataframe().assign(promo=1.0)
    with pytest.raises(ValueError, match="no future covariates, so future_df would not be used"):
        est.predict(future_df=future)


def test_off_grid_timestamps_under_mask_name_the_series_and_the_row():
    frame = panel_frame(lengths=(80, 70), categories=("a", "b"))[["unique_id", "ds", "y"]]
    frame.loc[frame.index[85], "ds"] += pd.Timedelta(minutes=30)  # series s1, its row 5
    with pytest.raises(ValueError, match=r"series 's1': row 5 is .*:30:00, off the grid"):
        Forecaster(horizon=4, lookback=16, mode="independent", missing="mask", **TINY_IT).fit(frame)


def test_a_series_too_short_after_validation_says_what_was_held_out():
    frame = panel_frame(lengths=(120, 30), categories=("a", "b"))[["unique_id", "ds", "y"]]
    est = Forecaster(horizon=24, lookback=4, mode="independent", val_size=0.2, **TINY_IT)
    with pytest.raises(ValueError, match=r"'s1' trains on 6 of its 30 rows: the other 24 are held"):
        est.fit(frame)


def test_an_overflowing_covariate_in_the_frame_is_named_in_every_forecast_path(berlin_panel):
    frame = demand_frame(300)
    est = Forecaster(
        horizon=6, lookback=24, future_covariates=["temp"], past_covariates=["price"], **TINY_IT
    ).fit(frame.iloc[:240])  # fmt: skip
    bad = frame.assign(temp=np.where(frame.index == 290, 1e39, frame.temp))
    message = r"column 'temp' holds 1e\+39 at 2021-01-13 02:00:00: .* once scaled, beyond 1.8e\+19"
    for call in (lambda: est.evaluate(bad.iloc[200:]), lambda: est.backtest(bad, n_windows=2)):
        with pytest.raises(ValueError, match=message):
            call()
    panel_model, panel, future = berlin_panel
    huge = panel.assign(promo=np.where(panel.index == 100, 1e39, panel.promo))
    with pytest.raises(ValueError, match=r"column 'promo' holds .* for series 's0' at 2021-01-05"):
        panel_model.evaluate(huge)
    with pytest.raises(ValueError, match=r"column 'promo' holds .* for series 's0' at 2021-01-05"):
        panel_model.predict(huge, future_df=future)


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_polars_future_frame_keeps_the_fitted_types_of_the_covariates(mode, tmp_path):
    import polars as pl

    n = 80
    k = np.arange(2 * n)
    frame = pl.DataFrame({
        "id": ["a"] * n + ["b"] * n, "ds": list(range(n)) * 2, "y": np.sin(k / 3.0),
        "holiday": (k % 7 == 0).tolist(), "shift": (k % 5).astype(np.int32),
    })  # fmt: skip
    est = Forecaster(
        horizon=4, lookback=12, mode=mode, id_col="id", time_col="ds",
        future_covariates=["holiday", "shift"], **TINY_IT,
    ).fit(frame)  # fmt: skip
    future = est.make_future_dataframe()
    assert future.schema["holiday"] == pl.Boolean and future.schema["shift"] == pl.Int32
    assert future["holiday"].null_count() == len(future)  # empty, to fill
    est.save(tmp_path / "m")
    again = Forecaster.load(tmp_path / "m").make_future_dataframe(frame)
    assert again.schema == future.schema
    filled = future.with_columns(pl.lit(True).alias("holiday"), pl.lit(1, pl.Int32).alias("shift"))
    assert est.predict(future_df=filled).height == 8


def test_future_df_with_its_time_and_id_columns_named_otherwise_is_told_their_names(berlin_panel):
    est, _, future = berlin_panel
    renamed = future.rename(columns={"ds": "date", "unique_id": "series"})
    with pytest.raises(ValueError) as err:
        est.predict(future_df=renamed)
    message = str(err.value)
    assert message.startswith(
        "future_df has no time column 'ds' and no series id column 'unique_id' (the fitted "
        "frame's names): name them as in the fitted frame"
    )
    assert "future_df.rename(columns={'date': 'ds', 'series': 'unique_id'}))" in message
    with pytest.raises(
        ValueError,
        match=r"^future_df has no time column 'ds' \(the fitted frame's name\): name it as",
    ):
        est.predict(future_df=future.rename(columns={"ds": "date"}))
    fixed = renamed.rename(columns={"date": "ds", "series": "unique_id"})  # as it says
    pd.testing.assert_frame_equal(est.predict(future_df=fixed), est.predict(future_df=future))


def test_future_df_with_times_in_a_column_where_the_fit_had_an_index_is_told_to_set_it():
    days = pd.date_range("2022-01-01", periods=60, freq="D")
    frame = pd.DataFrame({"y": np.sin(np.arange(60) / 3), "temp": np.cos(np.arange(60.0))}, days)
    est = Forecaster(horizon=4, lookback=8, future_covariates=["temp"], **TINY_IT).fit(frame)
    future = est.make_future_dataframe().assign(temp=1.0)
    as_column = future.rename_axis("date").reset_index()
    with pytest.raises(ValueError, match=r"^future_df has no times: the fitted frame held them"):
        est.predict(future_df=as_column)
    with pytest.raises(ValueError, match=re.escape("(pandas: future_df.set_index('date'))")):
        est.predict(future_df=as_column)
    pd.testing.assert_frame_equal(
        est.predict(future_df=as_column.set_index("date")), est.predict(future_df=future)
    )
