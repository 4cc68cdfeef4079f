"""Probabilistic forecasts through the training module, the pipeline, the CLI and M4."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pytest
import torch

from tests.helpers.m4 import write_m4_files
from tests.helpers.models import DIMS, TINY, batch
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli, untrained_test_metrics
from tsfm.config import compose_config
from tsfm.models import REGISTRY
from tsfm.pipeline import fit_and_test
from tsfm.training.module import ForecastingModule

HEADS = {"quantile": 13, "normal": 2, "student_t": 3}


@pytest.mark.parametrize("loss", sorted(HEADS))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_gets_every_head_without_changes(name, loss):
    torch.manual_seed(0)
    module = ForecastingModule({"name": name, **TINY[name]}, DIMS, loss=loss)
    module.log = lambda *a, **k: None
    inputs = batch()
    output = module(inputs)
    steps, n_vars = DIMS["pred_len"], inputs["x"].shape[-1]
    assert output.prediction.shape == (4, steps, n_vars)
    assert output.extras["head_params"].shape == (4, steps, n_vars, HEADS[loss])
    loss_value = module.training_step(inputs, 0)
    assert torch.isfinite(loss_value)
    loss_value.backward()
    grads = [p.grad for p in module.model.parameters() if p.requires_grad and p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def _test_metrics(tmp_path, eval_batch: int, *extra: str) -> dict:
    cfg = compose_config(
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        f"data.eval_batch_size={eval_batch}",
        "trainer.limit_test_batches=1.0",
        "callbacks=none",
        *extra,
    )
    return untrained_test_metrics(cfg, tmp_path)


def test_interval_metrics_do_not_depend_on_the_eval_batch_size(tmp_path):
    small = _test_metrics(tmp_path, 7, "loss=normal", "season_length=12")
    large = _test_metrics(tmp_path, 1000, "loss=normal", "season_length=12")
    keys = [k for k in small if k.startswith(("test/crps", "test/coverage", "test/width"))]
    assert len(keys) == 8 and "test/msis" in small  # crps, 2 x (coverage, width), 3 originals
    for key in [*keys, "test/msis"]:
        assert small[key] == pytest.approx(large[key], rel=1e-5), key


def test_a_quantile_grid_without_the_default_levels_scores_the_intervals_it_has(tmp_path):
    metrics = _test_metrics(tmp_path, 1000, "loss=quantile", "quantiles=[0.1,0.5,0.9]")
    assert np.isfinite(metrics["test/coverage_80"]) and np.isfinite(metrics["test/crps"])
    assert not any(k.startswith("test/coverage_95") for k in metrics)
    assert "test/msis" not in metrics  # MSIS is the 95 % interval's score


def test_quantile_head_end_to_end_through_the_cli(tmp_path):
    run_dir = tmp_path / "run"
    overrides = [o for o in TINY_RUN if not o.startswith(("output.", "logger="))]
    proc = run_cli(
        "experiment=itransformer_etth1_96",
        *TINY_ITRANSFORMER[:4],
        *overrides,
        "loss=quantile",
        "quantiles=[0.05,0.1,0.5,0.9,0.95]",
        "levels=[80,90]",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("crps", "coverage_80", "width_80", "coverage_90", "width_90", "crps_original"):
        assert np.isfinite(metrics[f"test/{key}"]), key
    assert 0 <= metrics["test/coverage_80"] <= metrics["test/coverage_90"] <= 1
    assert metrics["loss"] == "quantile" and "test/coverage_95" not in metrics
    assert "COVERAGE 90" in proc.stdout  # the console's interval table
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    restored = ForecastingModule.load_from_checkpoint(ckpt, weights_only=True)
    assert restored.head.levels == (0.05, 0.1, 0.5, 0.9, 0.95)
    assert restored.model.projector.out_features == 96 * 5  # pred_len x K


def test_cli_refuses_a_bad_quantile_grid_before_training(tmp_path):
    proc = run_cli(
        "experiment=itransformer_etth1_96",
        *TINY_ITRANSFORMER[:4],
        *TINY_RUN,
        "loss=quantile",
        "quantiles=[0.1,0.9]",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert proc.returncode != 0 and "needs the median 0.5 in quantiles" in proc.stderr


def test_conformal_intervals_calibrate_on_validation_and_score_the_test_split(tmp_path):
    cfg = compose_config(
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        "callbacks=none",
        "trainer.limit_test_batches=1.0",
        "conformal.windows=40",
        "conformal.step=3",
        "mase_scale=history",  # a day of look-back is one season: MSIS from the history
    )
    result = fit_and_test(cfg, tmp_path)
    conformal = result.module.conformal
    assert conformal.scores.shape == (40, 8, 7) and conformal.per_series
    metrics = result.metrics
    assert metrics["conformal_windows"] == 40 and metrics["conformal_step"] == 3
    for key in ("crps", "coverage_80", "coverage_95", "width_95", "msis"):
        assert np.isfinite(metrics[f"test/{key}"]), key
    # the scores are the model's absolute validation errors of the last 40 windows, 3 apart
    val = result.datamodule.datasets["val"]
    last = val.n_windows - 1
    window = val.__getitems__([last])
    result.module.eval()
    with torch.no_grad():
        error = (result.module(window).prediction - window["y"]).abs()[0]
    assert torch.allclose(conformal.scores[-1], error, atol=1e-5)
    with pytest.raises(ValueError, match="already forecasts intervals"):
        fit_and_test(
            compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "loss=normal", "conformal.windows=20"),
            tmp_path / "b",
        )


def test_m4_runs_report_msis_beside_the_seasonal_naive_baseline(tmp_path):
    write_m4_files(tmp_path, "Hourly", lengths=[3 * 48 + 2 * 24 + 20 + 5 * i for i in range(20)])
    overrides = [
        "experiment=itransformer_m4_hourly",
        f"data.root={tmp_path}",
        *TINY_ITRANSFORMER[:4],
        *[o for o in TINY_RUN if "limit_" not in o],
        "conformal.windows=1",
        "conformal.normalize=true",
    ]
    result = fit_and_test(compose_config(*overrides), tmp_path / "run")
    metrics = result.metrics
    assert result.module.conformal.scores.shape == (20, 48, 1)  # one window per series, pooled
    for key in ("msis", "coverage_95", "snaive_msis", "snaive_coverage_95", "crps"):
        assert np.isfinite(metrics[f"test/{key}"]), key
    L.seed_everything(0)
    quantile = fit_and_test(
        compose_config(*overrides[:-2], "loss=quantile"), tmp_path / "quantile"
    ).metrics
    assert quantile["test/snaive_msis"] == pytest.approx(metrics["test/snaive_msis"])
    assert np.isfinite(quantile["test/msis"])
