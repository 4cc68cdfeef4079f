"""The Forecaster sizes S²IP-LLM's seasonal period so that the look-back holds two periods
(issue: at its default look-back of 96 hourly steps the official period 96 stayed, so the
"seasonal" part was the whole detrended look-back and the residual exactly zero), and never
touches a paper preset's settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers.backbones import tiny_backbone_dir
from tsfm import Forecaster
from tsfm.estimator.params import build_config
from tsfm.estimator.preset_config import compose_for
from tsfm.estimator.sizing import data_sized
from tsfm.models.s2ip_llm.decomposition import moving_average_decomposition

SMALL = {"n_layers": 2, "pool_size": 16, "prompt_length": 2}


def _hourly(n: int = 600) -> pd.DataFrame:
    t = np.arange(n)
    noise = 0.1 * np.random.default_rng(0).standard_normal(n)
    values = np.sin(2 * np.pi * t / 24) + noise
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="h"), "v": values})


def _sized(lookback: int, freq: str = "h", **extra) -> dict:
    est = Forecaster("s2ip_llm", horizon=24, lookback=lookback, **extra)
    cfg = compose_for(est.model, est.experiment, est.overrides)
    return data_sized(est, 100, freq, cfg.model)


@pytest.mark.parametrize("lookback", [96, 97, 191])
def test_a_period_the_look_back_holds_less_than_twice_becomes_the_datas_season(lookback):
    assert _sized(lookback)["model.seasonal_length"] == 24  # a day of hourly steps


def test_the_official_period_stays_where_the_look_back_holds_it_twice():
    assert "model.seasonal_length" not in _sized(192)
    assert _sized(96, seasonal_length=96) == {}  # chosen: kept, whatever it does
    # a 15-minute day (96 steps) does not fit twice in 96 steps: its hour does
    assert _sized(96, freq="15min")["model.seasonal_length"] == 4


def test_at_the_default_look_back_the_seasonal_part_is_the_daily_one():
    frame = _hourly()
    est = Forecaster("s2ip_llm", horizon=24, backbone=tiny_backbone_dir("gpt2"), **SMALL)
    est.set_params(max_epochs=1, verbose=0).fit(frame)
    model, lookback = est.config_.model, est.config_.data.seq_len
    assert lookback == 96 and model.seasonal_length == 24
    window = torch.tensor(frame["v"].to_numpy()[:lookback], dtype=torch.float32)[None]
    _, seasonal, residual = moving_average_decomposition(
        window, model.trend_length, model.seasonal_length
    )
    assert residual.abs().max() > 0.01  # not the whole detrended look-back
    assert torch.equal(seasonal[..., :24], seasonal[..., 24:48])  # a daily pattern


@pytest.mark.parametrize("preset", ["s2ip_llm_etth1_96", "s2ip_llm_m4_yearly"])
def test_a_paper_presets_settings_are_untouched(preset):
    est = Forecaster("s2ip_llm", horizon=24, lookback=96, experiment=preset)
    preset_model = compose_for(est.model, est.experiment, est.overrides).model
    assert _sized(96, experiment=preset) == {}
    cfg = build_config(est, freq="h", has_dates=True, time_col="date", n_windows=100)
    for key in ("trend_length", "seasonal_length", "patch_len", "stride"):
        assert cfg.model[key] == preset_model[key]


def test_a_warm_fit_keeps_the_fitted_models_data_sized_settings():
    """A model saved before the sizing rule changed (its period 96 at look-back 96) is
    fine-tuned on the decomposition it was trained with, not re-sized to today's 24."""
    frame = _hourly()
    est = Forecaster("s2ip_llm", horizon=24, backbone=tiny_backbone_dir("gpt2"), **SMALL)
    est.set_params(max_epochs=1, verbose=0).fit(frame)
    est.config_.model.seasonal_length = 96  # what the earlier rule sized
    est.set_params(warm_start=True).fit(frame)
    assert est.config_.model.seasonal_length == 96
