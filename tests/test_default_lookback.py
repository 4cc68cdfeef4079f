"""``lookback=None`` (the default): a look-back chosen by the data's seasons and length
(``tsfm/estimator/lookback.py``), recorded and saved; an explicit one used as given."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import to_long
from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError
from tsfm.estimator import lookback
from tsfm.estimator.lookback import default_lookback


def quick(**params) -> Forecaster:
    settings = {**TINY["itransformer"], "max_epochs": 1, "verbose": 0, **params}
    return Forecaster("itransformer", **settings)


@pytest.mark.parametrize(
    ("freq", "horizon", "rows", "expected"),
    [
        ("h", 24, 8000, 96),  # hourly: four days, as before
        ("h", 96, 8000, 96),  # a long horizon keeps it (ETTh1's benchmarks)
        ("QS", 8, 210, 16),  # quarterly: four years, not 24
        ("MS", 18, 300, 48),  # monthly: four years
        ("W-MON", 24, 900, 96),  # weekly: 96, fewer than four years (national_illness)
        ("W-MON", 13, 67, 22),  # a short weekly series: a third of its rows, not 96
        ("D", 14, 1000, 28),  # daily: four weeks
        ("15min", 96, 20000, 96),  # a day, as ETTm1's benchmarks
        ("5min", 12, 10000, 288),  # at least one season: a day
        ("min", 60, 100_000, 720),  # a day would be 1,440 steps: the ceiling
        ("YS", 6, 40, 13),  # yearly: no season, 96 capped to a third of the rows
        (1, 8, 1000, 96),  # integer time: no calendar, 96
        ("h", 24, 200, 66),  # few hourly rows: a third of them
        ("QS", 3, 5, 2),  # at least 2 steps
    ],
)
def test_the_rule_follows_the_season_and_the_rows(freq, horizon, rows, expected):
    assert default_lookback(freq, horizon, rows) == expected


def test_a_season_length_given_sets_the_season():
    assert default_lookback("h", 24, 8000, season_length=168) == 168  # one season, above 96
    assert default_lookback("h", 24, 8000, season_length=12) == 48  # four seasons, below
    assert default_lookback("QS", 8, 210, season_length=1) == 70  # none: 96, capped


def test_too_few_rows_for_any_lookback_is_refused():
    with pytest.raises(InputError, match=r"9 training rows leave no look-back.*2 \+ 8"):
        default_lookback("QS", 8, 9)


def quarterly(n: int = 120) -> pd.DataFrame:
    frame = synthetic_frame(n, n_vars=2, seed=1)
    return frame.assign(date=pd.date_range("1990-01-01", periods=n, freq="QS"))


def test_a_fit_chooses_records_and_saves_the_lookback(tmp_path):
    df = quarterly()
    est = quick(horizon=8).fit(df)
    assert est.lookback is None and est.get_params()["lookback"] is None  # the user's
    assert est.lookback_ == est.fit_metrics_["lookback"] == est.config_.data.seq_len == 16
    assert len(est.history_) == 16
    assert est.predict().shape[0] == 8
    est.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    assert (loaded.lookback, loaded.lookback_, loaded.fit_metrics_["lookback"]) == (None, 16, 16)
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_an_explicit_lookback_is_used_as_given():
    est = quick(horizon=8, lookback=40).fit(quarterly())
    assert est.lookback == est.lookback_ == est.fit_metrics_["lookback"] == 40


def test_a_short_weekly_series_fits_where_96_is_refused():
    n = 80  # the shortest M4 Weekly series: 96 steps do not fit
    df = synthetic_frame(n, n_vars=1).assign(
        date=pd.date_range("2000-01-03", periods=n, freq="W-MON")
    )
    with pytest.raises(InputError, match="lookback \\+ horizon"):
        quick(horizon=13, lookback=96).fit(df)
    est = quick(horizon=13).fit(df)
    assert est.lookback_ == n // 3


def test_validation_rows_are_not_training_rows():
    est = quick(horizon=8, val_size=30).fit(quarterly(90))
    assert est.fit_metrics_["train_rows"] == 60 and est.lookback_ == 16
    est = quick(horizon=8, val_size=45).fit(quarterly(90))
    assert est.lookback_ == 45 // 3


def test_a_warm_fit_keeps_the_fitted_lookback():
    est = quick(horizon=8, warm_start=True).fit(quarterly(36))
    first = est.lookback_
    assert first == 36 // 3
    est.fit(quarterly(200))  # more rows would choose 16 afresh; the weights need 12
    assert est.lookback_ == est.fit_metrics_["lookback"] == first


def test_cross_validation_folds_share_one_lookback():
    est = quick(horizon=8)
    seen = []
    original = Forecaster.fit_table

    def spy(self, table, *args, **kwargs):
        result = original(self, table, *args, **kwargs)
        seen.append(self.lookback_)
        return result

    Forecaster.fit_table = spy
    try:
        est.cross_validate(quarterly(60), n_windows=3)
    finally:
        Forecaster.fit_table = original
    assert seen == [(60 - 3 * 8) // 3] * 3  # the first fold's rows, for every fold
    assert est.lookback is None


def test_a_panel_chooses_by_its_median_series():
    wide = synthetic_frame(120, n_vars=3).assign(
        date=pd.date_range("1990-01-01", periods=120, freq="QS")
    )
    long = to_long(wide)
    long = long[~((long.unique_id == "v0") & (long.ds < long.ds.iloc[90]))]  # 30 rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = quick(horizon=8, mode="independent").fit(long)
    assert est.lookback_ == est.fit_metrics_["lookback"] == 16


def daily_panel(lengths: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": name,
                "ds": pd.date_range("2020-01-01", periods=n, freq="D"),
                "y": np.sin(np.arange(n)) + rng.random(n),
            }
        )
        for name, n in lengths.items()
    )


def test_a_panel_with_a_short_median_series_is_not_refused_where_a_lookback_fits():
    panel = daily_panel({"a": 5, "b": 5, "c": 30})  # the median series holds 5 rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = quick(horizon=4, mode="independent", val_size=None).fit(panel)
    assert est.lookback_ == 2  # as lookback=2 fits it; its short series are padded


def test_a_panel_cross_validation_pins_the_lookback_its_first_folds_fit_chooses(monkeypatch):
    panel = daily_panel({"a": 40, "b": 40, "c": 40})
    settings = {"horizon": 7, "mode": "independent", "val_size": 0.1}
    pinned, seen = lookback.pinned, []

    def spy(est, value):
        seen.append(value)
        return pinned(est, value)

    monkeypatch.setattr(lookback, "pinned", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fold = quick(**settings).fit(panel.groupby("unique_id").head(33))
        quick(**settings).cross_validate(panel, n_windows=1)
    assert fold.lookback_ == 8  # a third of the 26 rows panel validation leaves
    assert seen == [fold.lookback_]  # the folds' models: what a fit on their rows chooses
