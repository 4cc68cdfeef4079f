"""`python -m tsfm.run` end to end, and the config tree: presets compose, typos are errors."""

from __future__ import annotations

import json
import re

import pytest
from omegaconf import OmegaConf

from tests.helpers.backbones import build_offline
from tests.helpers.runs import TINY_RUN, run_cli
from tsfm.config import CONF_DIR, compose_config
from tsfm.training.preflight import check_trainer_types
from tsfm.training.run_settings import check_settings

TINY_MODEL = ["model.d_model=16", "model.d_ff=16", "model.n_heads=2", "model.n_layers=1"]


def test_cli_trains_tests_and_writes_the_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    overrides = [o for o in TINY_RUN if not o.startswith(("output.", "logger="))]
    proc = run_cli(
        "experiment=itransformer_etth1_96",
        *TINY_MODEL,
        *overrides,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test/mse", "test/mae", "test/mse_original", "test/mae_original"):
        assert isinstance(metrics[key], float) and metrics[key] > 0
    assert metrics["windows/test"] == 2785 and metrics["seed"] == 2023
    saved = OmegaConf.load(run_dir / "config.yaml")
    assert saved.model.d_model == 16 and saved.data.pred_len == 96
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "forecast.png").stat().st_size > 10_000
    assert "scaled (papers)" in proc.stdout and "original scale" in proc.stdout
    logged = (run_dir / "run.log").read_text()  # the console's lines, Lightning's too
    assert "scaled (papers)" in logged and "`Trainer.fit` stopped" in logged
    assert not (tmp_path / "lightning_logs").exists()


def test_tsfms_warnings_reach_run_log_naming_tsfms_line(tmp_path):
    # warn_user's warnings went to stderr only, attributed to hydra/core/utils.py
    from tests.helpers.data import synthetic_frame
    from tests.helpers.runs import TINY_ITRANSFORMER

    path = tmp_path / "gappy.csv"
    synthetic_frame(300).drop(index=[100, 101]).to_csv(path, index=False)
    run_dir = tmp_path / "run"
    data = ["data=custom", f"data.path={path}", "data.missing=mask"]
    proc = run_cli(*data, *TINY_ITRANSFORMER, *TINY_RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logged = (run_dir / "run.log").read_text()
    line = r"tsfm/data/frames/gaps\.py:\d+: UserWarning: .*: 2 absent step\(s\)"
    assert re.search(line, logged), logged
    assert re.search(line, proc.stdout + proc.stderr)  # the console shows it as before
    assert "hydra/core/utils.py" not in logged + proc.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.seq_lenn=12", "seq_lenn"),
        ("model.d_modle=8", "d_modle"),
        ("trainer.max_epoch=1", "max_epoch"),
        ("data.seq_len=twelve", "seq_len"),
        ("optim.lr=fast", "lr"),
    ],
)
def test_misspelt_or_mistyped_overrides_are_errors(override, message):
    with pytest.raises(Exception, match=message):
        compose_config(override)


PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_builds_its_model(preset):
    cfg = compose_config(f"experiment={preset}")  # every key one its schema declares
    assert build_offline(cfg) is not None  # no downloads, no full-size backbones
    check_trainer_types(cfg.trainer)  # what Lightning would otherwise refuse deep in fit
    check_settings(cfg)  # callbacks (what they monitor), logger, output, optimizer
    # <model>_<dataset>_<horizon> (or another suffix, such as an M4 group, after the dataset)
    assert preset.startswith(f"{cfg.model.name}_{cfg.data.name}")


def test_itransformer_presets_carry_the_official_hyperparameters():
    etth1 = compose_config("experiment=itransformer_etth1_336")
    assert (etth1.model.d_model, etth1.model.n_layers, etth1.optim.lr) == (512, 2, 1e-4)
    traffic = compose_config("experiment=itransformer_traffic_96")
    assert (traffic.model.n_layers, traffic.data.batch_size, traffic.optim.lr) == (4, 16, 1e-3)
    assert compose_config("experiment=itransformer_exchange_rate_336").trainer.max_epochs == 1
    assert etth1.optim.gamma == 0.5 and etth1.callbacks.early_stopping.patience == 3
