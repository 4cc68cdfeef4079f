"""Panels whose series step alike on differently anchored grids: weekly series on different
weekdays (as M4 Weekly's), quarters of fiscal years starting in different months. Fitted
independently on one frequency every series follows (``'7D'``, ``'3MS'``), each forecast on
its own dates; an explicit anchored ``freq`` that a series is regular beside is refused as
such; ``mode='joint'``, which needs one time index, refuses them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.data import make_datamodule
from tsfm.data.frames.anchors import common_freq, describe
from tsfm.data.seasons import natural_seasons

FIT = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 16, "verbose": 0}


def anchored_panel(starts, freq: str, lengths=(40, 33, 27, 20)) -> pd.DataFrame:
    """One series per start, each ``freq`` apart from its own start, of its own length."""
    parts = []
    for k, (start, n) in enumerate(zip(starts, lengths, strict=False)):
        ds = pd.date_range(start, periods=n, freq=freq)
        y = np.sin(np.arange(n) / 3) + k + np.random.default_rng(k).normal(0, 0.1, n)
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


# a Friday, a Sunday, a Tuesday and a Wednesday: weekly series on four weekdays
WEEKDAYS = ("2010-09-03", "2011-01-02", "2011-03-08", "2012-06-13")


def own_next_dates(df: pd.DataFrame, freq: str, horizon: int) -> dict:
    last = df.groupby("unique_id").ds.max()
    return {s: list(pd.date_range(t, periods=horizon + 1, freq=freq)[1:]) for s, t in last.items()}


def fit(df: pd.DataFrame, **params) -> Forecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's and the absent-steps notes
        defaults = {"horizon": 4, "lookback": 8, "mode": "independent", **FIT}
        return Forecaster("itransformer", **{**defaults, **params}).fit(df)


@pytest.mark.parametrize("missing", ["refuse", "mask"])
def test_weekly_series_on_different_weekdays_fit_and_forecast_their_own_next_weeks(missing):
    df = anchored_panel(WEEKDAYS, "7D")
    assert df.ds.dt.day_name().nunique() == 4
    f = fit(df, missing=missing)
    assert f.freq_ == "7D"
    forecasts = f.predict()
    expected = own_next_dates(df, "7D", 4)
    for series, rows in forecasts.groupby("unique_id"):
        assert list(rows.ds) == expected[series], series  # on each series' own weekday
    again = f.predict(df[df.unique_id == "s1"])  # a frame of one of them: its own dates too
    assert list(again.ds) == expected["s1"]


def test_a_mixed_weekday_panel_keeps_the_seasons_of_weekly_data():
    """'7D' is weekly data: its season is a year of 52 steps, as an aligned panel's 'W-SUN'."""
    assert natural_seasons("7D") == natural_seasons("W") == (52,)
    assert natural_seasons("14D") == natural_seasons("2W-FRI") == (26,)
    mixed = fit(anchored_panel(WEEKDAYS, "7D", lengths=(70, 64, 60, 58)), lookback=52)
    aligned = fit(anchored_panel(["2011-01-02"] * 4, "7D", lengths=(70, 64, 60, 58)), lookback=52)
    assert (mixed.freq_, aligned.freq_) == ("7D", "W-SUN")
    assert mixed.config_.season_length == aligned.config_.season_length == 52


def test_quarters_of_different_fiscal_years_fit_on_steps_of_three_months():
    df = anchored_panel(["2000-01-01", "2000-02-01", "2000-11-01"], "3MS")
    f = fit(df)
    assert f.freq_ == "3MS"
    assert f.config_.season_length == 4  # a year of quarters, as 'QS'
    expected = own_next_dates(df, "3MS", 4)
    for series, rows in f.predict().groupby("unique_id"):
        assert list(rows.ds) == expected[series], series
    assert common_freq("QE-NOV") == "3ME" and common_freq("YS-JUL") == "12MS"
    assert common_freq("W-FRI") == "7D" and common_freq("MS") is None
    assert describe("QS-FEB") == "quarters stamped at their starts, in Feb, May, Aug and Nov"


@pytest.mark.parametrize("missing", ["refuse", "mask"])
def test_an_explicit_weekly_freq_refuses_a_regular_series_on_another_weekday(missing):
    df = anchored_panel(WEEKDAYS[:2], "7D")
    with pytest.raises(ValueError) as err:
        fit(df, freq="W-SUN", missing=missing)
    message = str(err.value)
    assert "series 's0': timestamps are regular, but anchored elsewhere" in message
    assert "'W-FRI' (weeks on Fridays), not by 'W-SUN' (weeks on Sundays)" in message
    assert "Give freq='W-FRI', the series' own anchor, or freq='7D'" in message
    assert "missing='mask'" not in message and "interpolate" not in message
    assert fit(df, freq="7D", missing=missing).freq_ == "7D"  # what it suggests works


