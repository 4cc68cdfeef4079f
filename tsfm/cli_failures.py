"""What a failed job of ``python -m tsfm.run`` leaves: its error in ``run.log`` and in a
``metrics.json`` with ``"status": "failed"``, and, in a multirun, one line per failed job.

Hydra runs every job of a multirun's batch, keeps each job's exception and, after the
batch, raises the first one (a job that returned instead would count as completed, and the
command would exit 0); so the later failures would show nowhere. Each failed job prints one
line when it fails (its number, error, overrides and run directory), and, when the jobs ran
in this process (Hydra's basic launcher), the command ends by listing them all again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from omegaconf import DictConfig

from tsfm.cli_errors import INPUT_ERRORS, into_log_files, keep_out_of_log_files
from tsfm.training.artifacts import file_text, metrics_json, run_status, write_run_files

FAILED_JOBS: list[str] = []  # the lines of this process's failed multirun jobs
JOBS_RUN = [0]  # how many multirun jobs this process ran


@contextlib.contextmanager
def failures_recorded(
    cfg: DictConfig, run_dir: Path, log: logging.Logger, job: str | None = None
) -> Iterator[None]:
    """A job whose code raises leaves its error in ``run_dir`` (run.log and metrics.json,
    :func:`record_failure`) and raises it on. ``job``: how a multirun names the job (its
    number and overrides; None: a single run, whose input errors the caller reports). A
    metrics.json an earlier run left there (a refused directory) is never replaced, and a
    failure while recording is logged, never raised in place of the job's own error."""
    before = file_text(run_dir / "metrics.json")
    held = checkpoint_files(run_dir)
    if job is not None:
        JOBS_RUN[0] += 1
    try:
        yield
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        refused = isinstance(error, INPUT_ERRORS)
        shown = message if refused else traceback.format_exc().rstrip()
        if refused and only_another_run(run_dir, before, held):
            keep_out_of_log_files(error)  # stderr only: the run.log there is that run's
        elif job is not None or not refused:
            into_log_files(log, shown)  # a single run's input error: the caller logs it
        from lightning.pytorch.utilities import rank_zero_only  # not at import: --help

        if rank_zero_only.rank == 0:
            try:
                record_failure(cfg, run_dir, message, before, held)
            except Exception as failure:  # the job's own error is the one to see
                log.warning("could not record the failure in %s: %s", run_dir, failure)
        if job is not None:
            first = message.strip().splitlines()[0] if message.strip() else message
            line = f"failed job {job}: {first} (run directory {run_dir})"
            print(line, file=sys.stderr, flush=True)
            FAILED_JOBS.append(line)
        raise


def checkpoint_files(run_dir: Path) -> dict[str, tuple[int, int, int]]:
    """The checkpoints in ``run_dir/checkpoints``, each with what changes when it is written
    again (inode, size, modification time)."""
    found = {}
    for path in (run_dir / "checkpoints").glob("*.ckpt"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            found[path.name] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return found


def only_another_run(
    run_dir: Path, before: str | None, held: dict[str, tuple[int, int, int]] | None
) -> bool:
    """Whether ``run_dir`` holds another run's files and nothing of this job's: it held
    checkpoints or results (``before``: metrics.json's text, ``held``: the checkpoints, when
    the job started) and this job has changed none of them nor added a checkpoint."""
    earlier_results = before is not None and run_status(before) != "failed"
    if not held and not earlier_results:
        return False
    return checkpoint_files(run_dir) == held and file_text(run_dir / "metrics.json") == before


def record_failure(
    cfg: DictConfig,
    run_dir: Path,
    message: str,
    before: str | None,
    held: dict[str, tuple[int, int, int]] | None = None,
) -> None:
    """metrics.json with ``"status": "failed"`` and the ``error``, written as a diverged run's
    is (config.yaml and versions.json beside it). ``before``: metrics.json's text when the
    job started; one unchanged since holds an earlier run's results and stays; one this
    job wrote stays when it already says how it failed (``diverged``, ``non_finite``), and
    keeps its metrics when it says ``ok`` (a failure after the test, e.g. in the plot).
    ``held``: the checkpoints the directory held when the job started
    (:func:`checkpoint_files`). A job that wrote none of its own there (a run refused in
    another run's directory, or one that failed before its first checkpoint) records
    nothing: the files there are another run's. One that wrote some beside those (a
    ``resume=true`` run) writes metrics.json only, keeping the config.yaml the checkpoints
    it did not write were trained with."""
    path = run_dir / "metrics.json"
    if not run_dir.is_dir() or only_another_run(run_dir, before, held or {}):
        return  # nothing of this job's own: the directory is another run's
    now = file_text(path)
    metrics: dict = {}
    if now is not None:
        status = run_status(now)
        if now == before and status != "failed":
            return  # an earlier run's results
        if now != before and status != "ok":
            return  # this run's, saying how it failed
        if now != before:
            metrics = {k: v for k, v in json.loads(now).items() if k != "status"}
    metrics["error"] = message
    if held:
        path.write_text(metrics_json(metrics, "failed"))
        return
    try:
        write_run_files(cfg, run_dir, metrics, status="failed")
    except Exception:  # a config that cannot be resolved or saved: metrics.json alone
        path.write_text(metrics_json(metrics, "failed"))


@contextlib.contextmanager
def failed_jobs_listed() -> Iterator[None]:
    """Around the whole command: after a multirun whose jobs ran in this process, every
    failed job's line again (Hydra's traceback above is only the first one's)."""
    try:
        yield
    finally:
        if FAILED_JOBS:
            print(
                f"\n{len(FAILED_JOBS)} of {JOBS_RUN[0]} jobs failed (the traceback above is the "
                "first one's; each job's run.log and metrics.json hold its error):",
                file=sys.stderr,
            )
            for line in FAILED_JOBS:
                print(f"  {line}", file=sys.stderr)
            sys.stderr.flush()
