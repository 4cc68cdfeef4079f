"""The rows a fitted ``mode="independent"`` panel is given of each series at ``predict`` and
``sample_paths`` (tsfm/estimator/panel_given.py): a series not seen in training is scaled by
the rows given, so one whose rows give no scale is refused (fewer than 2 observed values; with
intervals, constant rows: its intervals collapsed to a width near 1 before) and one scaled
from fewer than ``lookback + horizon`` rows is warned about; a fitted series given fewer rows
than the look-back is padded as in training, with a warning, unless its rows start where its
fitted ones did."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster, InputError

PANEL = panel_frame(lengths=(90, 80, 70)).drop(columns=["store", "promo"])
_k = np.arange(200)
NEW = pd.DataFrame(  # a trending series the model never saw
    {
        "unique_id": "new",
        "ds": pd.date_range("2021-02-01", periods=200, freq="h"),
        "y": 100 + 3 * _k + 5 * np.sin(_k / 3),
    }
)
FEW_ROWS = r"series \['new'\] \(10 rows\) not seen in training are scaled by the rows given"
SHORT = r"fewer rows than the look-back \(24\)"
pytestmark = pytest.mark.filterwarnings("ignore:fit. the fitted model.s validation loss")


def _panel(**extra) -> Forecaster:
    return Forecaster(horizon=6, lookback=24, mode="independent", **TINY_IT, **extra)


@pytest.fixture(scope="module")
def calibrated() -> Forecaster:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _panel(val_size=12, conformal_windows=2, conformal_step=6).fit(PANEL)


def _quiet(call, message: str):
    """``call()``, failing if it warns with ``message``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=f".*{message}")
        return call()


@pytest.mark.parametrize("level", [None, [80]])
def test_a_new_series_with_one_value_is_refused(calibrated, level):
    with pytest.raises(
        InputError, match=r"series \['new'\] not seen in training have 1 observed value"
    ):
        calibrated.predict(NEW.tail(1), level=level)


def test_a_new_series_constant_over_its_rows_has_no_interval(calibrated):
    flat = NEW.tail(2).assign(y=469.0)
    with pytest.raises(InputError, match=r"series \['new'\] not seen in training are constant"):
        calibrated.predict(flat, level=[80])
    with pytest.raises(InputError, match="forecast it without intervals"):
        calibrated.sample_paths(flat, n_samples=3, seed=0)
    with pytest.warns(UserWarning, match="not seen in training are scaled by the rows given"):
        point = calibrated.predict(flat)  # a point forecast needs no spread
    assert np.isfinite(point.y).all()


def test_a_new_series_scaled_from_few_rows_is_warned_about(calibrated):
    with pytest.warns(UserWarning, match=FEW_ROWS) as caught:
        calibrated.predict(pd.concat([PANEL, NEW.tail(10)]), level=[80])
    named = [w for w in caught if "not seen in training" in str(w.message)]
    assert len(named) == 1  # once per call, the fitted series not named
    assert "s0" not in str(named[0].message)
    with pytest.warns(UserWarning, match=FEW_ROWS):
        calibrated.sample_paths(NEW.tail(10), n_samples=3, seed=0)
    full = _quiet(lambda: calibrated.predict(NEW, level=[80]), "not seen in training")
    few = calibrated.predict(NEW.tail(10), level=[80])
    width = [(p["y-hi-80"] - p["y-lo-80"]).mean() for p in (full, few)]
    assert width[1] < width[0] / 3  # what the warning is about: a scale from 10 rows


def test_a_fitted_series_given_fewer_rows_than_the_lookback_is_warned_about(calibrated):
    s0 = PANEL[PANEL.unique_id == "s0"]
    with pytest.warns(UserWarning, match=rf"series \['s0'\] \(5 rows\) are given {SHORT}"):
        calibrated.predict(s0.tail(5))
    _quiet(lambda: calibrated.predict(s0.tail(24)), SHORT)
    _quiet(lambda: calibrated.predict(PANEL), SHORT)


def test_a_fitted_series_shorter_than_the_lookback_from_its_start_is_not_warned_about():
    start = pd.Timestamp("2021-01-05")
    short = pd.DataFrame(
        {"unique_id": "s3", "ds": pd.date_range(start, periods=15, freq="h"), "y": np.arange(15.0)}
    )
    panel = pd.concat([PANEL, short], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _panel().fit(panel)  # s3 is padded in training
    _quiet(lambda: est.predict(panel), SHORT)
    with pytest.warns(UserWarning, match=rf"series \['s3'\] \(8 rows\) are given {SHORT}"):
        est.predict(short.tail(8))
