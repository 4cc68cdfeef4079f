"""The training module keeps the data scaler's mean and std in float64: a series around 1e12
forecasts on the command line as the same series around 0 does, shifted by exactly 1e12 (a
float32 mean is up to 2**15 units off there, and every original-scale forecast and metric
with it); checkpoints that hold the statistics rounded to float32 load with the exact ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.run import run
from tsfm.training.forecasting_core import InferenceModule

OFFSET = 1e12


def _series(offset: float, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = 1000 * np.sin(2 * np.pi * t / 24) + 100 * rng.standard_normal(n) + 7.3
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="h"), "y": y + offset})


def test_command_line_forecasts_shift_with_the_data(tmp_path):
    runs = {}
    for offset in (0.0, OFFSET):
        folder = tmp_path / f"off{offset:g}"
        folder.mkdir()
        _series(offset).to_csv(folder / "y.csv", index=False)
        settings = ["data=custom", "data.target=y", "data.features=S", *TINY_ITRANSFORMER]
        settings += [*TINY_RUN, "seed=1", "season_length=1", "trainer.limit_test_batches=1.0"]
        settings += ["output.forecasts=true", f"data.path={folder / 'y.csv'}"]
        metrics = run(compose_config(*settings), folder)
        runs[offset] = (metrics, pl.read_parquet(folder / "forecasts.parquet"))
    (near, low), (far, high) = runs[0.0], runs[OFFSET]
    assert near["test/mse"] == pytest.approx(far["test/mse"], rel=1e-4)  # same scaled fit
    shift = (high["forecast"] - OFFSET - low["forecast"]).to_numpy()
    assert np.abs(shift).max() < 0.05  # float32 means: thousands
    np.testing.assert_allclose((high["y"] - OFFSET).to_numpy(), low["y"].to_numpy(), atol=1e-3)
    for name in ("mae_original", "rmse_original", "mase"):
        assert far[f"test/{name}"] == pytest.approx(near[f"test/{name}"], rel=1e-4), name


def _module(mean: list[float], std: list[float]) -> InferenceModule:
    model = {"name": "itransformer", "d_model": 8, "d_ff": 16, "n_heads": 2, "n_layers": 1}
    dims = {"seq_len": 24, "pred_len": 8, "enc_in": len(mean), "c_out": len(mean)}
    return InferenceModule(model, dims, scaler={"mean": mean, "std": std})


def test_statistics_are_float64_and_old_float32_checkpoints_load_exactly():
    mean, std = [OFFSET + 0.5012, 3.25], [1234.5678, 0.1]
    module = _module(mean, std)
    assert module.scale_mean.dtype == torch.float64
    assert module.scale_mean.tolist() == mean and module.scale_std.tolist() == std

    old = {k: v.float() if k.startswith("scale_") else v for k, v in module.state_dict().items()}
    fresh = _module(mean, std)
    fresh.load_state_dict(old)  # the same fit's statistics, rounded: the exact ones are kept
    assert fresh.scale_mean.tolist() == mean and fresh.scale_std.tolist() == std

    other = _module([5.0, 6.0], [1.0, 2.0])  # another scaler's: loaded as saved
    other.load_state_dict(old)
    assert other.scale_mean.dtype == torch.float64
    assert other.scale_mean.tolist() == old["scale_mean"].double().tolist()

    module.to(dtype=torch.bfloat16)  # a bf16-true module's weights; the statistics stay
    assert module.scale_mean.dtype == torch.float64 and module.scale_mean.tolist() == mean
    assert next(module.model.parameters()).dtype == torch.bfloat16


def test_every_unscaling_is_float64_by_default():
    """predict_step, the scored forecasts and the plots unscale without naming a dtype."""
    mean, std = [OFFSET + 0.5012, 3.25], [1234.5678, 0.1]
    module = _module(mean, std)
    original = module.to_original(torch.zeros(1, 2, 2), {})
    assert original.dtype == torch.float64
    assert original[0, 0].tolist() == mean  # a float32 mean would be 0.5012 - 1e12 rounding off
