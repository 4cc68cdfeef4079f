"""MASE's (and MSIS's) look-back scale counts only steps between two observed rows: the
values carried over a gap under ``missing="mask"`` and a short series' padding are none of the
series' steps, in the Forecaster's scores and in the training module's test metrics alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.training.series_logging import SeriesScores

STEP = 2.0  # |y[t] - y[t-1]| of the zigzag: every observed step


def _zigzag(n: int, start: str = "2021-01-01") -> pd.DataFrame:
    y = 100.0 + np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    y[np.arange(n) % 5 == 3] = np.nan  # a carried-over value makes a step of 0
    return pd.DataFrame({"ds": pd.date_range(start, periods=n, freq="h"), "y": y})


def test_a_wide_frames_mase_and_msis_scale_by_the_observed_steps_only():
    frame = _zigzag(160)
    est = Forecaster(
        horizon=6, lookback=20, missing="mask", season_length=1, val_size=30, loss="quantile",
        quantiles=[0.025, 0.5, 0.975], **TINY_IT,
    ).fit(frame)  # fmt: skip
    scores = est.evaluate(frame.tail(60), per_series=True).iloc[0]
    assert scores["mase"] == pytest.approx(scores["mae"] / STEP, rel=1e-9)
    metrics, windows = est.evaluate(frame.tail(60), return_forecasts=True)
    scored = windows.dropna(subset=["y"])
    lo, hi, y = scored["forecast-lo-95"], scored["forecast-hi-95"], scored["y"]
    winkler = hi - lo + 40.0 * ((lo - y).clip(lower=0) + (y - hi).clip(lower=0))
    assert metrics["msis"] == pytest.approx(winkler.mean() / STEP, rel=1e-9)


def test_a_panels_mase_scales_by_the_observed_steps_only():
    panel = pd.concat(
        [_zigzag(120).assign(unique_id="a"), _zigzag(90, "2021-01-03").assign(unique_id="b")]
    )
    est = Forecaster(
        horizon=6, lookback=20, mode="independent", missing="mask", season_length=1, **TINY_IT
    ).fit(panel)  # fmt: skip
    scores = est.evaluate(panel, per_series=True)
    np.testing.assert_allclose(scores["mase"], scores["mae"] / STEP, rtol=1e-9)


def test_the_training_modules_mase_reads_the_lookback_mask():
    values = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0], dtype=torch.float64)
    seen = torch.ones(8, dtype=torch.bool)
    seen[4] = False  # x[4] carries x[3] over a gap: steps 0 and 2 in the filled look-back
    x, forecast = values.view(1, 8, 1), torch.zeros(1, 3, 1, dtype=torch.float64)
    target = torch.full((1, 3, 1), 3.0, dtype=torch.float64)
    batch = {"x": x, "y": target, "x_mask": seen.view(1, 8, 1).float()}
    scores = SeriesScores(1, season_length=1)
    scores.update(forecast, forecast, batch, target, x)  # unscaled: the look-back as read
    mase = float(scores.compute()["mase"])
    assert mase == pytest.approx(3.0 / STEP)  # 5 observed steps of 2; filled: 12 / 7


def test_cross_validations_mase_scales_by_the_observed_steps_only():
    est = Forecaster(horizon=6, lookback=20, missing="mask", season_length=1, **TINY_IT)
    folds = est.cross_validate(_zigzag(160), n_windows=3, step=6, refit=False).metrics
    np.testing.assert_allclose(folds["mase"], folds["mae_original"] / STEP, rtol=1e-9)


def test_missing_values_in_polars_window_frames_are_null():
    frame = pl.from_pandas(_zigzag(160))
    est = Forecaster(horizon=6, lookback=20, missing="mask", season_length=1, **TINY_IT).fit(frame)
    _, windows = est.evaluate(frame.tail(60), return_forecasts=True)
    folds = est.cross_validate(frame, n_windows=2, refit=False).forecasts
    for table in (windows, folds):
        assert table["y"].null_count() > 0 and not table["y"].is_nan().any()
