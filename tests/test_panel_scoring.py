"""``evaluate`` of independent panels (``mode="independent"``): every window of every series,
scored as ``predict`` forecasts it, pooled and per series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_backtests import assert_warned_for_every_missing
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

LOOKBACK, HORIZON = 24, 6
LENGTHS = (120, 90, 20)  # the last series is shorter than lookback + horizon


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    frame = panel_frame(lengths=LENGTHS)
    frame.loc[[5, 50, 130], "y"] = np.nan  # gaps: masked in training and in the scores
    return frame


@pytest.fixture(scope="module")
def model(panel) -> Forecaster:
    # season_length=1, the naive baseline: with a day (24, the whole look-back) the 20-row
    # series' one window would have no seasonal naive forecast
    return Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", future_covariates=["promo"],
        static_covariates=["store"], missing="mask", loss="quantile", quantiles=[0.1, 0.5, 0.9],
        season_length=1, **TINY_IT,
    ).fit(panel)  # fmt: skip


def _windows(length: int) -> int:
    return length - HORIZON - min(LOOKBACK, length - HORIZON) + 1


def test_every_window_of_every_series_is_scored_as_predict_forecasts_it(model, panel):
    metrics, windows = model.evaluate(panel, return_forecasts=True)
    assert metrics["windows"] == sum(_windows(n) for n in LENGTHS) == 91 + 61 + 1
    assert len(windows) == metrics["windows"] * HORIZON
    assert list(windows.columns[:7]) == [
        "unique_id",
        "ds",
        "cutoff",
        "step",
        "y",
        "forecast",
        "snaive",
    ]
    assert {"forecast-lo-80", "forecast-hi-80"} <= set(windows.columns)
    # the last window of each series is the forecast predict() makes from the rows before it
    rank = panel.groupby("unique_id").cumcount(ascending=False)
    history, tail = panel[rank >= HORIZON], panel[rank < HORIZON]
    future = model.make_future_dataframe(history).drop(columns=["promo"])
    future = future.merge(tail[["unique_id", "ds", "promo"]], on=["unique_id", "ds"])
    expected = model.predict(history, future_df=future)
    last = windows.groupby("unique_id").tail(HORIZON)
    np.testing.assert_allclose(
        last.forecast.to_numpy(), expected.y.to_numpy(), rtol=1e-5, atol=1e-6
    )
    assert (last.ds.to_numpy() == tail.ds.to_numpy()).all()
    first = windows[windows.unique_id == "s0"].iloc[0]  # the first LOOKBACK rows are inputs
    assert first.cutoff == panel.ds.iloc[LOOKBACK - 1] and first.ds == panel.ds.iloc[LOOKBACK]
    # pooled scores are those of the windows' values; missing targets are left out
    assert windows.y.isna().sum() > 0
    error = (windows.forecast - windows.y).abs()
    assert metrics["mae_original"] == pytest.approx(error.mean())  # pandas skips NaN
    assert metrics["mse_original"] == pytest.approx((error**2).mean())
    assert 0 <= metrics["coverage_80"] <= 1 and np.isfinite(metrics["crps"])
    snaive_error = (windows.snaive - windows.y).abs()
    assert all(np.isfinite(v) for v in metrics.values())
    assert snaive_error.notna().sum() == error.notna().sum()


def test_per_series_rows_hold_each_series_scores_and_window_count(model, panel):
    per_series = model.evaluate(panel, per_series=True)
    _, windows = model.evaluate(panel, return_forecasts=True)
    assert per_series.unique_id.tolist() == ["s0", "s1", "s2"]
    assert per_series.windows.tolist() == [_windows(n) for n in LENGTHS]
    for row in per_series.itertuples():
        own = windows[windows.unique_id == row.unique_id]
        assert row.mae == pytest.approx((own.forecast - own.y).abs().mean())
    polars = model.evaluate(pl.from_pandas(panel), per_series=True)
    assert isinstance(polars, pl.DataFrame) and polars["windows"].to_list() == [91, 61, 1]
    future = model.make_future_dataframe(pl.from_pandas(panel))  # the input's library
    assert isinstance(future, pl.DataFrame) and future.height == 3 * HORIZON
    forecast = model.predict(pl.from_pandas(panel), future_df=future.fill_nan(0.0))
    assert isinstance(forecast, pl.DataFrame) and forecast.height == 3 * HORIZON


def test_a_new_series_is_scaled_by_its_own_rows_and_too_short_ones_are_named(panel):
    plain = panel.drop(columns=["promo", "store"])
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", missing="mask", **TINY_IT
    ).fit(plain[plain.unique_id != "s1"])
    scores = model.evaluate(plain, per_series=True)  # s1 was not in training
    assert scores.windows.tolist() == [_windows(n) for n in LENGTHS]
    assert np.isfinite(scores.mae.to_numpy()).all()
    shifted = plain.assign(y=plain.y + 1000.0 * (plain.unique_id == "s1"))
    again = model.evaluate(shifted, per_series=True)  # its own scale: the same scaled errors
    assert again.mae.iloc[1] == pytest.approx(scores.mae.iloc[1], rel=1e-3)
    tiny = pd.concat([plain, plain[plain.unique_id == "s2"].head(HORIZON).assign(unique_id="s3")])
    with pytest.raises(ValueError, match=r"series \['s3'\] have \[6\] rows.*more than horizon"):
        model.evaluate(tiny)


def test_a_short_series_mase_scales_by_its_own_steps_not_the_padding():
    stamps = pd.date_range("2021-01-01", periods=120, freq="h")
    long = pd.DataFrame({"unique_id": "L", "ds": stamps, "y": np.sin(np.arange(120) / 4)})
    short = pd.DataFrame({"unique_id": "S", "ds": stamps[:30], "y": 100.0 + np.arange(30)})
    panel = pd.concat([long, short], ignore_index=True)
    est = Forecaster(
        horizon=8, lookback=24, mode="independent", season_length=1, **TINY_IT
    ).fit(panel)  # fmt: skip
    scores = est.evaluate(panel, per_series=True).set_index("unique_id")
    assert scores.loc["S", "windows"] == 1  # its one window looks back on 22 of its rows
    assert scores.loc["S", "mase"] == pytest.approx(scores.loc["S", "mae"])  # steps of 1.0


def test_every_missing_per_series_value_is_warned_about_with_its_reason():
    stamps = pd.date_range("2021-01-01", periods=80, freq="h")
    panel = pd.concat(
        [
            pd.DataFrame({"unique_id": "L", "ds": stamps, "y": np.sin(np.arange(80) / 4)}),
            pd.DataFrame({"unique_id": "C", "ds": stamps, "y": 5.0}),  # constant: no scale
        ],
        ignore_index=True,
    )
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", loss="quantile", **TINY_IT
    ).fit(panel)  # fmt: skip
    with pytest.warns(UserWarning, match="mase is missing for") as records:
        # a day of look-back is one season: only the history has pairs a season apart
        scores = est.evaluate(panel, per_series=True, mase_scale="history")
    assert scores.set_index("unique_id").loc["C", ["mase", "skill_mse", "msis"]].isna().all()
    assert_warned_for_every_missing(scores, records)


def test_a_series_without_a_season_before_its_origin_has_no_seasonal_naive_baseline():
    stamps = pd.date_range("2021-01-01", periods=120, freq="h")
    long = pd.DataFrame({"unique_id": "L", "ds": stamps, "y": np.sin(np.arange(120) / 4)})
    short = pd.DataFrame({"unique_id": "S", "ds": stamps[:14], "y": np.cos(np.arange(14.0))})
    panel = pd.concat([long, short], ignore_index=True)
    est = Forecaster(
        horizon=8, lookback=24, mode="independent", season_length=12, **TINY_IT
    ).fit(panel)  # fmt: skip
    scores, windows = est.evaluate(panel, per_series=True, return_forecasts=True)
    scores = scores.set_index("unique_id")  # S: 6 rows before its origin, less than a season
    assert scores.loc[["S"], ["snaive_mae", "skill_mae", "mase"]].isna().all(axis=None)
    assert np.isfinite(scores.loc["S", ["mae", "naive_mae"]].astype(float)).all()
    assert np.isfinite(scores.loc["L", ["snaive_mae", "skill_mae", "mase"]].astype(float)).all()
    assert windows[windows.unique_id == "S"].snaive.isna().all()
    with pytest.warns(UserWarning, match="snaive_mae left out: .*padding is not a value"):
        pooled = est.evaluate(short)
    assert "skill_mae" not in pooled and np.isfinite(pooled["mae"])


def test_a_new_series_is_scored_from_its_rows_before_each_origin_not_its_actuals(model):
    new = pd.concat(
        [
            panel_frame((40,), ("b",)).assign(unique_id="long", y=lambda d: 3 * d.y + 5),
            panel_frame((14,), ("a",)).assign(unique_id="short", y=lambda d: 2 - d.y),
        ],
        ignore_index=True,
    )
    rank = new.groupby("unique_id").cumcount(ascending=False)
    boosted = new.assign(y=np.where(rank < HORIZON, 10 * new.y, new.y))
    _, windows = model.evaluate(new, return_forecasts=True)
    _, again = model.evaluate(boosted, return_forecasts=True)  # only the last actuals differ
    np.testing.assert_allclose(again.forecast, windows.forecast)
    np.testing.assert_allclose(again.snaive, windows.snaive)
    history, tail = new[rank >= HORIZON], new[rank < HORIZON]
    future = model.make_future_dataframe(history).drop(columns=["promo"])
    future = future.merge(tail[["unique_id", "ds", "promo"]], on=["unique_id", "ds"])
    expected = model.predict(history, future_df=future)
    last = windows.groupby("unique_id", sort=False).tail(HORIZON)
    np.testing.assert_allclose(last.forecast, expected.y, rtol=1e-5, atol=1e-6)


def test_a_series_without_an_observed_target_is_refused_by_name(panel, model):
    plain = panel.drop(columns=["promo", "store"]).assign(
        y=lambda d: d.y.where(d.unique_id != "s1")
    )
    est = Forecaster(horizon=HORIZON, lookback=LOOKBACK, mode="independent", missing="mask")
    with pytest.raises(ValueError, match=r"series \['s1'\] have no observed target value"):
        est.fit(plain)
    blank = panel[panel.unique_id == "s2"].assign(unique_id="blank", y=np.nan)
    with pytest.raises(ValueError, match=r"series \['blank'\] have no observed target value"):
        model.evaluate(pd.concat([panel, blank]))
    with pytest.raises(ValueError, match=r"series \['blank'\] have no observed target value"):
        model.predict(blank.iloc[:-HORIZON], future_df=model.make_future_dataframe(blank))
    late = panel[panel.unique_id == "s0"].assign(unique_id="late").reset_index(drop=True)
    late.loc[:29, "y"] = np.nan  # observed from row 30: windows from origin 31 are scored
    with pytest.warns(UserWarning, match=r"first windows of new series \['late'\] are not"):
        metrics = model.evaluate(late)
    assert metrics["windows"] == _windows(len(late)) - (31 - LOOKBACK)
