"""evaluate per series with baselines, every window's forecast, backtests of a fitted model,
and cross-validation folds that keep the validation setting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny
from tsfm import Forecaster

N_ROWS = 160


def quarterly(n_rows: int = 120) -> pd.DataFrame:
    """Two exactly seasonal quarterly series (Q4 the peak): seasonal naive is exact."""
    pattern = np.array([1.0, 5.0, 2.0, 8.0])
    dates = pd.date_range("1956-01-01", periods=n_rows, freq="QS")
    values = np.tile(pattern, n_rows // 4 + 1)[:n_rows]
    return pd.DataFrame({"date": dates, "beer": 100 + 10 * values, "wine": values})


def assert_warned_for_every_missing(table: pd.DataFrame, records) -> None:
    """Each metric missing from the per-series ``table`` has a warning naming it, its series
    and a reason."""
    messages = [str(r.message) for r in records]
    for name in table.columns[table.isna().any()]:
        ids = table.unique_id[table[name].isna()].tolist()
        assert any(m.startswith(f"evaluate: {name} is missing for {ids}: ") for m in messages), name


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    return tiny(verbose=0).fit(synthetic_frame(N_ROWS)[:100])


def test_exact_seasonal_naive_is_seen_per_series_and_undefined_skill_is_left_out():
    frame = quarterly()
    est = tiny(verbose=0).fit(frame[:80])
    with pytest.warns(UserWarning, match="skill_mae left out: the seasonal-naive forecast"):
        metrics = est.evaluate(frame[60:])
    assert metrics["season_length"] == 4 and metrics["snaive_mae"] == 0.0
    assert "skill_mae" not in metrics and "mase" not in metrics  # undefined, never NaN
    assert all(np.isfinite(v) for v in metrics.values())
    with pytest.warns(UserWarning, match="skill_mae is missing for") as records:
        table = est.evaluate(frame[60:], per_series=True)
    assert_warned_for_every_missing(table, records)
    assert list(table.unique_id) == ["beer", "wine"]
    assert (table.snaive_mae == 0).all() and table.skill_mae.isna().all()
    assert (table.mae > 0).all()  # the one-epoch model misses the peaks the baseline gets
    with pytest.warns(UserWarning, match="folds: skill_mae is missing for") as records:
        folds = est.backtest(frame[60:], n_windows=2).per_series
    messages = [str(r.message) for r in records]
    assert folds.skill_mae.isna().all() and folds.mase.isna().all()
    for name in ("skill_mae", "mase"):
        assert any(
            m.startswith(f"folds: {name} is missing for 'beer' (fold 0), 'wine' (fold 0)")
            for m in messages
        )


def test_per_series_metrics_equal_the_hand_computation_from_the_forecasts(fitted):
    frame = synthetic_frame(N_ROWS)[100:]
    metrics, forecasts = fitted.evaluate(frame, return_forecasts=True)
    table = fitted.evaluate(frame, per_series=True).set_index("unique_id")
    windows = len(frame) - LOOKBACK - HORIZON + 1
    assert metrics["windows"] == windows and len(forecasts) == windows * HORIZON * 3
    assert list(forecasts.columns) == [
        "unique_id", "date", "cutoff", "step", "y", "forecast", "snaive",
    ]  # fmt: skip
    assert (forecasts.date > forecasts.cutoff).all() and forecasts.step.max() == HORIZON
    error = (forecasts.forecast - forecasts.y).abs()
    naive_error = (forecasts.snaive - forecasts.y).abs()
    by_series = forecasts.assign(error=error, naive_error=naive_error).groupby("unique_id")
    np.testing.assert_allclose(table.mae, by_series.error.mean()[table.index], rtol=1e-9)
    np.testing.assert_allclose(
        table.snaive_mae, by_series.naive_error.mean()[table.index], rtol=1e-9
    )
    np.testing.assert_allclose(table.skill_mae, 1 - table.mae / table.snaive_mae, rtol=1e-9)
    assert metrics["mae_original"] == pytest.approx(error.mean(), rel=1e-9)
    actual = frame.set_index("date").loc[forecasts.date[forecasts.unique_id == "OT"], "OT"]
    np.testing.assert_allclose(forecasts.y[forecasts.unique_id == "OT"], actual)


def test_evaluate_does_not_depend_on_the_eval_batch_size(fitted):
    frame = synthetic_frame(N_ROWS)[100:]
    data, before = fitted.config_.data, fitted.config_.data.eval_batch_size
    data.eval_batch_size = 1
    one = fitted.evaluate(frame, mase_scale="history")  # a day of look-back: no pair in it
    data.eval_batch_size = 1000
    many = fitted.evaluate(frame, mase_scale="history")
    data.eval_batch_size = before
    assert one.keys() == many.keys() and {"smape", "mase", "skill_mae"} <= set(one)
    for key, value in one.items():
        assert many[key] == pytest.approx(value, rel=1e-6), key


def test_backtest_uses_the_fitted_model_without_training(fitted, monkeypatch):
    frame = pl.from_pandas(synthetic_frame(N_ROWS))
    weights = {k: v.clone() for k, v in fitted.module_.state_dict().items()}

    def no_training(*args, **kwargs):
        raise AssertionError("backtest trained a model")

    monkeypatch.setattr(Forecaster, "fit_table", no_training)
    forecasts, metrics = cv = fitted.backtest(frame, n_windows=3, step=HORIZON)
    assert isinstance(metrics, pl.DataFrame) and metrics["refitted"].to_list() == [False] * 3
    assert len(forecasts) == 3 * HORIZON * 3 and len(cv.per_series) == 3 * 3
    for key, value in fitted.module_.state_dict().items():
        torch.testing.assert_close(value, weights[key], rtol=0, atol=0)
    last = forecasts.filter(pl.col("cutoff") == pl.col("cutoff").max())
    expected = fitted.predict(frame[: N_ROWS - HORIZON])
    np.testing.assert_allclose(
        last.filter(pl.col("unique_id") == "OT")["forecast"].to_numpy(),
        expected["OT"].to_numpy(),
        rtol=1e-5,
    )
    assert {"smape", "mase", "snaive_mae", "skill_mae"} <= set(metrics.columns)


def test_backtest_refuses_folds_over_the_rows_the_model_was_fitted_on(fitted):
    frame = synthetic_frame(N_ROWS)
    with pytest.raises(ValueError, match="fitted on rows up to 2020-01-05 03:00:00 .*") as refused:
        fitted.backtest(frame, n_windows=8, step=HORIZON)
    message = str(refused.value)  # fitted on rows 0..99 of 160: room for 52 rows of steps
    assert "8 fold(s) 8 steps apart need 164 rows: 100 before the first cutoff" in message
    assert "n_windows=7 (the most that fit 8 steps apart), step=7 (the largest" in message
    assert "cross_validate (which retrains for every fold)" in message
    fitted.backtest(frame, n_windows=7, step=HORIZON)  # as it says
    fitted.backtest(frame, n_windows=8, step=7)


def test_folds_keep_val_size_and_stop_early():
    frame = synthetic_frame(N_ROWS)
    est = tiny(verbose=0, val_size=16, max_epochs=2, patience=1)
    _, metrics = cv = est.cross_validate(frame, n_windows=2, step=HORIZON)
    assert metrics.best_val_loss.notna().all() and (metrics.epochs >= 1).all()
    assert list(cv.per_series.columns[:3]) == ["fold", "cutoff", "unique_id"]
    _, plain = tiny(verbose=0).cross_validate(frame, n_windows=2, step=HORIZON)
    assert plain.best_val_loss.isna().all()
    with pytest.raises(ValueError, match="validation rows of val_size=130"):
        tiny(val_size=130).cross_validate(frame, n_windows=2, step=HORIZON)
