"""Forecaster intervals: predict(level=...) columns in every frame layout, quantile columns,
evaluate and cross_validate metrics, conformal calibration, save/load, the plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long
from tsfm import Forecaster
from tsfm.estimator.plotting import plot_forecast

FRAME = synthetic_frame(300, 3)
TRAIN, VALID = FRAME.iloc[:220], FRAME.iloc[220:]


@pytest.fixture(scope="module")
def quantile_model() -> Forecaster:
    return tiny(loss="quantile", quantiles=[0.025, 0.1, 0.5, 0.9, 0.975]).fit(TRAIN, VALID)


@pytest.fixture(scope="module")
def conformal_model() -> Forecaster:
    return tiny(conformal_windows=20, conformal_step=2).fit(TRAIN, VALID)


def test_quantiles_without_the_default_levels_fit_and_score_the_intervals_they_bound(tmp_path):
    model = tiny(loss="quantile", quantiles=[0.1, 0.5, 0.9]).fit(TRAIN, VALID)
    assert list(model.config_.levels) == [80.0]  # the levels scored are in the config
    scores = model.evaluate(VALID)
    assert 0 <= scores["coverage_80"] <= 1 and "coverage_95" not in scores
    assert "OT-hi-80" in model.predict(level=[80]).columns
    restored = Forecaster.load(model.save(tmp_path / "q"))
    assert list(restored.config_.levels) == [80.0]
    with pytest.raises(ValueError, match="levels has 95"):  # asked for explicitly: refused
        tiny(loss="quantile", quantiles=[0.1, 0.5, 0.9], levels=[80, 95]).fit(TRAIN, VALID)


def _ordered(frame: pd.DataFrame, name: str) -> None:
    lo95, lo80, hi80, hi95 = (frame[f"{name}-{s}"] for s in ("lo-95", "lo-80", "hi-80", "hi-95"))
    assert (lo95 <= lo80).all() and (lo80 <= frame[name]).all()
    assert (frame[name] <= hi80).all() and (hi80 <= hi95).all()


@pytest.mark.parametrize("which", ["quantile_model", "conformal_model"])
def test_predict_level_adds_the_bounds_after_each_variate(which, request):
    est = request.getfixturevalue(which)
    forecast = est.predict(level=[95, 80])
    bounds = ["lo-95", "lo-80", "hi-80", "hi-95"]
    expected = ["date"] + [
        f"{c}{s}" for c in ("v0", "v1", "OT") for s in ["", *[f"-{b}" for b in bounds]]
    ]
    assert list(forecast.columns) == expected
    for name in ("v0", "v1", "OT"):
        _ordered(forecast, name)
    pd.testing.assert_frame_equal(forecast[["date", "v0", "v1", "OT"]], est.predict())


def test_predict_level_in_long_and_polars_frames_keeps_ids_and_time_zones():
    wide = FRAME.assign(date=FRAME.date.dt.tz_localize("Europe/Berlin"))
    # a frame given later is read in the fitted zone (naive against it is refused)
    conformal_model = tiny(conformal_windows=20, conformal_step=2).fit(wide.iloc[:220])
    long = to_long(wide)
    forecast = conformal_model.predict(long, level=[80])
    assert list(forecast.columns) == ["unique_id", "ds", "y", "y-lo-80", "y-hi-80"]
    assert str(forecast.ds.dt.tz) == "Europe/Berlin" and len(forecast) == 3 * HORIZON
    assert (forecast["y-lo-80"] < forecast.y).all() and (forecast.y < forecast["y-hi-80"]).all()
    polars = conformal_model.predict(pl.from_pandas(wide), level=[80])
    assert isinstance(polars, pl.DataFrame) and polars.schema["date"].time_zone == "Europe/Berlin"
    assert polars.columns == ["date", "v0", "v0-lo-80", "v0-hi-80", "v1", "v1-lo-80", "v1-hi-80",
                              "OT", "OT-lo-80", "OT-hi-80"]  # fmt: skip
    same = forecast[forecast.unique_id == "OT"]["y-hi-80"].to_numpy()
    assert np.allclose(polars["OT-hi-80"].to_numpy(), same)


def test_quantile_columns_are_the_quantile_models_own_levels(quantile_model):
    forecast = pl.from_pandas(to_long(FRAME))
    out = quantile_model.predict(forecast, quantiles=True)
    names = [f"y-q-{q:g}" for q in (0.025, 0.1, 0.5, 0.9, 0.975)]
    assert out.columns == ["unique_id", "ds", "y", *names]
    values = out.select(names).to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert np.allclose(out["y-q-0.5"].to_numpy(), out["y"].to_numpy())  # the median is the point


def test_point_models_and_bad_levels_are_refused_with_the_fix(quantile_model):
    point = tiny().fit(TRAIN)
    with pytest.raises(ValueError, match="forecasts points only.*conformal_windows"):
        point.predict(level=[80])
    with pytest.raises(ValueError, match=r"list of percentages, e.g. level=\[80\]"):
        quantile_model.predict(level=80)
    with pytest.raises(ValueError, match=r"not \[0.3, 0.7\]"):
        quantile_model.predict(level=[40])  # the quantile head has no 0.3 / 0.7
    with pytest.raises(ValueError, match=r"would all be named '95'.*keep one of them"):
        quantile_model.predict(level=[95, 94.9999999])  # distinct levels, one column name
    with pytest.raises(ValueError, match=r"\[0.1, 0.1000000001\] would both be named 0.1"):
        tiny(loss="quantile", quantiles=[0.1, 0.1000000001, 0.5, 0.9]).fit(TRAIN)
    with pytest.raises(ValueError, match="already forecasts intervals"):
        tiny(loss="normal", conformal_windows=20).fit(TRAIN, VALID)


def test_evaluate_and_cross_validate_report_interval_metrics(conformal_model):
    # a day of look-back (24 hours) is one season: MSIS's scale from the history
    metrics = conformal_model.evaluate(VALID, mase_scale="history")
    for key in ("crps", "coverage_80", "width_80", "coverage_95", "msis", "crps_original"):
        assert np.isfinite(metrics[key]), key
    assert 0 <= metrics["coverage_80"] <= metrics["coverage_95"] <= 1
    cv = tiny(loss="normal").cross_validate(FRAME, n_windows=2, refit=False, mase_scale="history")
    forecasts, folds = cv
    assert {"forecast-lo-95", "forecast-lo-80", "forecast-hi-80", "forecast-hi-95"} <= set(
        forecasts.columns
    )
    assert (forecasts["forecast-lo-80"] <= forecasts["forecast"]).all()
    for key in ("crps", "coverage_80", "width_95", "msis", "width_80_original"):
        assert np.isfinite(folds[key]).all(), key
    for fold, rows in cv.per_series.groupby("fold"):  # each series' share of its fold's
        assert len(rows) == 3 and np.isfinite(rows[["crps", "width_95", "msis"]]).all().all()
        assert rows.coverage_80.mean() == pytest.approx(folds.coverage_80[fold], rel=1e-9)
        assert rows.crps.mean() == pytest.approx(folds.crps_original[fold], rel=1e-9)


def test_a_backtest_fold_scores_each_series_as_evaluate_scores_its_window():
    quantiles = [0.025, 0.1, 0.5, 0.9, 0.975]
    est = tiny(loss="quantile", quantiles=quantiles, season_length=1).fit(TRAIN)  # 24 pairs
    folds = est.backtest(FRAME, n_windows=2).per_series.set_index(["fold", "unique_id"])
    window = est.evaluate(FRAME.iloc[-(24 + HORIZON) :], per_series=True).set_index("unique_id")
    for name in ("mae", "crps", "coverage_80", "width_95", "msis"):
        np.testing.assert_allclose(folds.loc[1][name], window[name], rtol=1e-9, err_msg=name)


def test_conformal_without_validation_refits_on_the_rows_before_the_windows():
    est = tiny(conformal_windows=4, conformal_step=HORIZON).fit(TRAIN)
    scores = est.module_.conformal
    assert scores.scores.shape == (4, HORIZON, 3) and not scores.per_series  # 4 < 19: pooled
    assert (est.predict(level=[50])["OT-hi-50"] > est.predict()["OT"]).all()
    plain = tiny().fit(TRAIN)  # the forecasting model is fitted on every row, as without scores
    pd.testing.assert_frame_equal(est.predict(), plain.predict())
    with pytest.raises(ValueError, match="rows to fit the calibration model on"):
        tiny(conformal_windows=40, conformal_step=HORIZON).fit(TRAIN)


def test_save_load_keeps_the_head_and_the_conformal_scores(
    quantile_model, conformal_model, tmp_path
):
    for est, name in ((quantile_model, "quantile"), (conformal_model, "conformal")):
        path = est.save(tmp_path / name)
        loaded = Forecaster.load(path)
        pd.testing.assert_frame_equal(loaded.predict(level=[80, 95]), est.predict(level=[80, 95]))
    state = torch.load(tmp_path / "conformal" / "conformal.pt", weights_only=True)
    assert torch.equal(state["scores"], conformal_model.module_.conformal.scores)
    assert not (tmp_path / "quantile" / "conformal.pt").exists()
    tiny().fit(TRAIN).save(tmp_path / "conformal", overwrite=True)  # a point model over it
    assert not (tmp_path / "conformal" / "conformal.pt").exists()
    assert not Forecaster.load(tmp_path / "conformal").module_.has_intervals


def test_plot_forecast_draws_one_band_per_level(conformal_model):
    fig = plot_forecast(conformal_model, level=[80, 95], series=["OT"])
    (ax,) = fig.axes
    assert len(ax.collections) == 2  # two bands (tests/test_plots.py checks the rest)
    assert [line.get_label() for line in ax.lines] == ["history", "forecast", "forecast origin"]
    assert len(plot_forecast(conformal_model, level=None).axes) == 3
    with pytest.raises(ValueError, match="not forecast series"):
        plot_forecast(conformal_model, series=["nope"])


def test_intervals_with_future_covariates_and_independent_panels():
    from tests.test_covariates import TINY_IT, demand_frame, panel_frame

    frame = demand_frame()
    est = Forecaster(
        horizon=8, lookback=24, future_covariates=["temp"], past_covariates=["price"], val_size=60,
        conformal_windows=20, conformal_step=1, **TINY_IT,
    ).fit(frame)  # fmt: skip
    future = est.make_future_dataframe().assign(temp=0.3)
    forecast = est.predict(future_df=future, level=[80])
    assert list(forecast.columns) == ["date", "load", "load-lo-80", "load-hi-80"]
    assert (forecast["load-lo-80"] < forecast.load).all()
    assert np.isfinite(est.evaluate(frame.tail(60))["crps"])
    panel = panel_frame().drop(columns=["promo", "store"])
    quantile = Forecaster(horizon=6, lookback=24, mode="independent", loss="normal", **TINY_IT).fit(
        panel
    )
    out = quantile.predict(level=[95])
    assert list(out.columns) == ["unique_id", "ds", "y", "y-lo-95", "y-hi-95"]
    assert (out["y-lo-95"] < out.y).all() and (out.y < out["y-hi-95"]).all()
    with pytest.raises(ValueError, match="pools the calibration scores of every series"):
        Forecaster(
            horizon=6, lookback=24, mode="independent", conformal_windows=20, val_size=0.2,
            conformal_adaptive_rate=0.01,
        ).fit(panel)  # fmt: skip


@pytest.mark.parametrize("loss", ["quantile", "student_t"])
def test_distribution_heads_read_future_covariates_over_the_real_horizon(loss):
    """A head with K outputs per step builds the model for pred_len x K outputs; its future
    covariates still cover the horizon's pred_len steps (not pred_len x K)."""
    from tests.test_covariates import TINY_IT, demand_frame

    est = Forecaster(horizon=8, lookback=24, future_covariates=["temp"], loss=loss, **TINY_IT)
    est.fit(demand_frame())
    future = est.make_future_dataframe().assign(temp=0.3)
    base = est.predict(future_df=future, level=[80])
    assert (base["load-lo-80"] < base["load-hi-80"]).all()
    changed = est.predict(future_df=future.assign(temp=3.0), level=[80])
    assert not np.allclose(base["load"], changed["load"])  # the horizon's covariate is read


