"""Settings a Forecaster sizes for the data (no preset, nobody chose them) come from the model
class's ``data_sized`` hook, not from model names in the estimator: a new model sizes its own,
and the shipped models size exactly as before the hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from torch import Tensor, nn

from tsfm import Forecaster
from tsfm.config import register_configs
from tsfm.estimator.params import build_config
from tsfm.estimator.preset_config import compose_for
from tsfm.estimator.sizing import data_sized
from tsfm.models import REGISTRY

if TYPE_CHECKING:
    from tsfm.models.sizing import SizingInputs


def sized(model: str, lookback: int, n_windows: int = 100, freq: str = "D", **extra) -> dict:
    est = Forecaster(model, horizon=4, lookback=lookback, **extra)
    cfg = compose_for(est.model, est.experiment, est.overrides)
    return data_sized(est, n_windows, freq, cfg.model)


# (model, lookback, windows, freq, parameters) -> the sized settings, as before the hook but
# for S²IP-LLM's seasonal period, which now fits twice (models/s2ip_llm/test_seasonal_sizing.py)
SHIPPED = [
    ("itransformer", 24, 4_999, "D", {}, {"model.d_model": 64, "model.d_ff": 64}),
    ("itransformer", 24, 5_000, "D", {}, {"model.d_model": 128, "model.d_ff": 128}),
    ("itransformer", 24, 49_999, "h", {}, {"model.d_model": 128, "model.d_ff": 128}),
    ("itransformer", 24, 50_000, "h", {}, {"model.d_model": 256, "model.d_ff": 256}),
    ("itransformer", 24, 100, "D", {"d_ff": 16}, {}),  # one width chosen: neither sized
    ("itransformer", 24, 100, "D", {"overrides": ["model.d_model=32"]}, {}),
    ("itransformer", 24, 100, "D", {"experiment": "itransformer_etth1_96"}, {}),
    ("s2ip_llm", 200, 100, "D", {}, {}),  # the official values fit
    ("s2ip_llm", 16, 100, "D", {}, {"model.trend_length": 16, "model.seasonal_length": 7}),
    ("s2ip_llm", 12, 100, "D", {}, {  # a week does not fit twice in 12 days
        "model.trend_length": 12, "model.seasonal_length": 1, "model.patch_len": 12,
        "model.stride": 6,
    }),
    ("s2ip_llm", 7, 100, "D", {}, {
        "model.trend_length": 7, "model.seasonal_length": 1, "model.patch_len": 7,
        "model.stride": 3,
    }),
    ("s2ip_llm", 14, 100, "D", {"season_length": 14}, {
        "model.trend_length": 14, "model.seasonal_length": 7, "model.patch_len": 14,
        "model.stride": 7,
    }),
    ("s2ip_llm", 12, 100, "D", {"trend_length": 6, "patch_len": 4}, {"model.seasonal_length": 1}),
    ("s2ip_llm", 12, 100, "D", {"stride": 2}, {
        "model.trend_length": 12, "model.seasonal_length": 1, "model.patch_len": 12,
    }),
    ("s2ip_llm", 150, 100, "D", {"decomposition": "stl"}, {"model.seasonal_length": 7}),
    ("s2ip_llm", 100, 100, "15min", {"overrides": ["model.decomposition=stl"]}, {
        "model.seasonal_length": 4,
    }),
    ("s2ip_llm", 16, 100, "D", {"experiment": "s2ip_llm_etth1_96"}, {}),
    ("timesclip", 12, 100, "D", {}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("model", "lookback", "windows", "freq", "extra", "expected"), SHIPPED)
def test_the_shipped_models_size_as_before(model, lookback, windows, freq, extra, expected):
    assert sized(model, lookback, windows, freq, **extra) == expected


def test_a_season_length_is_read_only_by_a_model_that_uses_it():
    """iTransformer's width needs no season: a season_length longer than the look-back is
    refused later, where the metrics read it, as before the hook."""
    assert sized("itransformer", 12, season_length=50) == {"model.d_model": 64, "model.d_ff": 64}
    with pytest.raises(ValueError, match="season_length=50 must be at least 1"):
        sized("s2ip_llm", 12, season_length=50)


class WidthByWindows(nn.Module):
    """A test model that sizes its width by the training windows (Args: width)."""

    SMOKE_SETTINGS: dict = {}
    seen: list = []  # the SizingInputs of each call

    def __init__(self, seq_len: int, pred_len: int, width: int = 512):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(seq_len, width), nn.Linear(width, pred_len))

    @classmethod
    def data_sized(cls, data: SizingInputs) -> dict[str, int] | None:
        cls.seen.append(data)
        if data.n_windows < 10:
            return {"no_such_setting": 1}
        return None if data.n_windows > 1_000 else {"width": 8}

    def forward(self, x: Tensor, **_: object) -> Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)


@pytest.fixture
def width_model(monkeypatch):
    monkeypatch.setitem(REGISTRY, "width_by_windows", f"{__name__}:WidthByWindows")
    register_configs()
    WidthByWindows.seen.clear()
    yield "width_by_windows"
    monkeypatch.undo()
    register_configs()


def _width(n_windows: int, **extra) -> int:
    est = Forecaster("width_by_windows", horizon=4, lookback=24, **extra)
    cfg = build_config(est, freq="h", has_dates=True, time_col="date", n_windows=n_windows)
    return cfg.model.width


def test_a_new_models_hook_sizes_its_settings(width_model):
    assert _width(100) == 8
    data = WidthByWindows.seen[-1]
    assert (data.n_windows, data.lookback, data.settings["width"]) == (100, 24, 512)
    assert data.seasons == (24,) and data.season_length == 24  # a day of hourly steps
    assert _width(5_000) == 512  # None: no sizing
    assert _width(100, width=32) == 32  # chosen: kept
    assert "width" in WidthByWindows.seen[-1].chosen
    assert _width(100, experiment=None, overrides=["model.width=16"]) == 16


def test_a_hook_that_returns_a_setting_the_model_lacks_is_named(width_model):
    with pytest.raises(
        TypeError, match=r"WidthByWindows.data_sized returned \['no_such_setting'\]"
    ):
        _width(5)
