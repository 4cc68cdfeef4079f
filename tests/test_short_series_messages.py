"""Dates, frequencies and fold counts of short quarterly, monthly and yearly series: absent
quarters under ``missing="mask"`` without ``freq``, parameters refused before the frame is
read, the frequency aliases pandas 3 dropped, a horizon to suggest for integer time, folds
that do not fit, and periods as statistics packages write them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.data.frames import read_frame, resolve_freq
from tsfm.data.frames.gaps import insert_absent_steps
from tsfm.data.frames.table import SeriesTable

SMALL = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 16, "verbose": 0}


def quarterly(n: int) -> pd.DataFrame:
    t = np.arange(n)
    y = 10 + np.sin(2 * np.pi * t / 4) + 0.05 * t
    return pd.DataFrame({"ds": pd.date_range("1970-01-01", periods=n, freq="QS"), "y": y})


def test_absent_quarters_under_mask_take_the_frequency_the_rows_show_and_never_suggest_mask():
    gappy = quarterly(60).drop(index=[40, 41])
    est = Forecaster(horizon=4, lookback=8, missing="mask", **SMALL)
    with pytest.warns(UserWarning, match=r"2 absent step.*No frequency was given.*'QS-JAN'"):
        table = est.read(gappy)
    assert len(table) == 60 and np.isnan(table.values[[40, 41], 0]).all()
    with pytest.raises(ValueError, match="missing='mask' in Python"):  # not in force: offered
        Forecaster(horizon=4, lookback=8, **SMALL).fit(gappy)
    sparse = quarterly(60).iloc[np.r_[0:4, 6:60:2]]  # mostly two quarters apart
    with pytest.raises(ValueError, match="give freq='QS-JAN'") as refused:
        est.read(sparse)
    assert "missing=" not in str(refused.value)  # the option already in force
    with pytest.raises(
        ValueError,
        match=r"not a step of frequency 'QE' \(its steps from there: "
        r"1970-03-31.*consecutive rows step by 'QS-JAN'",
    ):
        Forecaster(horizon=4, lookback=8, missing="mask", freq="QE").read(gappy)
    with pytest.warns(UserWarning, match="absent step"):
        fitted = est.fit(gappy)
    assert fitted.freq_ == "QS-JAN"
    assert list(fitted.predict().ds.dt.strftime("%Y-%m")) == [
        "1985-01",
        "1985-04",
        "1985-07",
        "1985-10",
    ]


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"allow_irregular": True}, "unknown parameter 'allow_irregular'"),
        ({"model": "itransfomer"}, "unknown model 'itransfomer'; registered models"),
        ({"freq": "Q"}, "freq: unknown frequency 'Q'.* use 'QS'"),
        ({"freq": "15m"}, "freq: unknown frequency '15m': for minutes .* '15min'"),
    ],
)
def test_parameters_are_refused_before_the_frame_is_read(setting, message):
    gappy = quarterly(60).drop(index=[40, 41])  # irregular: reading it would be refused
    with pytest.raises(ValueError, match=message):
        Forecaster(**{"horizon": 4, "lookback": 8, **setting}).fit(gappy)


@pytest.mark.parametrize(
    "old, message",
    [
        ("Q", r"use 'QS' for timestamps at period starts \(1970-01-01, 1970-04-01, ...\) or 'QE'"),
        ("M", r"use 'MS' .* or 'ME' for timestamps at period ends \(1970-01-31"),
        ("Y", "use 'YS' .* or 'YE'"),
        ("A", "use 'YS' .* or 'YE'"),
        ("Q-JUN", "use 'QS-JUL' .* or 'QE-JUN'"),
        ("2Q", "use '2QS' .* or '2QE'"),
        ("H", "pandas now calls it 'h'$"),
        ("T", "pandas now calls it 'min'$"),
        ("15T", "pandas now calls it '15min'$"),
        ("S", "pandas now calls it 's'$"),
        ("AS-JAN", r"\(pandas: Did you mean YS-JAN\?\)"),  # pandas' own hint, kept
        ("qs", "case-sensitive; did you mean 'QS'"),
        ("15m", "minutes .* pandas writes '15min'; for months, '15MS' .* or '15ME'"),  # polars
        ("m", "pandas writes 'min'; for months, 'MS'"),
        ("1mo", "polars' months; pandas calls them '1MS' .* or '1ME'"),
    ],
)
def test_frequency_aliases_pandas_dropped_are_refused_with_their_successors(old, message):
    times = quarterly(12).ds.to_numpy().astype("datetime64[ns]")
    with pytest.raises(ValueError, match=f"unknown frequency '{re.escape(old)}'.*{message}"):
        resolve_freq(times, old)
    gappy = SeriesTable(np.ones((10, 1)), np.delete(times, [5, 6]), ["y"])
    with pytest.raises(ValueError, match=f"unknown frequency '{re.escape(old)}'.*{message}"):
        insert_absent_steps(gappy, old)  # missing="mask" with a freq, and the CLI's data.freq
    assert resolve_freq(times, "QS") == "QS-JAN"  # the alias suggested reads these rows


def test_integer_time_without_a_horizon_gets_a_suggestion_without_a_calendar():
    years = pd.DataFrame({"year": np.arange(1950, 2010), "y": np.arange(60.0)})
    with pytest.raises(ValueError, match="horizon is required") as refused:
        Forecaster(lookback=8, date_col="year").fit(years)
    message = str(refused.value)
    assert "horizon=2), a quarter of lookback=8" in message and "integers (steps of 1)" in message
    assert "day" not in message  # integer steps are not hours
    with pytest.raises(ValueError, match=r"horizon=8\); 8 steps of 'QS-JAN' is the M4"):
        Forecaster(lookback=8).fit(quarterly(60))  # calendar data: as before


def test_too_many_folds_say_how_many_fit_and_never_count_negative_rows():
    frame = quarterly(120)
    est = Forecaster(horizon=8, lookback=16, **SMALL).fit(frame.iloc[:56])
    rest = frame.iloc[56:]  # 64 rows; 10 folds 8 apart need 16 + 9 * 8 + 8 = 96
    with pytest.raises(ValueError, match=r"10 fold\(s\) 8 steps apart need 96 rows") as refused:
        est.backtest(rest, n_windows=10)
    message = str(refused.value)
    assert not re.search(r"(?<![\w-])-\d", message)  # no negative count
    # 64 - 8 - 16 = 40 rows for the steps between folds: 40 // 8 + 1 = 6 folds, or 10 folds
    # with step 40 // 9 = 4
    assert "16 before the first cutoff (a forecast needs lookback = 16)" in message
    assert "the frame has 64. Use n_windows=6 (the most that fit 8 steps apart)" in message
    assert "step=4 (the largest with which 10 fit) or a frame of at least 96 rows" in message
    assert len(est.backtest(rest, n_windows=6).metrics) == 6  # what it offers fits
    assert len(est.backtest(rest, n_windows=10, step=4).metrics) == 10
    with pytest.raises(ValueError, match="Use n_windows=9 .the most that fit 5 steps apart"):
        est.backtest(rest, n_windows=10, step=5)  # 64 - 8 - 16 - 9 * 5 < 0; 8 * 5 fits
    fresh = Forecaster(horizon=8, lookback=16, val_size=0.2, **SMALL)
    # 38 rows before a cutoff: round(0.2 * 38) = 8 validation rows (one horizon), 30 >= 24 to
    # train; 60 rows: 60 - 8 - 38 = 14 to step over: 14 // 8 + 1 = 2 folds, or step 14 // 4 = 3
    with pytest.raises(ValueError, match=r"5 fold\(s\) 8 steps apart need 78 rows") as refused:
        fresh.cross_validate(frame.iloc[:60], n_windows=5)
    message = str(refused.value)
    assert "38 before the first cutoff (lookback + horizon = 24 rows to train on plus " in message
    assert "the 8 validation rows of val_size=0.2, which must be at least one horizon)" in message
    assert "n_windows=2 (the most that fit 8 steps apart), step=3 (the" in message
    assert "a smaller val_size or a frame of at least 78 rows" in message
    with pytest.raises(ValueError, match="has 20, too few for even one fold: pass at least 32"):
        Forecaster(horizon=8, lookback=16).cross_validate(frame.iloc[:20], n_windows=3)


def test_too_many_folds_of_independent_series_say_how_many_fit_the_shortest():
    long = pd.concat([quarterly(60).assign(unique_id="a"), quarterly(30).assign(unique_id="b")])
    est = Forecaster(horizon=4, lookback=8, mode="independent", **SMALL)
    # b: 30 rows, more than 4 before the first cutoff: 30 - 4 - 5 = 21 to step over, so
    # 21 // 4 + 1 = 6 folds 4 apart, or 9 folds with step 21 // 8 = 2
    with pytest.raises(ValueError, match=r"series \['b'\] are too short") as refused:
        est.cross_validate(long, n_windows=9)
    message = str(refused.value)
    assert "series 'b' has 30. Use n_windows=6" in message
    assert "step=2 (the largest with which 9 fit), df without the series ['b'] or" in message


def test_periods_written_quarter_first_or_as_month_codes_are_read():
    quarters = ["Q1 1970", "Q2 1970", "Q3 1970", "Q4 1970", "Q1-1971"]
    table = read_frame(pd.DataFrame({"Quarter": quarters, "y": np.arange(5.0)}))
    assert list(table.times.astype("datetime64[D]").astype(str)) == [
        "1970-01-01",
        "1970-04-01",
        "1970-07-01",
        "1970-10-01",
        "1971-01-01",
    ]
    assert resolve_freq(table.times) == "QS-JAN"
    months = ["1999M11", "1999M12", "2000M01", "2000m2"]  # EViews / statsmodels
    table = read_frame(pd.DataFrame({"ds": months, "y": np.arange(4.0)}))
    assert list(table.times.astype("datetime64[M]").astype(str)) == [
        "1999-11",
        "1999-12",
        "2000-01",
        "2000-02",
    ]
    assert resolve_freq(table.times) == "MS"
    with pytest.raises(ValueError, match=r"row 1: '2000M13'\); tsfm reads .*'Q1 1970'"):
        read_frame(pd.DataFrame({"ds": ["2000M12", "2000M13", "2001M01"], "y": [1.0, 2, 3]}))