def test_default_quantiles_and_levels_follow_the_calibration_and_set_ones_are_checked():
    univariate = FRAME[["date", "OT"]]
    train, valid = univariate.iloc[:220], univariate.iloc[220:]
    est = tiny(conformal_windows=6, conformal_step=2).fit(train, valid)  # 6 scores: up to 85.7 %
    assert list(est.config_.quantiles) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert list(est.config_.levels) == [80.0]
    assert np.isfinite(est.evaluate(FRAME[["date", "OT"]].iloc[150:])["crps"])
    wide = [0.025, 0.1, 0.5, 0.9, 0.975]
    with pytest.raises(ValueError, match=r"the quantiles \[0.025, 0.975\]") as err:
        tiny(conformal_windows=6, conformal_step=2, quantiles=wide).fit(train, valid)
    assert "levels [" not in str(err.value)  # the default levels were narrowed to 80
    assert "quantiles=[0.1, 0.5, 0.9]" in str(err.value) and "levels=[80]" in str(err.value)
    with pytest.raises(ValueError, match=r"the run asks for levels \[95\]: calibrate"):
        tiny(conformal_windows=6, conformal_step=2, levels=[95]).fit(train, valid)


def test_independent_panels_calibrate_conformal_intervals_on_every_series_last_windows(tmp_path):
    from tests.test_covariates import TINY_IT, panel_frame

    panel = panel_frame(lengths=(160, 140, 120)).drop(columns=["store"])
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", past_covariates=["promo"], val_size=40,
        conformal_windows=8, conformal_step=4, levels=[80], quantiles=[0.1, 0.5, 0.9],
        **TINY_IT,
    ).fit(panel)  # fmt: skip
    scores = est.module_.conformal.scores
    assert scores.shape == (3 * 8, 6, 1)  # 8 windows of each of the 3 series, pooled
    forecast = est.predict(level=[80])
    radius = est.module_.conformal.radius(80.0)[:, 0].numpy()
    assert (forecast["y-hi-80"] > forecast.y).all() and (forecast["y-lo-80"] < forecast.y).all()
    for series, rows in forecast.groupby("unique_id"):  # the pooled radius in each series' units
        std = est.series_std_[est.series_.index(series), 0]
        np.testing.assert_allclose((rows["y-hi-80"] - rows.y) / std, radius, rtol=1e-4)
    new = panel[panel.unique_id == "s1"].assign(unique_id="new")
    assert np.isfinite(est.predict(new, level=[80])["y-lo-80"]).all()  # a new series too
    metrics = est.evaluate(panel)
    assert 0.0 <= metrics["coverage_80"] <= 1.0 and metrics["width_80"] > 0
    per_series = est.evaluate(panel, per_series=True)  # windows differ: weighted by them
    weights = per_series.windows / per_series.windows.sum()
    assert (per_series.coverage_80 * weights).sum() == pytest.approx(metrics["coverage_80"])
    loaded = Forecaster.load(est.save(tmp_path / "panel"))
    pd.testing.assert_frame_equal(loaded.predict(level=[80]), forecast)
    for model in (est, loaded):  # the refusal counts windows per series, scores pooled
        with pytest.raises(
            ValueError, match=r"pooled over the 3 series; 8 windows of each give 24.*13 of each"
        ):
            model.predict(level=[97.5])  # 39 scores
    with pytest.raises(ValueError, match="hold them out with val_size"):
        Forecaster(horizon=6, mode="independent", conformal_windows=4, **TINY_IT).fit(
            panel.drop(columns=["promo"])
        )
    with pytest.raises(
        ValueError, match="series 's0' has 9 validation windows; 3 windows 6 rows apart need 13"
    ):
        Forecaster(
            horizon=6, lookback=24, mode="independent", val_size=14, conformal_windows=3,
            levels=[50], quantiles=[0.25, 0.5, 0.75], **TINY_IT,
        ).fit(panel.drop(columns=["promo"]))  # fmt: skip


def test_per_series_interval_metrics_are_the_pooled_ones_split_by_series(quantile_model):
    test = FRAME.iloc[200:]
    pooled = quantile_model.evaluate(test, mase_scale="history")  # a day: no pair in 24 hours
    frame = quantile_model.evaluate(test, per_series=True, mase_scale="history")
    assert {"crps", "coverage_80", "width_80", "coverage_95", "width_95", "msis"} <= set(frame)
    for name in ("coverage_80", "coverage_95", "msis"):  # equal counts: the plain mean
        assert frame[name].mean() == pytest.approx(pooled[name], rel=1e-9), name
    for name in ("crps", "width_80"):  # each series in its own units, pooled on the original
        assert frame[name].mean() == pytest.approx(pooled[f"{name}_original"], rel=1e-9)
    one = quantile_model.evaluate(test[["date", "OT"]], per_series=True)  # new variates: own
    assert one.coverage_80.iloc[0] == pytest.approx(
        quantile_model.evaluate(test[["date", "OT"]])["coverage_80"]
    )
