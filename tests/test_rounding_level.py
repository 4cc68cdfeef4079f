"""Series exact up to float rounding: a seasonal naive forecast or MASE/MSIS scale that is zero
but for float64 rounding (y = 5 + sin(2 pi t / 24) of the running hour index, a constant 0.3
where some rows were computed as 0.1 + 0.2) is left out as an exact one is, on the values as
read and scaled alike, instead of dividing by 1e-14 (MASE 3e13, skill -4e13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsfm.data.seasonal_scales import history_scale, seasonal_prefix, seasonal_scale
from tsfm.estimator.accuracy import Scores
from tsfm.training.series_logging import SeriesScores
from tsfm.training.series_metrics import SeriesMetrics
from tsfm.training.undefined_metrics import defined

DAY, L, H = 24, 96, 24


def _sine(n: int = 1500) -> np.ndarray:
    return 5 + np.sin(2 * np.pi * np.arange(n) / DAY)  # repeats each day to ~1e-14


def _windows(y: np.ndarray, starts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    lookback = np.stack([y[s : s + L] for s in starts])[..., None]
    actual = np.stack([y[s + L : s + L + H] for s in starts])[..., None]
    return lookback, actual


def _float_constant(n: int = 1500) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.where(rng.random(n) < 0.5, 0.3, 0.1 + 0.2)  # two values one ulp apart


def test_the_sines_rounding_is_there_and_the_scales_are_zero():
    y = _sine()
    assert 0 < np.abs(y[DAY:] - y[:-DAY]).max() < 1e-12  # the audit's case: not exactly 0
    lookback, _ = _windows(y, [1000, 1300])
    assert (seasonal_scale(torch.from_numpy(lookback), DAY) == 0).all()
    values = torch.from_numpy(y[:, None])
    scale, pairs = history_scale(seasonal_prefix(values, DAY), torch.tensor([500, 1400]))
    assert (scale == 0).all() and (pairs > 0).all()


@pytest.mark.parametrize("make", [_sine, _float_constant])
def test_mase_and_skill_of_rounding_level_baselines_are_left_out_saying_why(make):
    lookback, actual = _windows(make(), [1000, 1300])
    forecast = actual + 0.01 * np.random.default_rng(1).standard_normal(actual.shape)
    metric = SeriesMetrics(1, season_length=DAY)
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    kept, left_out = defined(values)
    assert {"mase", "skill_mae", "skill_mse"} <= set(left_out), kept
    assert "seasonal-naive forecast is exact" in left_out["skill_mae"]
    assert "up to float rounding" in left_out["mase"]
    assert values["snaive_mae"] == 0.0 and kept["mae"] > 0
    if make is _float_constant:
        assert "skill_mae_naive" in left_out and values["naive_mae"] == 0.0


def test_the_scaled_values_take_the_decision_of_the_values_as_read():
    y = _sine()
    lookback, actual = _windows(y, [1000, 1300])
    forecast = actual + 0.01
    mean, std = y[:1000].mean(), y[:1000].std()
    original = (forecast, actual, lookback)
    scaled = tuple((a - mean) / std for a in original)
    pooled = Scores(original, scaled, DAY).pooled()
    assert np.isnan(pooled["skill_mae"]) and np.isnan(pooled["skill_mse"])
    assert np.isnan(pooled["mase"]) and pooled["snaive_mae"] == 0.0
    # the command line's path: float32 scaled values, float64 as read
    scores = SeriesScores(1, season_length=DAY)
    batch = {"x": torch.from_numpy(scaled[2]).float(), "y": torch.from_numpy(scaled[1]).float()}
    tensors = [torch.from_numpy(a) for a in original]
    prediction = torch.from_numpy(scaled[0]).float()
    scores.update(prediction, tensors[0], batch, tensors[1], tensors[2])
    values = scores.compute(["y"])
    assert not {"skill_mae", "skill_mse", "mase", "y/skill_mae", "y/mase"} & set(values)
    assert "up to float rounding" in scores.notes["skill_mae"]


def test_real_variation_keeps_every_value_as_before():
    rng = np.random.default_rng(2)
    y = _sine() + 1e-9 * rng.standard_normal(1500)  # tiny, but far above rounding
    lookback, actual = _windows(y, [1000, 1300])
    forecast = actual + 1e-8
    metric = SeriesMetrics(1, season_length=DAY)
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    snaive = np.abs(actual - lookback[:, -DAY:]).mean()
    scale = np.abs(lookback[:, DAY:] - lookback[:, :-DAY]).mean(1)
    error = np.abs(forecast - actual).mean()
    assert values["skill_mae"] == pytest.approx(1 - error / snaive, rel=1e-12)
    assert values["mase"] == pytest.approx((1e-8 / scale).mean(), rel=1e-6)


def test_m4_scores_refuse_a_history_flat_up_to_rounding():
    from tsfm import m4_scores

    y = _sine(224)
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(224), "y": y})
    history, actuals = frame[:200], frame[200:]
    forecasts = actuals.assign(y=5.0)
    with pytest.raises(ValueError, match="none beyond float rounding"):
        m4_scores(forecasts, actuals, history, DAY)
