"""M4 through the normal front doors: presets, every registered model, fit_and_test, the CLI."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pytest
import torch

from tests.helpers.m4 import write_m4_files
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN, run_cli
from tsfm.config import CONF_DIR, compose_config
from tsfm.data import M4_GROUPS, M4DataModule
from tsfm.data.m4.metrics import score_group
from tsfm.forecast_file import forecast_frame
from tsfm.models import REGISTRY
from tsfm.pipeline import fit_and_test
from tsfm.training.module import ForecastingModule

TINY_ITRANSFORMER = ["model.d_model=16", "model.d_ff=16", "model.n_heads=2", "model.n_layers=1"]


def test_itransformer_presets_carry_tslib_short_term_settings():
    for group, spec in M4_GROUPS.items():
        cfg = compose_config(f"experiment=itransformer_m4_{group.lower()}")
        assert (cfg.data.name, cfg.data.pred_len, cfg.data.seq_len) == (
            f"m4_{group.lower()}",
            spec.horizon,
            2 * spec.horizon,
        )
        assert (cfg.model.d_model, cfg.model.d_ff, cfg.model.n_layers) == (512, 2048, 2)
        assert (cfg.data.batch_size, cfg.optim.lr, cfg.loss, cfg.seed) == (16, 1e-3, "smape", 2021)
        assert cfg.data.validation == "holdout" and cfg.optim.gamma == 0.5
    tripled = compose_config("experiment=itransformer_m4_hourly", "data.lookback_multiple=3")
    assert tripled.data.seq_len == 144


# Paper presets are optional per model; a model with M4 presets has one per group.
M4_PRESET_MODELS = sorted(
    {p.stem.split("_m4_")[0] for p in (CONF_DIR / "experiment").glob("*_m4_*.yaml")}
)


@pytest.mark.parametrize("name", M4_PRESET_MODELS)
def test_a_model_with_m4_presets_has_one_per_group_with_the_short_term_protocol(name):
    assert name in REGISTRY
    for group, spec in M4_GROUPS.items():
        cfg = compose_config(f"experiment={name}_m4_{group.lower()}")
        assert cfg.model.name == name and cfg.data.name == f"m4_{group.lower()}"
        assert (cfg.data.pred_len, cfg.data.seq_len) == (spec.horizon, 2 * spec.horizon)
        assert cfg.loss == "smape" and cfg.data.validation == "holdout"


def test_s2ip_and_timesclip_m4_presets_carry_their_papers_settings():
    yearly = compose_config("experiment=s2ip_llm_m4_yearly")
    assert (yearly.model.prompt_length, yearly.model.sim_coef, yearly.model.trend_length) == (
        2,
        -0.01,
        1,
    )
    hourly = compose_config("experiment=s2ip_llm_m4_hourly")
    assert (
        hourly.model.prompt_length,
        hourly.model.trend_length,
        hourly.model.seasonal_length,
    ) == (
        4,
        4,
        2,
    )
    # the official scheduler is never stepped: a constant 4e-5
    assert (hourly.optim.lr, hourly.optim.scheduler, hourly.data.batch_size) == (4e-5, "none", 64)
    clip = compose_config("experiment=timesclip_m4_hourly")
    assert (clip.model.patch_len, clip.model.stride, clip.model.align_weight) == (16, 8, 0.1)
    assert (clip.optim.lr, clip.model.backbone_lr, clip.trainer.max_epochs) == (1e-3, 1e-4, 100)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_trains_and_tests_on_m4(name, tmp_path):
    """Every registered model, unchanged, through a Lightning fit and test on M4 batches
    (data hooks included: the training windows are random cuts without an ``index``)."""
    write_m4_files(tmp_path, "Quarterly")
    dm = M4DataModule({"name": "m4_quarterly", "root": str(tmp_path), "batch_size": 4})
    dm.setup()
    torch.manual_seed(0)
    module = ForecastingModule({"name": name, **TINY[name]}, dm.dims(), loss="smape")
    trainer = L.Trainer(
        max_epochs=1,
        limit_train_batches=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        accelerator="cpu",
    )
    trainer.fit(module, datamodule=dm)
    scores = trainer.test(module, datamodule=dm, verbose=False)[0]
    assert scores["test/n_series"] == 6
    assert all(np.isfinite(scores[f"test/{k}"]) for k in ("smape", "mase", "owa"))


def test_fit_and_test_scores_the_whole_test_set_the_m4_way(tmp_path):
    train, test = write_m4_files(tmp_path, "Weekly")
    overrides = [
        "experiment=itransformer_m4_weekly",
        f"data.root={tmp_path}",
        "data.eval_batch_size=4",
        *TINY_ITRANSFORMER,
        *[o for o in TINY_RUN if "limit_" not in o],
        "trainer.max_epochs=2",
    ]
    result = fit_and_test(compose_config(*overrides), tmp_path / "run")
    metrics = result.metrics
    assert metrics["test/n_series"] == 6 and metrics["validation_on_test"] is False
    # the same numbers from the module's own forecasts, scored independently
    predictions = result.trainer.predict(result.module, datamodule=result.datamodule)
    forecast = torch.cat([p["prediction"] for p in predictions])[..., 0].numpy()
    index = torch.cat([p["index"] for p in predictions]).numpy()
    expected = score_group(forecast, test[index], [train[i] for i in index], period=1)
    assert metrics["test/smape"] == pytest.approx(expected.smape, rel=1e-5)
    assert metrics["test/mase"] == pytest.approx(expected.mase, rel=1e-5)
    assert metrics["test/owa"] == pytest.approx(expected.owa, rel=1e-5)
    assert metrics["test/loss"] == pytest.approx(expected.smape, rel=1e-4)  # smape loss = sMAPE
    assert np.isfinite(metrics["val/best_loss"])
    frame = forecast_frame(result.module, result.datamodule)  # output.forecasts=true's rows
    ids = [str(result.datamodule.window_series("test", w)) for w in range(6)]
    assert frame["series"].unique(maintain_order=True).to_list() == ids
    by_window = frame["forecast"].to_numpy().reshape(6, -1)
    np.testing.assert_allclose(by_window[index], forecast, rtol=1e-5)
    np.testing.assert_allclose(frame["y"].to_numpy().reshape(6, -1), test[:6], rtol=1e-6)


def test_cli_writes_m4_metrics(tmp_path):
    write_m4_files(tmp_path, "Hourly")
    run_dir = tmp_path / "run"
    proc = run_cli(
        "experiment=itransformer_m4_hourly",
        f"data.root={tmp_path}",
        "data.validation=test",
        *TINY_ITRANSFORMER,
        *[o for o in TINY_RUN if not o.startswith(("output.", "logger="))],
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test/smape", "test/mase", "test/owa", "test/naive2_smape"):
        assert np.isfinite(metrics[key])
    assert metrics["validation_on_test"] is True and metrics["m4_group"] == "Hourly"
    assert (metrics["seq_len"], metrics["pred_len"]) == (96, 48)
    assert metrics["season_length"] == 24  # M4 Hourly's period, which its MASE uses too
    assert "Naive2" in proc.stdout and "validated on the TEST set" in proc.stdout
    assert (run_dir / "forecast.png").is_file()
