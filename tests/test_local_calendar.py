"""Calendar features of zone-aware sub-daily data read the zone's clock (the hour a demand
follows), in training, forecasts and panels; models saved before keep UTC's clock."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.data.timefeatures import calendar_zone, time_features

TOKYO = "Asia/Tokyo"  # UTC+9 all year: its clock is a regular naive series too


def _frame(zone: str | None, n: int = 200) -> pd.DataFrame:
    stamps = pd.date_range("2022-03-01", periods=n, freq="h")
    hour = stamps.hour.to_numpy()
    y = np.where((hour >= 8) & (hour < 20), 10.0, 1.0) + np.sin(np.arange(n) / 5)
    return pd.DataFrame({"ds": stamps.tz_localize(zone) if zone else stamps, "y": y})


def test_the_zone_is_read_on_its_own_clock():
    utc = pd.date_range("2022-03-01 00:00", periods=3, freq="h", tz="UTC")
    local = time_features(utc.tz_localize(None).to_numpy(), "h", TOKYO)
    wall = time_features(utc.tz_convert(TOKYO).tz_localize(None).to_numpy(), "h")
    np.testing.assert_array_equal(local, wall)
    assert calendar_zone({"tz": TOKYO}) == TOKYO
    assert calendar_zone({"tz": TOKYO, "wall": True}) is None  # daily: dates as written
    assert calendar_zone({"tz": TOKYO}, local=False) is None


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_zone_aware_frame_forecasts_as_its_wall_clock_does(mode):
    settings = dict(horizon=6, lookback=24, mode=mode, **TINY_IT)
    aware, naive = _frame(TOKYO), _frame(None)
    if mode == "independent":
        aware, naive = aware.assign(unique_id="a"), naive.assign(unique_id="a")
    zoned = Forecaster(**settings).fit(aware).predict()
    wall = Forecaster(**settings).fit(naive).predict()
    value = "y" if mode == "joint" else "forecast"
    column = value if value in zoned else [c for c in zoned if c not in ("ds", "unique_id")][0]
    np.testing.assert_allclose(zoned[column], wall[column], rtol=1e-6)


def test_a_model_saved_before_keeps_utcs_clock(tmp_path):
    frame = _frame(TOKYO)
    old = Forecaster(horizon=6, lookback=24, data__local_calendar=False, **TINY_IT).fit(frame)
    expected = old.predict(frame)
    old.save(tmp_path / "m")
    config = yaml.safe_load((tmp_path / "m" / "config.yaml").read_text())
    del config["data"]["local_calendar"]  # as written before the setting existed
    (tmp_path / "m" / "config.yaml").write_text(yaml.safe_dump(config))
    again = Forecaster.load(tmp_path / "m").predict(frame)
    pd.testing.assert_frame_equal(again, expected)
    fresh = Forecaster.load(tmp_path / "m")
    assert fresh.config_.data.local_calendar is False
