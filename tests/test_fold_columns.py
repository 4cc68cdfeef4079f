"""Frames of several folds (cross_validate, backtest, panels) concatenate whatever a fold leaves
undefined: every metric is a column in every fold, null where it cannot be computed, with the
warning evaluate gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.models import TINY
from tsfm import Forecaster

N_ROWS, FLAT_FROM = 120, 108  # the last 12 quarters constant: fold 2's look-back is flat


def held_rate() -> pd.DataFrame:
    """A quarterly series that is held constant for its last three years (a policy rate)."""
    rng = np.random.default_rng(0)
    t = np.arange(N_ROWS)
    values = 2.0 + np.sin(2 * np.pi * t / 4) + 0.3 * rng.standard_normal(N_ROWS)
    values[FLAT_FROM:] = 0.5
    dates = pd.date_range("1970-01-01", periods=N_ROWS, freq="QS")
    return pd.DataFrame({"date": dates, "rate": values})


def quantile_model() -> Forecaster:
    settings = {**TINY["itransformer"], "max_epochs": 1, "verbose": 0}
    return Forecaster(horizon=4, lookback=8, loss="quantile", **settings)


def assert_msis_null_in_the_flat_fold_only(cv, records) -> None:
    per_series, metrics = cv.per_series, cv.metrics
    assert per_series["msis"].isna().tolist() == [False, False, True]
    assert metrics["msis"].isna().tolist() == [False, False, True]
    for columns in (list(per_series.columns), list(metrics.columns)):  # in evaluate's order
        assert columns.index("msis") == columns.index("width_95") + 1
    messages = [str(r.message) for r in records]
    assert any(m.startswith("folds: msis is missing for 'rate' (fold 2): ") for m in messages)


def test_cross_validate_keeps_msis_null_in_a_fold_without_its_scale():
    frame = held_rate()
    with pytest.warns(UserWarning, match="msis is missing") as records:
        cv = quantile_model().cross_validate(frame, n_windows=3, refit=False)
    assert_msis_null_in_the_flat_fold_only(cv, records)
    assert len(cv.forecasts) == 3 * 4 and "forecast-hi-95" in cv.forecasts.columns


def test_backtest_keeps_msis_null_in_a_fold_without_its_scale():
    frame = held_rate()
    fitted = quantile_model().fit(frame[:96])
    with pytest.warns(UserWarning, match="msis is missing") as records:
        cv = fitted.backtest(frame, n_windows=3)
    assert_msis_null_in_the_flat_fold_only(cv, records)


def test_panel_folds_keep_msis_null_in_a_fold_without_its_scale():
    long = pl.from_pandas(held_rate()).rename({"date": "ds", "rate": "y"})
    panel = pl.concat([  # two series held constant over their last 12 quarters
        long.with_columns(pl.lit("held").alias("unique_id")),
        long.with_columns(pl.lit("twice").alias("unique_id"), pl.col("y") * 2.0 + 1.0),
    ])  # fmt: skip
    model = Forecaster(
        horizon=4, lookback=8, loss="quantile", mode="independent", verbose=0,
        **{**TINY["itransformer"], "max_epochs": 1},
    )  # fmt: skip
    with pytest.warns(UserWarning, match="folds: msis is missing for 'held' \\(fold 2\\)"):
        cv = model.cross_validate(panel, n_windows=3, refit=False)
    rows = cv.per_series.filter(pl.col("msis").is_null())
    assert rows.select("fold", "unique_id").rows() == [(2, "held"), (2, "twice")]
    assert cv.metrics["msis"].is_null().to_list() == [False, False, True]


def test_evaluate_reports_msis_as_missing_when_no_window_has_its_scale():
    frame = held_rate()
    fitted = quantile_model().fit(frame[:96])
    flat = frame[FLAT_FROM:]
    with pytest.warns(UserWarning, match="evaluate: msis is missing for \\['rate'\\]"):
        table = fitted.evaluate(flat, per_series=True)
    assert table["msis"].isna().all() and table["crps"].notna().all()
    with pytest.warns(
        UserWarning, match="evaluate: msis left out: every window.s scale .* has zero"
    ):
        pooled = fitted.evaluate(flat)
    assert "msis" not in pooled and np.isfinite(list(pooled.values())).all()


def test_fold_frames_have_the_same_dtypes_whatever_the_folds_hold():
    frame = pl.from_pandas(held_rate())
    fitted = quantile_model().fit(frame[:96])
    with pytest.warns(UserWarning, match="msis is missing"):
        backtest = fitted.backtest(frame, n_windows=3).metrics  # no fold trained
    with pytest.warns(UserWarning, match="msis is missing"):
        folds = quantile_model().cross_validate(frame, n_windows=3, refit=False).metrics
    for metrics in (backtest, folds):  # (epochs, best_val_loss: None in every fold here)
        assert metrics.schema["epochs"] == pl.Int64
        assert metrics.schema["best_val_loss"] == pl.Float64
    assert pl.concat([backtest, folds]).height == 6
