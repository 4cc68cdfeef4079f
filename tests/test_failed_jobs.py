"""A failed job of ``python -m tsfm.run`` leaves its error in run.log and in a metrics.json
with ``"status": "failed"``; a multirun names every failed job, not only the first."""

from __future__ import annotations

import json
import logging

import pytest
from omegaconf import OmegaConf

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.cli_failures import failures_recorded
from tsfm.training.run_dirs import earlier_run_files


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
