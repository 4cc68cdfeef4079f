"""A failed job of ``python -m tsfm.run`` leaves its error in run.log and in a metrics.json
with ``"status": "failed"``; a multirun names every failed job, not only the first."""

from __future__ import annotations

import json
import logging

import pytest
from omegaconf import OmegaConf

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.cli_failures import failures_recorded, record_failure
from tsfm.training.run_dirs import check_fresh_run_dir, earlier_run_files


def status(run_dir) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_a_multirun_lists_every_failed_job_and_each_leaves_its_error(tmp_path):
    sweep = tmp_path / "sweep"
    tiny = [o for o in [*TINY_ITRANSFORMER, *TINY_RUN] if not o.startswith("data.pred_len")]
    proc = run_cli(
        "-m", *tiny, "threads=1", f"hydra.sweep.dir={sweep}", "data.pred_len=-5,8,-6",
        cwd=tmp_path,
    )  # fmt: skip
    err = proc.stderr
    assert proc.returncode == 1, err[-3000:]
    assert status(sweep / "1")["status"] == "ok"
    for job, pred_len in ((0, -5), (2, -6)):
        record = status(sweep / str(job))
        assert record["status"] == "failed"
        assert f"pred_len ({pred_len}) must be at least 1" in record["error"]
        assert (
            f"pred_len ({pred_len}) must be at least 1"
            in (sweep / str(job) / "run.log").read_text()
        )
        lines = [
            line for line in err.splitlines() if line.strip().startswith(f"failed job #{job} ")
        ]
        assert len(lines) == 2, err[-3000:]  # when it failed, and in the list at the end
        assert f"data.pred_len={pred_len}" in lines[0] and str(sweep / str(job)) in lines[0]
    assert "2 of 3 jobs failed" in err


def fake_hydra_log(tmp_path) -> logging.FileHandler:
    handler = logging.FileHandler(tmp_path / "run.log")
    logging.getLogger().addHandler(handler)
    return handler


def test_a_single_runs_fault_leaves_its_traceback_and_a_failed_metrics_json(tmp_path):
    cfg = OmegaConf.create({"seed": 1})
    handler = fake_hydra_log(tmp_path)
    try:
        with pytest.raises(RuntimeError), failures_recorded(cfg, tmp_path, logging.getLogger()):
            raise RuntimeError("a fault in the plot")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert status(tmp_path) == {"error": "RuntimeError: a fault in the plot", "status": "failed"}
    logged = (tmp_path / "run.log").read_text()
    assert "Traceback" in logged and "RuntimeError: a fault in the plot" in logged
    assert earlier_run_files(tmp_path) == []  # a failed run's directory takes a new run


def test_an_earlier_runs_results_stay_and_a_diverged_record_is_kept(tmp_path):
    cfg = OmegaConf.create({"seed": 1})
    earlier = json.dumps({"test/mse": 0.4, "status": "ok"})
    (tmp_path / "metrics.json").write_text(earlier)
    with pytest.raises(FileExistsError), failures_recorded(cfg, tmp_path, logging.getLogger()):
        raise FileExistsError("the run directory holds an earlier run")
    assert (tmp_path / "metrics.json").read_text() == earlier
    with pytest.raises(RuntimeError), failures_recorded(cfg, tmp_path / "x", logging.getLogger()):
        (tmp_path / "x").mkdir()
        (tmp_path / "x" / "metrics.json").write_text('{"status": "diverged", "error": "NaN"}')
        raise RuntimeError("diverged")
    assert status(tmp_path / "x") == {"status": "diverged", "error": "NaN"}
    with pytest.raises(OSError), failures_recorded(cfg, tmp_path / "y", logging.getLogger()):
        (tmp_path / "y").mkdir()
        (tmp_path / "y" / "metrics.json").write_text(json.dumps({"test/mse": 0.5, "status": "ok"}))
        raise OSError("disk full while plotting")
    assert status(tmp_path / "y") == {
        "test/mse": 0.5, "status": "failed", "error": "OSError: disk full while plotting"
    }  # fmt: skip


def test_a_config_that_cannot_be_saved_still_leaves_the_error_in_metrics_json(tmp_path):
    cfg = OmegaConf.create({"a": "${oc.env:TSFM_SURELY_NOT_SET}"})  # cannot be resolved
    record_failure(cfg, tmp_path, "InputError: the run's own error", None)
    assert status(tmp_path) == {"error": "InputError: the run's own error", "status": "failed"}


def test_a_failure_while_recording_never_replaces_the_runs_own_error(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full while recording")

    monkeypatch.setattr("tsfm.cli_failures.record_failure", broken)
    cfg = OmegaConf.create({"seed": 1})
    own = pytest.raises(ValueError, match="the run's own error")
    with own, failures_recorded(cfg, tmp_path, logging.getLogger()):
        raise ValueError("the run's own error")


def earlier_run(run_dir, failed: bool) -> dict[str, bytes]:
    """An interrupted run (checkpoints, no metrics.json), or one that failed after training;
    its files' bytes."""
    (run_dir / "checkpoints").mkdir(parents=True)
    for name in ("best.ckpt", "last.ckpt"):
        (run_dir / "checkpoints" / name).write_bytes(b"weights of the first run")
    if failed:
        (run_dir / "config.yaml").write_text("data:\n  path: first.csv\n")
        (run_dir / "metrics.json").write_text('{"status": "failed", "error": "OOM in test"}')
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*.*")}


@pytest.mark.parametrize("failed", [False, True])
def test_a_run_refused_in_another_runs_directory_writes_nothing_there(tmp_path, failed):
    (tmp_path / "run.log").write_text("the first run's log\n")
    files = earlier_run(tmp_path, failed)
    cfg = OmegaConf.create({"resume": False, "data": {"path": "second.csv"}})
    handler = fake_hydra_log(tmp_path)  # Hydra's, appending to the first run's run.log
    try:
        with pytest.raises(FileExistsError), failures_recorded(cfg, tmp_path, logging.getLogger()):
            check_fresh_run_dir(cfg, tmp_path)
        assert {
            str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*.*")
        } == files
        with (  # a multirun's job, refused before it wrote anything (a relative data.root)
            pytest.raises(FileNotFoundError),
            failures_recorded(cfg, tmp_path, logging.getLogger(), job="#0 (data.root=x)"),
        ):
            raise FileNotFoundError("data folder x (data.root) does not exist")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*.*")} == files


def test_a_resumed_run_that_fails_keeps_the_config_its_checkpoints_were_trained_with(tmp_path):
    files = earlier_run(tmp_path, failed=False)
    (tmp_path / "config.yaml").write_text("data:\n  path: first.csv\n")
    cfg = OmegaConf.create({"resume": True, "data": {"path": "first.csv"}})
    with pytest.raises(RuntimeError), failures_recorded(cfg, tmp_path, logging.getLogger()):
        (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"one more epoch")
        raise RuntimeError("CUDA out of memory")
    assert (tmp_path / "config.yaml").read_text() == "data:\n  path: first.csv\n"
    assert (tmp_path / "checkpoints" / "best.ckpt").read_bytes() == files["checkpoints/best.ckpt"]
    assert status(tmp_path) == {"error": "RuntimeError: CUDA out of memory", "status": "failed"}
    assert not (tmp_path / "versions.json").exists()
