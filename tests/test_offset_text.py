"""Timestamps written as text with UTC offsets (pandas' ``to_csv`` of a zone-aware column):
read on the clock they were written in where that clock steps regularly, else as UTC
instants marked UTC; never shifted to UTC without saying so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.data.frames.read import read_frame


def _csv_frame(tmp_path, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """``stamps`` written to a CSV by pandas and read back: text with offsets."""
    values = np.sin(np.arange(len(stamps)) / 3)
    pd.DataFrame({"ds": stamps, "y": values}).to_csv(tmp_path / "f.csv", index=False)
    frame = pd.read_csv(tmp_path / "f.csv")
    assert frame.ds.iloc[0].endswith(
        stamps[0].strftime("%z")[:3] + ":" + stamps[0].strftime("%z")[3:]
    )
    return frame


def test_daily_data_across_daylight_saving_steps_in_the_written_dates(tmp_path):
    days = pd.date_range("2022-01-01", periods=150, freq="D", tz="Europe/Berlin")
    frame = _csv_frame(tmp_path, days)  # +01:00 in winter, +02:00 from March 27
    est = Forecaster(horizon=5, lookback=28, **TINY_IT).fit(frame)
    assert est.freq_ == "D"
    expected = pd.date_range("2022-05-31", periods=5, freq="D")  # the written dates go on
    assert (est.predict().ds.values == expected.values).all()
    again = est.predict(frame.iloc[:100])
    assert (again.ds.values == pd.date_range("2022-04-11", periods=5, freq="D").values).all()


def test_hourly_frames_of_one_feed_are_read_alike_whatever_their_offsets(tmp_path):
    hours = pd.date_range("2024-01-01", periods=24 * 100, freq="h", tz="Europe/Berlin")
    frame = _csv_frame(tmp_path, hours)  # January to April: +01:00, then +02:00
    est = Forecaster(horizon=4, lookback=24, **TINY_IT).fit(frame.iloc[:400])  # all +01:00
    later = est.predict(frame)  # the same feed across the clock change
    assert later.ds.iloc[0] == pd.Timestamp(frame.ds.iloc[-1]).tz_convert("UTC") + pd.Timedelta(
        "1h"
    )
    assert np.isfinite(est.evaluate(frame.iloc[300:])["mae"])
    with_val = Forecaster(horizon=4, lookback=24, **TINY_IT)
    with_val.fit(frame.iloc[2000:2100], val_df=frame.iloc[2100:2150])  # crosses March 31
    kolkata = _csv_frame(
        tmp_path, pd.date_range("2024-03-01", periods=50, freq="h", tz="Asia/Kolkata")
    )
    table = read_frame(pl.from_pandas(kolkata))  # one offset: instants, marked UTC
    assert table.layout.time_type["tz"] == "UTC" and table.times[0] == np.datetime64(
        "2024-02-29T18:30"
    )


def test_hourly_data_across_daylight_saving_is_read_as_instants_marked_utc(tmp_path):
    hours = pd.date_range("2024-03-28", periods=120, freq="h", tz="Europe/Berlin")
    frame = _csv_frame(tmp_path, hours)  # local clock skips 02:00 on March 31
    est = Forecaster(horizon=4, lookback=24, **TINY_IT).fit(frame)
    forecast = est.predict()
    assert str(forecast.ds.dt.tz) == "UTC"
    last = pd.Timestamp(frame.ds.iloc[-1]).tz_convert("UTC")
    assert forecast.ds.iloc[0] == last + pd.Timedelta("1h")
    recent = est.predict(frame.iloc[:60])
    assert recent.ds.iloc[0] == pd.Timestamp(frame.ds.iloc[59]).tz_convert("UTC") + pd.Timedelta(
        "1h"
    )


def test_timestamps_with_and_without_offsets_are_refused_naming_the_row():
    frame = pd.DataFrame(
        {
            "ds": ["2024-01-01 00:00:00+01:00", "2024-01-01 01:00:00", "2024-01-01 02:00:00+01:00"],
            "y": [1.0, 2.0, 3.0],
        }
    )
    with pytest.raises(ValueError, match=r"mixes timestamps with and without a UTC offset \(row 1"):
        read_frame(frame)
    plain = read_frame(frame.assign(ds=["2024-01-01", "2024-01-02", "2024-01-03"]))
    assert "wall" not in plain.layout.time_type  # dates without times carry no offset
