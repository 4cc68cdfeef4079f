"""A fitted ``mode="independent"`` panel checks every series of the frame it forecasts from
against its fitted frequency, as ``fit`` does (tsfm/estimator/panel_history.py): a series with
an absent timestamp, or a row off the frequency's grid, is refused by name, row and timestamp
by ``predict``, ``evaluate``, ``backtest``, ``cross_validate``, ``sample_paths``,
``make_future_dataframe`` and ``plot``, instead of reading rows either side of a gap as
consecutive and dating forecasts from an off-grid origin; under ``missing="mask"`` absent steps
are inserted with a warning, as at fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster, InputError

PANEL = panel_frame(lengths=(90, 80, 70)).drop(columns=["store", "promo"])
pytestmark = [
    pytest.mark.filterwarnings("ignore::tsfm.CalendarOverlapWarning"),
    pytest.mark.filterwarnings("ignore::tsfm.InSampleWarning"),
    pytest.mark.filterwarnings("ignore:evaluate. the naive forecast"),
]


def _panel(**extra) -> Forecaster:
    return Forecaster(horizon=6, lookback=24, mode="independent", **TINY_IT, **extra)


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _panel(val_size=12, conformal_windows=2, conformal_step=6).fit(PANEL)


def _gap(row_from_end: int = 2, series: str = "s0") -> pd.DataFrame:
    """``PANEL`` with one row of ``series`` dropped, ``row_from_end`` rows before its end."""
    rows = PANEL.index[PANEL.unique_id == series]
    return PANEL.drop(index=rows[-row_from_end])


GAP = r"series 's0': timestamps are not regular: row 88 is 2021-01-04 17:00:00, but "


@pytest.mark.parametrize(
    "call",
    [
        lambda f, df: f.predict(df),
        lambda f, df: f.predict(df, level=[80]),
        lambda f, df: f.evaluate(df),
        lambda f, df: f.backtest(df, n_windows=1),
        lambda f, df: f.sample_paths(df, n_samples=3, seed=0),
        lambda f, df: f.make_future_dataframe(df),
        lambda f, df: f.plot(df),
    ],
    ids=["predict", "predict_level", "evaluate", "backtest", "sample_paths", "future", "plot"],
)
def test_a_gap_is_refused_by_name_row_and_time(fitted, call):
    with pytest.raises(InputError, match=GAP):
        call(fitted, _gap())


def test_a_row_off_the_grid_is_refused(fitted):
    off = PANEL.copy()
    last = off.index[off.unique_id == "s1"][-1]
    off.loc[last, "ds"] += pd.Timedelta(minutes=30)  # the origin between two hours
    with pytest.raises(InputError, match=r"series 's1': timestamps are not regular: row 79 is"):
        fitted.predict(off)
    with pytest.raises(InputError, match=r"series 's1': timestamps are not regular: row 79 is"):
        fitted.evaluate(off)


def test_regular_series_still_forecast_alike(fitted):
    whole = fitted.predict(PANEL)
    tail = fitted.predict(PANEL.groupby("unique_id").tail(30))  # regular, just shorter
    np.testing.assert_allclose(whole.y.to_numpy(), tail.y.to_numpy())


def test_cross_validate_refuses_a_gap_in_its_scored_rows():
    with pytest.raises(InputError, match=GAP):  # the gap lies after the last fold's cutoff
        _panel().cross_validate(_gap(), n_windows=1, refit=True)


def test_integer_time_steps_of_another_size_are_refused():
    ints = PANEL.assign(ds=PANEL.groupby("unique_id").cumcount())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _panel().fit(ints)
    doubled = ints.assign(ds=np.where(ints.unique_id == "s2", 2 * ints.ds, ints.ds))
    with pytest.raises(InputError, match=r"series 's2': timestamps are not regular: row 1 is 2"):
        est.predict(doubled)
    gap = ints.drop(index=ints.index[ints.unique_id == "s2"][-3])
    with pytest.raises(InputError, match=r"series 's2': timestamps are not regular: row 67 is"):
        est.predict(gap)


def test_masked_absent_steps_are_inserted_with_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _panel(missing="mask").fit(PANEL)
    with pytest.warns(UserWarning, match=r"series 's0': 1 absent step\(s\) .*2021-01-04 16:00"):
        gapped = est.predict(_gap())
    filled = _gap()
    hole = pd.DataFrame({"unique_id": ["s0"], "ds": [pd.Timestamp("2021-01-04 16:00")]})
    filled = pd.concat([filled, hole.assign(y=np.nan)]).sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(gapped.y.to_numpy(), est.predict(filled).y.to_numpy())
    off = PANEL.copy()
    off.loc[off.index[off.unique_id == "s1"][-1], "ds"] += pd.Timedelta(minutes=30)
    with pytest.raises(InputError, match=r"series 's1': row 79 is .* off the grid"):
        est.predict(off)


def _weekly(series: str, start: str, n: int) -> pd.DataFrame:
    step = np.arange(n)
    anchor = "W-" + pd.Timestamp(start).day_name()[:3].upper()
    dates = pd.date_range(start, periods=n, freq=anchor)
    return pd.DataFrame({"unique_id": series, "ds": dates, "y": np.sin(step / 3) + step / 10})


def test_a_new_series_on_another_weekday_is_refused_with_a_fix_that_works():
    """Fitted on Thursday weeks, the model's freq is 'W-THU', which dates its forecasts; a new
    Sunday series is regular, only anchored otherwise: the refusal says so and advises
    freq='7D' at fit, under which the same series is forecast on its own Sundays."""
    thursdays = pd.concat([_weekly("a", "2020-01-02", 60), _weekly("b", "2020-01-09", 50)])
    sundays = _weekly("new", "2020-01-05", 60)
    settings = {"horizon": 4, "lookback": 8, "mode": "independent", **TINY_IT}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Forecaster(**settings).fit(thursdays)
        assert model.freq_ == "W-THU"
        with pytest.raises(InputError, match=r"anchored otherwise .* fit with freq='7D'"):
            model.predict(sundays)
        advised = Forecaster(**settings, freq="7D").fit(thursdays)
        dates = advised.predict(sundays).ds
    last = sundays.ds.iloc[-1]
    assert list(dates) == [last + pd.Timedelta(weeks=k) for k in range(1, 5)]
