"""MAPE beside sMAPE wherever sMAPE is reported (evaluate, cross_validate, backtest, the CLI's
metrics.json), in float64, actuals of 0 left out with a warning, and one warning per call when a
series' actuals change sign (sMAPE and MAPE mean little there)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.training.series_metrics import SeriesMetrics
from tsfm.training.undefined_metrics import defined


def hand_mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    keep = np.isfinite(actual) & (actual != 0)
    return float(np.mean(100.0 * np.abs(actual[keep] - forecast[keep]) / np.abs(actual[keep])))


def test_mape_leaves_out_zero_and_missing_actuals_in_float64():
    g = np.random.default_rng(0)
    actual = g.normal(1e6, 1e3, (4, 6, 3))  # large values: float32 would round the errors
    forecast = actual + g.normal(0, 0.01, actual.shape)
    actual[0, :2, 0], actual[1, 3, 0], actual[:, :, 2] = 0.0, np.nan, 0.0
    metric = SeriesMetrics(3, season_length=2)
    lookback = torch.from_numpy(g.normal(1e6, 1e3, (4, 8, 3)))
    metric.update(torch.from_numpy(forecast), torch.from_numpy(actual), lookback)
    values = metric.per_series()
    assert values["mape"].dtype == torch.float64
    for j in range(2):
        expected = hand_mape(actual[..., j], forecast[..., j])
        assert float(values["mape"][j]) == pytest.approx(expected, rel=1e-9)
    assert int(values["zeros"][0]) == 2 and int(values["zeros"][2]) == 24
    _, left_out = defined({k: float(v[2]) for k, v in values.items()})
    assert "every observed actual is 0" in left_out["mape"]  # series 2: all zero


def sign_frame(n: int = 80) -> pd.DataFrame:
    """'level' stays positive with a few exact zeros; 'change' crosses zero."""
    t = np.arange(n)
    level = 10 + 3 * np.sin(2 * np.pi * t / 4)
    level[[50, 61, 70]] = 0.0
    change = np.sin(2 * np.pi * t / 4) + 0.1 * np.cos(t)
    dates = pd.date_range("2000-01-01", periods=n, freq="QS")
    return pd.DataFrame({"date": dates, "level": level, "change": change})


def _messages(records, text: str) -> list[str]:
    return [str(r.message) for r in records if text in str(r.message)]


def test_evaluate_reports_mape_beside_smape_and_warns_about_zeros_and_sign_changes():
    frame = sign_frame()
    est = Forecaster(horizon=4, lookback=8, **TINY_IT).fit(frame[:40])
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        metrics, windows = est.evaluate(frame[40:], return_forecasts=True)
        table = est.evaluate(frame[40:], per_series=True).set_index("unique_id")
    assert metrics["mape"] == pytest.approx(hand_mape(windows.y.values, windows.forecast.values))
    for series, rows in windows.groupby("unique_id"):
        expected = hand_mape(rows.y.values, rows.forecast.values)
        assert table.loc[series, "mape"] == pytest.approx(expected, rel=1e-9)
    assert list(table.columns[:6]) == ["mae", "mse", "rmse", "smape", "mape", "mase"]
    zeros = int((windows.y == 0).sum())
    assert zeros > 0
    left_out = _messages(records, "MAPE leaves out")
    assert len(left_out) == 2  # once per call
    assert f"leaves out {zeros} forecast values whose actual is 0" in left_out[0]
    assert f"'level' ({zeros} values)" in left_out[0]
    signs = _messages(records, "change sign")
    assert len(signs) == 2 and "['change']" in signs[0] and "'level'" not in signs[0]
    assert "sMAPE and MAPE are not meaningful" in signs[0] and "mae and mase" in signs[0]


def test_the_sign_warning_points_to_mase_only_where_mase_is_defined():
    frame = sign_frame()
    est = Forecaster(horizon=4, lookback=4, **TINY_IT).fit(frame[:40])  # one season: 4
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        metrics = est.evaluate(frame[40:])
    assert "mase" not in metrics  # no pair a season apart in a look-back of one season
    (signs,) = _messages(records, "change sign")
    assert "read mae (MASE is undefined here: a look-back of 4 rows" in signs
    assert "mase_scale='history'" in signs and "mae and mase" not in signs
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        metrics = est.evaluate(frame[40:], mase_scale="history")
    assert "mase" in metrics
    (signs,) = _messages(records, "change sign")
    assert "read mae and mase" in signs


def test_folds_report_mape_and_warn_once_per_call():
    frame = sign_frame(96)
    est = Forecaster(horizon=4, lookback=8, **TINY_IT).fit(frame[:40])
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        cv = est.backtest(frame, n_windows=3)
    assert len(_messages(records, "change sign")) == 1  # three folds, one warning
    for cutoff, rows in cv.forecasts.groupby("cutoff"):
        got = cv.metrics.set_index("cutoff").loc[cutoff, "mape"]
        assert got == pytest.approx(hand_mape(rows.y.values, rows.forecast.values))
        per_series = cv.per_series[cv.per_series.cutoff == cutoff].set_index("unique_id")
        for series, mine in rows.groupby("unique_id"):
            expected = hand_mape(mine.y.values, mine.forecast.values)
            assert per_series.loc[series, "mape"] == pytest.approx(expected, rel=1e-9)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        cv = est.cross_validate(frame, n_windows=2, refit=False)
    assert len(_messages(records, "change sign")) == 1 and "mape" in cv.metrics


def test_a_panels_evaluate_reports_mape_per_series():
    frame = sign_frame()
    long = frame.melt(id_vars="date", var_name="unique_id", value_name="y")
    long = long.rename(columns={"date": "ds"})
    est = Forecaster(horizon=4, lookback=8, mode="independent", **TINY_IT).fit(long)
    with pytest.warns(UserWarning, match="change sign"):
        table, windows = est.evaluate(long, per_series=True, return_forecasts=True)
    for series, rows in windows.groupby("unique_id"):
        expected = hand_mape(rows.y.values, rows.forecast.values)
        assert table.set_index("unique_id").loc[series, "mape"] == pytest.approx(expected)


def test_m4s_mape_per_series():
    from tsfm.data.m4.metrics import mape as m4_mape

    forecast = np.array([[1.0, 2.0], [3.0, 3.0], [1.0, 1.0]])
    target = np.array([[2.0, 4.0], [0.0, 6.0], [0.0, 0.0]])
    np.testing.assert_allclose(m4_mape(forecast, target)[:2], [50.0, 50.0])
    assert np.isnan(m4_mape(forecast, target)[2])