def test_months_stamped_at_starts_and_at_ends_are_refused_with_the_fix():
    df = anchored_panel(["2001-01-01", "2001-01-31"], "MS").assign(
        ds=lambda d: d.ds.where(d.unique_id == "s0", d.ds + pd.offsets.MonthEnd(0))
    )
    with pytest.raises(ValueError) as err:
        fit(df)
    message = str(err.value)
    assert "series 's1' steps by 'ME' (months stamped at their ends)" in message
    assert "the panel steps by 'MS' (months stamped at their starts)" in message
    assert "stamp every series' periods alike" in message and "to_period('M')" in message
    assert "interpolate" not in message


def test_series_of_other_steps_are_named_as_such_and_mask_is_not_offered_again():
    daily = anchored_panel(["2020-01-01"], "D", lengths=(60,))
    weekly = anchored_panel(["2020-01-05"], "W-SUN", lengths=(20,)).assign(unique_id="w")
    with pytest.raises(ValueError) as err:
        fit(pd.concat([daily, weekly]), missing="mask")
    message = str(err.value)
    assert "series 'w' steps by 'W-SUN' (weeks on Sundays), but the panel steps by 'D'" in message
    assert "missing='mask'" not in message and "interpolate" not in message


def test_a_two_row_series_off_the_panel_grid_is_refused_under_mask_without_offering_it():
    """Two rows cannot tell their own step, and missing='mask' has nothing to insert between
    them (which once raised an IndexError): the panel's frequency refuses them, with the fix
    that applies under missing='mask'."""
    daily = anchored_panel(["2020-01-01"], "D", lengths=(60,))
    two_rows = pd.DataFrame(  # too short to tell its own step; off the panel's grid
        {"unique_id": "b", "ds": pd.to_datetime(["2020-01-01 00:00", "2020-01-04 06:00"]), "y": 1.0}
    )
    with pytest.raises(ValueError) as err:
        fit(pd.concat([daily, two_rows]), missing="mask", horizon=1, lookback=4)
    message = str(err.value)
    assert message.startswith("series 'b': timestamps are not regular: row 1 is 2020-01-04")
    assert "Give the intended frequency" in message and "missing='mask' inserts" in message
    assert "forecast with absent steps as missing values" not in message


@pytest.mark.parametrize("missing", ["refuse", "mask"])
def test_joint_mode_refuses_series_whose_grids_never_meet(missing):
    """One time index for weekly series on a Friday and on a Sunday would be daily, six days in
    seven missing for each: refused, pointing at mode='independent'."""
    df = anchored_panel(WEEKDAYS[:2], "7D")
    with pytest.raises(ValueError) as err:
        fit(df, mode="joint", missing=missing)
    message = str(err.value)
    assert "series 's1' steps by 'W-SUN' (weeks on Sundays) from 2011-01-02" in message
    assert "and series 's0' by 'W-FRI' (weeks on Fridays) from 2010-09-03" in message
    assert "never meet" in message and "Use mode='independent'" in message


def test_the_command_line_reads_a_mixed_weekday_long_file_on_each_series_dates(tmp_path):
    df = anchored_panel(WEEKDAYS, "7D")
    path = tmp_path / "weekly.csv"
    df.to_csv(path, index=False)
    settings = {
        "name": "custom", "path": str(path), "id_col": "unique_id", "date_col": "ds",
        "target": "y", "mode": "independent", "seq_len": 4, "pred_len": 2,
    }  # fmt: skip
    datamodule = make_datamodule(settings)
    assert datamodule.freq == "7D"
    datamodule.setup()
    test = datamodule.datasets["test"]
    for j, (series, rows) in enumerate(df.groupby("unique_id")):
        last = int(np.flatnonzero(test.series.numpy() == j)[-1])
        times = datamodule.window_times("test", last)
        np.testing.assert_array_equal(times, rows.ds.to_numpy()[-6:], err_msg=series)


def test_an_absent_week_of_a_series_on_its_own_weekday_is_named_not_its_first_row():
    """A Sunday series with one week absent, beside a longer Thursday one: its own step is
    what is irregular (row 50), not its weekday (row 0 against the Thursdays' 'W-THU')."""
    sundays = anchored_panel(["2010-01-03"], "7D", lengths=(100,)).drop(index=50)
    thursdays = anchored_panel(["2010-01-07"], "7D", lengths=(120,)).assign(unique_id="thu")
    with pytest.raises(ValueError) as err:
        fit(pd.concat([sundays, thursdays], ignore_index=True))
    message = str(err.value)
    assert message.startswith("series 's0' (weeks on Sundays, its own weekday")
    assert "on 'W-THU' (weeks on Thursdays)): timestamps are not regular: row 50 is " in message
    assert "2010-12-26 00:00:00, but frequency 'W-SUN' puts 2010-12-19 00:00:00 there" in message
    assert "row 0" not in message and "Fill the missing steps" in message
    sundays_too = thursdays.assign(ds=pd.date_range("2010-01-03", periods=120, freq="7D"))
    with pytest.raises(ValueError) as err:  # the longest's anchor: refused as before
        fit(pd.concat([sundays, sundays_too], ignore_index=True))
    assert str(err.value).startswith("series 's0': timestamps are not regular: row 50 is 2010-12")
