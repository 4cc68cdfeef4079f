"""Issue 16, item 11: ``resume=true`` continues an interrupted run from its last.ckpt (kept by
default, the latest epoch's also after epochs that did not improve), through the safe loader,
and keeps the earlier epochs in logs/metrics.csv; where no epoch finished it says so and how
to start again. A run without it refuses a directory that holds an earlier run's results,
and leaves every file there as it was, Hydra's record of that run (``.hydra/``) included."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from lightning.pytorch.callbacks import Callback

import tsfm.pipeline
from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.estimator.from_run import run_cwd
from tsfm.pipeline import fit_and_test
from tsfm.run import run
from tsfm.training.checkpoints import load_checkpoint
from tsfm.training.run_dirs import check_fresh_run_dir, nothing_to_resume

RUN = [*TINY_ITRANSFORMER, *(o for o in TINY_RUN if o != "logger=none"), "logger=csv"]


def validated_epochs(log) -> list[int]:
    return pd.read_csv(log).dropna(subset=["val/loss"]).epoch.astype(int).tolist()


def test_resume_continues_from_last_ckpt_and_keeps_the_log_history(tmp_path, monkeypatch):
    # as under torch 2.4/2.5: only the safe loader's explicit weights_only=True holds
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    first = fit_and_test(compose_config(*RUN, "trainer.max_epochs=2"), tmp_path)
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()  # kept by default
    log = tmp_path / "logs" / "metrics.csv"
    assert validated_epochs(log) == [0, 1]
    resumed = fit_and_test(compose_config(*RUN, "trainer.max_epochs=3", "resume=true"), tmp_path)
    assert first.trainer.global_step == 6 and resumed.trainer.global_step == 9  # 3 more steps
    assert validated_epochs(log) == [0, 1, 2]  # the first run's epochs are still there
    assert resumed.metrics["epochs"] == 3 and "test/mse" in resumed.metrics


def test_resume_needs_the_runs_last_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=true, but .*last.ckpt does not exist"):
        fit_and_test(compose_config(*RUN, "resume=true"), tmp_path)


@pytest.mark.parametrize(
    "earlier", ["checkpoints/last.ckpt", "checkpoints/best.ckpt", "metrics.json"]
)
def test_a_new_run_refuses_a_directory_holding_an_earlier_run(tmp_path, earlier):
    (tmp_path / earlier).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / earlier).write_text("{}")
    with pytest.raises(FileExistsError, match=rf"{tmp_path} holds an earlier run \({earlier}\)"):
        run(compose_config(*RUN), tmp_path)
    check_fresh_run_dir(compose_config(*RUN, "resume=true"), tmp_path)  # continuing it is fine
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(Path(earlier).parts)


def test_a_directory_without_an_earlier_runs_results_is_used(tmp_path):
    (tmp_path / ".hydra").mkdir()  # Hydra writes its files before the run starts
    (tmp_path / "checkpoints").mkdir()
    check_fresh_run_dir(compose_config(*RUN), tmp_path)


def test_the_cli_names_the_fixes_and_leaves_the_earlier_results(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / "metrics.json").write_text('{"status": "ok"}')
    for name in ("config.yaml", "overrides.yaml", "hydra.yaml"):  # Hydra's record of that run
        (run_dir / ".hydra" / name).write_text(f"the earlier run's {name}")
    earlier = _files(run_dir)
    proc = run_cli(*RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert proc.returncode != 0
    assert "another directory, add resume=true to continue that run, or delete" in proc.stderr
    now = _files(run_dir)
    assert {name: now[name] for name in earlier} == earlier  # Hydra's record of it too
    assert set(now) - set(earlier) <= {"run.log"}  # Hydra's log, opened before the run starts
    assert not (run_dir / "checkpoints").exists()


def _files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_refused_rerun_keeps_the_earlier_runs_record_and_resume_still_works(tmp_path):
    run_dir, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()
    synthetic_frame(300).to_csv(tmp_path / "small.csv", index=False)  # a short test pass
    small = ["data=custom", f"data.path={tmp_path / 'small.csv'}"]
    first = run_cli(*small, *RUN, "seed=1", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    earlier = _files(run_dir)
    assert {".hydra/config.yaml", ".hydra/overrides.yaml", ".hydra/hydra.yaml"} <= set(earlier)

    # other overrides, from another directory: refused, and nothing in the run directory changes
    again = run_cli(
        *small, *RUN, "seed=7", "model.d_model=16", f"hydra.run.dir={run_dir}", cwd=elsewhere
    )
    assert again.returncode != 0
    assert f"the run directory {run_dir} holds an earlier run" in again.stderr
    assert "another directory, add resume=true to continue that run, or delete" in again.stderr
    assert _files(run_dir) == earlier
    assert "- seed=1" in (run_dir / ".hydra" / "overrides.yaml").read_text()
    assert run_cwd(run_dir) == tmp_path  # where from_run resolves the run's relative paths
    assert Forecaster.from_run(run_dir).config_.seed == 1

    resumed = run_cli(
        *small, *RUN, "seed=1", "trainer.max_epochs=2", "resume=true", f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 2
    assert "- resume=true" in (run_dir / ".hydra" / "overrides.yaml").read_text()  # its record


def test_resume_where_no_epoch_finished_says_so_and_how_to_start_again(tmp_path):
    (tmp_path / ".hydra").mkdir()  # an interrupted run's record and log: no results
    (tmp_path / "run.log").write_text("")
    text = nothing_to_resume(tmp_path)
    assert "\n" not in text and "no epoch of a run in this directory finished" in text
    assert "Start the run again: the same command without resume=true (this directory" in text
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best.ckpt").write_text("")  # save_last=false's run
    assert "hydra.run.dir at another directory (a new run refuses this one, which holds " in (
        nothing_to_resume(tmp_path)
    )
    with pytest.raises(FileNotFoundError, match="nothing to continue. Start the run again:"):
        fit_and_test(compose_config(*RUN, "resume=true"), tmp_path)


class Worse(Callback):
    """Every epoch after the first starts from scrambled weights: none improves."""

    def on_train_epoch_start(self, trainer, module) -> None:
        if trainer.current_epoch:
            with torch.no_grad():
                for weight in module.parameters():
                    weight.normal_(0.0, 10.0)


def test_last_ckpt_is_the_latest_epochs_also_after_epochs_that_did_not_improve(
    tmp_path, monkeypatch
):
    built = tsfm.pipeline.build_callbacks
    monkeypatch.setattr(tsfm.pipeline, "build_callbacks", lambda c, d: [Worse(), *built(c, d)])
    cfg = compose_config(*RUN, "trainer.max_epochs=3", "callbacks.early_stopping.patience=5")
    result = fit_and_test(cfg, tmp_path)
    best = load_checkpoint(tmp_path / "checkpoints" / "best.ckpt")
    last = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert best["epoch"] == 0 and last["epoch"] == 2
    assert last["global_step"] == result.trainer.global_step == 9
    assert any(key.startswith("ModelCheckpoint{") for key in last["callbacks"])  # as before


def test_resuming_a_finished_run_trains_and_tests_nothing_again(tmp_path, caplog):
    run(compose_config(*RUN), tmp_path)
    earlier = _files(tmp_path)
    with caplog.at_level(logging.INFO, logger="tsfm.run"):
        metrics = run(compose_config(*RUN, "resume=true"), tmp_path)
    assert "already finished (1 epoch, trained and tested" in caplog.text
    assert "nothing to resume" in caplog.text and "larger trainer.max_epochs" in caplog.text
    assert _files(tmp_path) == earlier  # no second test row in logs/metrics.csv, no new files
    assert metrics == json.loads((tmp_path / "metrics.json").read_text())

    # another model is not "the run that finished": refused as any resume of another model
    with pytest.raises(InputError, match="d_model"):
        run(compose_config(*RUN, "model.d_model=32", "resume=true"), tmp_path)
    assert _files(tmp_path) == earlier

    # more epochs asked for: the run goes on, without Lightning's warning that its
    # checkpoint folder is not empty (on a resume it holds the run's checkpoints, as it should)
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO):
        warnings.simplefilter("always")
        more = run(compose_config(*RUN, "trainer.max_epochs=2", "resume=true"), tmp_path)
    assert more["epochs"] == 2
    epochs = [r.getMessage().split("  ")[0] for r in caplog.records if r.name == "tsfm.run"]
    assert [e for e in epochs if e.startswith("epoch ")] == ["epoch 2/2"]  # counted on
    assert validated_epochs(tmp_path / "logs" / "metrics.csv") == [0, 1]
    assert not [w for w in caught if "exists and is not empty" in str(w.message)]
