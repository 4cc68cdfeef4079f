"""The time zone of frames given to a fitted model (predict, evaluate, backtest, plot,
make_future_dataframe, panels, warm fits): read on the fitted frame's clock as future_df is.
Naive timestamps against zone-aware fitted ones (or the reverse) are refused with the fix,
another zone's timestamps are converted; a column of timestamps in mixed zones is refused."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm.data.frames import read_frame
from tsfm.errors import InputError

FRAME = synthetic_frame(220, 2)  # hourly, naive: date, v0, OT
BERLIN = FRAME.assign(date=FRAME.date.dt.tz_localize("Europe/Berlin"))
IN_UTC = BERLIN.assign(date=BERLIN.date.dt.tz_convert("UTC"))  # the same instants


@pytest.fixture(scope="module")
def berlin_model():
    return tiny().fit(BERLIN.iloc[:180])


@pytest.fixture(scope="module")
def naive_model():
    return tiny().fit(FRAME.iloc[:180])


def _calls(est, frame, fitted_like):
    """Every call that reads a frame after fitting (``actual``: after a ``fitted_like`` one)."""
    return {
        "predict": lambda: est.predict(frame),
        "evaluate": lambda: est.evaluate(frame.iloc[120:]),
        "backtest": lambda: est.backtest(frame, n_windows=1),
        "make_future_dataframe": lambda: est.make_future_dataframe(frame),
        "plot": lambda: est.plot(frame),
        "plot's actual": lambda: est.plot(fitted_like.iloc[:180], actual=frame.iloc[180:]),
    }


def test_naive_timestamps_after_a_zone_aware_fit_are_refused_with_the_fix(berlin_model):
    naive = FRAME  # Berlin's wall clock without its zone: read as UTC it was 1-2 hours off
    for name, call in _calls(berlin_model, naive, BERLIN).items():
        who = "actual" if name == "plot's actual" else "df"
        with pytest.raises(InputError, match=rf"{who}'s timestamps are without a time zone but the fitted frame's are in Europe/Berlin") as err:  # fmt: skip
            call()
        assert "dt.tz_localize('Europe/Berlin')" in str(err.value), name
    with pytest.raises(InputError, match=r"df\.index\.tz_localize\('Europe/Berlin'\)"):
        berlin_model.predict(naive.set_index("date"))
    with pytest.raises(InputError, match=r"pl\.col\('date'\)\.dt\.replace_time_zone"):
        berlin_model.predict(pl.from_pandas(naive))
    with pytest.raises(InputError, match=r"pd\.to_datetime\(df\['date'\]\)\.dt\.tz_localize"):
        berlin_model.predict(naive.assign(date=naive.date.astype(str)))  # text, no offsets


def test_zone_aware_timestamps_after_a_naive_fit_are_refused_with_the_fix(naive_model):
    for name, call in _calls(naive_model, BERLIN, FRAME).items():
        with pytest.raises(InputError, match="are in Europe/Berlin but the fitted frame's are without a time zone") as err:  # fmt: skip
            call()
        assert "dt.tz_localize(None)" in str(err.value), name
    as_text = BERLIN.assign(date=BERLIN.date.astype(str))  # "2020-01-01 00:00:00+01:00"
    with pytest.raises(InputError, match=r"text with UTC offsets but .* utc=True\)"):
        naive_model.predict(as_text)
    with pytest.raises(InputError, match=r"replace_time_zone\(None\)"):
        naive_model.evaluate(pl.from_pandas(IN_UTC))


def test_another_zone_is_read_on_the_fitted_clock_and_comes_back_in_its_own(berlin_model):
    expected = berlin_model.predict(BERLIN)
    tokyo = BERLIN.assign(date=BERLIN.date.dt.tz_convert("Asia/Tokyo"))
    as_text = BERLIN.assign(date=BERLIN.date.astype(str))  # offsets name no zone: the fitted
    for given, zone in [
        (IN_UTC, "UTC"),
        (tokyo, "Asia/Tokyo"),
        (pl.from_pandas(tokyo), "Asia/Tokyo"),
        (as_text, "Europe/Berlin"),
    ]:
        forecast = berlin_model.predict(given)
        if isinstance(forecast, pl.DataFrame):
            forecast = forecast.to_pandas()
        assert np.allclose(forecast.OT, expected.OT)
        assert (forecast.date == expected.date).all()  # the same instants
        assert str(forecast.date.dt.tz) == zone
    scores = berlin_model.evaluate(BERLIN.iloc[120:])
    assert berlin_model.evaluate(IN_UTC.iloc[120:]) == scores


def test_a_backtest_of_fitted_rows_names_them_on_the_fitted_clock(berlin_model):
    last, first = BERLIN.date.iloc[179], BERLIN.date.iloc[172]  # 2020-01-08 11:00:00+01:00
    said = rf"fitted on rows up to {re.escape(str(last))} .* from {re.escape(str(first))}:"
    with pytest.raises(InputError, match=said):
        berlin_model.backtest(IN_UTC, n_windows=6)


def test_daily_dates_in_another_zone_are_the_fitted_zones_days():
    days = pd.date_range("2022-01-01", periods=150, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame({"ds": days, "y": np.sin(np.arange(150) / 3)})
    est = tiny().fit(frame.iloc[:120])  # local midnights across daylight saving (March 27)
    expected = est.predict(frame)
    in_utc = frame.assign(ds=frame.ds.dt.tz_convert("UTC"))  # 23:00 or 22:00 the day before
    for given in (in_utc, pl.from_pandas(in_utc)):
        forecast = est.predict(given)
        forecast = forecast.to_pandas() if isinstance(forecast, pl.DataFrame) else forecast
        assert np.allclose(forecast.y, expected.y)
        assert (forecast.ds == expected.ds.dt.tz_convert("UTC")).all()
    assert est.evaluate(in_utc.iloc[80:]) == est.evaluate(frame.iloc[80:])
    backtest = est.backtest(in_utc, n_windows=2).forecasts
    assert str(backtest.cutoff.dt.tz) == "UTC" and str(backtest.ds.dt.tz) == "UTC"


def test_naive_dates_are_the_local_dates_a_daily_zone_aware_model_holds():
    days = pd.date_range("2022-01-01", periods=150, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame({"ds": days, "y": np.sin(np.arange(150) / 3)})
    est = tiny().fit(frame.iloc[:120])  # held as Berlin's dates (wall clock), not instants
    expected = est.predict(frame)
    naive = frame.assign(ds=frame.ds.dt.tz_localize(None))  # the same dates, without a zone
    dates = pl.from_pandas(frame).with_columns(pl.col("ds").dt.date())  # polars Date
    for given in (naive, dates):
        forecast = est.predict(given)
        forecast = forecast.to_pandas() if isinstance(forecast, pl.DataFrame) else forecast
        assert np.allclose(forecast.y, expected.y)
        assert (forecast.ds == expected.ds.dt.tz_localize(None)).all()  # in the frame's type
        assert est.evaluate(given[80:]) == est.evaluate(frame.iloc[80:])
        est.backtest(given, n_windows=2)
        est.make_future_dataframe(given)
        est.plot(given)
        est.plot(frame.iloc[:120], actual=given[120:])
    with pytest.raises(InputError, match=r"are dates in Europe/Berlin: .*\.dt\.tz_localize\('Europe/Berlin'\)\);") as err:  # fmt: skip
        est.set_params(warm_start=True).fit(naive)  # a warm fit keeps the fitted zone
    assert "off by" not in str(err.value)
    panel = frame.assign(unique_id="a")
    est = tiny(mode="independent").fit(panel.iloc[:120])
    naive_panel = panel.assign(ds=naive.ds)
    assert np.allclose(est.predict(naive_panel).y, est.predict(panel).y)


def test_a_panel_is_read_on_the_fitted_clock_too():
    panel = to_long(BERLIN)
    est = tiny(mode="independent").fit(panel)
    expected = est.predict(panel)
    tokyo = est.predict(panel.assign(ds=panel.ds.dt.tz_convert("Asia/Tokyo")))
    assert np.allclose(tokyo.y, expected.y) and str(tokyo.ds.dt.tz) == "Asia/Tokyo"
    naive = panel.assign(ds=panel.ds.dt.tz_localize(None))
    for call in (lambda: est.predict(naive), lambda: est.evaluate(naive)):
        with pytest.raises(InputError, match="df's timestamps are without a time zone"):
            call()
    with pytest.raises(InputError, match="actual's timestamps are without a time zone"):
        est.plot(panel.iloc[:150], actual=naive)


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_warm_fit_continues_on_the_fitted_clock(mode):
    frame = BERLIN if mode == "joint" else to_long(BERLIN)
    column = "date" if mode == "joint" else "ds"
    est = tiny(mode=mode).fit(frame)
    est.set_params(warm_start=True)
    naive = frame.assign(**{column: frame[column].dt.tz_localize(None)})
    in_utc = frame.assign(**{column: frame[column].dt.tz_convert("UTC")})
    with pytest.raises(InputError, match=r"warm_start=True continues .* without a time zone .* warm_start=False"):  # fmt: skip
        est.fit(naive)
    with pytest.raises(InputError, match=rf"in UTC but .* in Europe/Berlin: .*\['{column}'\]\.dt\.tz_convert\('Europe/Berlin'\)"):  # fmt: skip
        est.fit(in_utc)
    as_text = frame.assign(**{column: frame[column].astype(str)})  # "...+01:00": no zone
    fix = rf"pd\.to_datetime\(df\['{column}'\], utc=True\)\.dt\.tz_convert\('Europe/Berlin'\)"
    with pytest.raises(InputError, match=rf"text with UTC offsets but .* in Europe/Berlin: .*{fix}"):  # fmt: skip
        est.fit(as_text)
    with pytest.raises(InputError, match=r"str\.to_datetime\(\)\.dt\.convert_time_zone\('Europe"):
        est.fit(pl.from_pandas(as_text))
    est.fit(frame)  # its own zone: trained further


def test_timestamps_in_mixed_zones_are_refused_naming_the_column_and_the_fix(naive_model):
    utc = FRAME.date.dt.tz_localize("UTC")
    alternating = [t.tz_convert("America/New_York" if i % 2 else "Asia/Tokyo") for i, t in enumerate(utc)]  # fmt: skip
    mixed = FRAME.assign(date=pd.Series(alternating, dtype=object))
    fix = r"pd\.to_datetime\(df\['date'\], utc=True\)\.dt\.tz_convert\('Asia/Tokyo'\)"
    with pytest.raises(InputError, match=rf"column 'date' holds timestamps in several time zones \(row 0: Asia/Tokyo, row 1: America/New_York\).*{fix}"):  # fmt: skip
        tiny().fit(mixed)
    some_naive = pd.Series([t if i % 2 else t.tz_localize(None) for i, t in enumerate(utc)], dtype=object)  # fmt: skip
    with pytest.raises(InputError, match="holds timestamps with and without a time zone"):
        naive_model.predict(FRAME.assign(date=some_naive))
    with pytest.raises(InputError, match="holds timestamps in several time zones"):
        naive_model.evaluate(mixed.set_index("date"))  # an index of them too
    one_zone = pd.Series([t.tz_convert("Asia/Tokyo") for t in utc], dtype=object)
    assert read_frame(FRAME.assign(date=one_zone)).layout.time_type["tz"] == "Asia/Tokyo"


def test_text_with_mixed_offsets_is_still_read_as_its_instants():
    hours = pd.date_range("2024-03-30", periods=60, freq="h", tz="Europe/Berlin")
    text = [str(t) for t in hours]  # +01:00, then +02:00 from March 31
    for frame in (pd.DataFrame({"ds": text, "y": 1.0}), pl.DataFrame({"ds": text, "y": 1.0})):
        table = read_frame(frame)
        assert table.layout.time_type["tz"] == "UTC"
        assert (table.times == hours.tz_convert("UTC").tz_localize(None).to_numpy()).all()
