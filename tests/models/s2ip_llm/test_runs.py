"""S2IP-LLM through the pipeline and the CLI, and the paper presets' settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN, run_cli
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule
from tsfm.pipeline import fit_and_test

SETTINGS = TINY["s2ip_llm"]


def test_channel_independent_training_logs_alignment_and_stops_on_mse(tmp_path):
    cfg = compose_config(
        "model=s2ip_llm",
        "optim=adam_decay09",
        *[f"model.{k}={v}" for k, v in SETTINGS.items()],
        "data.seq_len=24",
        "data.pred_len=8",
        "data.batch_size=16",
        "data.channel_independent=true",
        *[o for o in TINY_RUN if not o.startswith("logger=")],
        "logger=csv",
    )
    data = TimeSeriesDataModule(cfg.data, frame=synthetic_frame(n_rows=300))
    result = fit_and_test(cfg, tmp_path, datamodule=data)
    assert result.datamodule.dims()["n_vars"] == 1  # one (window, variate) pair per sample
    assert result.metrics["windows/test"] == 3 * (60 - 8 + 1)  # 3 variates x test windows
    logged = pd.read_csv(tmp_path / "logs" / "metrics.csv")
    # the epoch's mean, as train/loss, even when no step reaches log_every_n_steps (50)
    alignment = logged["train/alignment"].dropna()
    assert len(alignment) == 1 and np.isfinite(alignment.iloc[0])
    val = logged[["val/loss", "val/mse"]].dropna(how="all").ffill().bfill().iloc[-1]
    assert val["val/loss"] == pytest.approx(val["val/mse"], rel=1e-4)  # forecast MSE alone


def test_cli_runs_the_etth1_preset_offline_with_a_local_backbone(tmp_path):
    run_dir = tmp_path / "run"
    overrides = [o for o in TINY_RUN if not o.startswith(("output.", "logger="))]
    proc = run_cli(
        "experiment=s2ip_llm_etth1_96",
        f"model.backbone={tiny_backbone_dir('gpt2')}",
        "model.n_layers=2",
        "model.pool_size=16",
        "data.batch_size=4",
        "data.eval_batch_size=64",
        *overrides,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test/mse"] > 0 and metrics["windows/test"] == 2785 and metrics["seed"] == 2021
    saved = OmegaConf.load(run_dir / "config.yaml")
    assert saved.model.backbone == tiny_backbone_dir("gpt2") and saved.model.prompt_length == 4
    assert saved.data.seq_len == 512 and saved.optim.gamma == 0.9
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()


def test_presets_carry_the_official_script_settings():
    ettm1 = compose_config("experiment=s2ip_llm_ettm1_720").model
    assert (ettm1.pool_size, ettm1.prompt_length, ettm1.trend_length) == (5000, 8, 192)
    etth1 = compose_config("experiment=s2ip_llm_etth1_720")
    assert (etth1.optim.lr, etth1.model.sim_coef, etth1.model.seasonal_length) == (1e-3, -0.01, 48)
    assert (etth1.data.seq_len, etth1.data.batch_size, etth1.seed) == (512, 128, 2021)
    assert etth1.optim.gamma == 0.9 and etth1.trainer.max_epochs == 100
    assert not etth1.data.channel_independent
    weather = compose_config("experiment=s2ip_llm_weather_96")
    assert weather.data.channel_independent and weather.data.batch_size == 1024
    ecl_720, ecl_336 = (
        OmegaConf.to_container(compose_config(f"experiment=s2ip_llm_electricity_{h}").model)
        for h in (720, 336)
    )
    assert ecl_720 == ecl_336  # the broken official 720 script is replaced by the 336 settings
