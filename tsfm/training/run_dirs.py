"""The run directory of ``python -m tsfm.run``: a new run refuses one that holds an earlier
run's results; ``resume=true`` continues the run whose ``checkpoints/last.ckpt`` is there,
and says what to do when none is."""

from __future__ import annotations

import shlex
from pathlib import Path

from omegaconf import DictConfig

from tsfm.training.artifacts import file_text, run_status
from tsfm.training.checkpoint_files import local_checkpoint
from tsfm.training.stopping import plural


def earlier_run_files(run_dir: str | Path) -> list[str]:
    """What in ``run_dir`` shows an earlier run there: its checkpoints and metrics.json (but
    one saying ``"status": "failed"``: a run that failed left no results to keep)."""
    run_dir = Path(run_dir)
    found = sorted(f"checkpoints/{p.name}" for p in (run_dir / "checkpoints").glob("*.ckpt"))
    metrics = run_dir / "metrics.json"
    if metrics.is_file() and run_status(file_text(metrics)) != "failed":
        found.append("metrics.json")
    return found


def check_fresh_run_dir(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse a run without ``resume=true`` in a directory holding an earlier run's
    checkpoints or metrics.json: Lightning would write ``best-v1.ckpt`` beside them, a later
    ``resume=true`` would continue the earlier run, and a failure would leave its results."""
    if cfg.get("resume", False):
        return
    found = earlier_run_files(run_dir)
    if found:
        raise FileExistsError(
            f"the run directory {run_dir} holds an earlier run ({', '.join(found[:4])}"
            f"{', ...' if len(found) > 4 else ''}); a new run there would mix its files with "
            "that run's. Point hydra.run.dir at another directory, add resume=true to "
            "continue that run, or delete the directory"
        )


def run_record_subdir(output_dir: str, resume: bool) -> str | None:
    """``hydra.output_subdir`` of a command-line run (conf/config.yaml): ``.hydra``, where
    Hydra records the run's config, overrides and settings, or None (no record) for a run
    :func:`check_fresh_run_dir` is about to refuse, so that the earlier run's record there
    (what ``Forecaster.from_run`` and a later ``resume=true`` go by) is not overwritten.
    Hydra resolves it after the run's directory is known and before it writes the record."""
    return None if not resume and earlier_run_files(output_dir) else ".hydra"


def resume_checkpoint(cfg: DictConfig, run_dir: Path) -> str | None:
    """The checkpoint ``trainer.fit`` continues from: ``<run_dir>/checkpoints/last.ckpt``
    with ``resume=true``, ``ckpt_path`` when training with one, else None."""
    if cfg.get("resume", False):
        last = run_dir / "checkpoints" / "last.ckpt"
        if not last.is_file():
            raise FileNotFoundError(nothing_to_resume(run_dir))
        return str(last)
    return str(local_checkpoint(cfg.ckpt_path)) if cfg.train and cfg.ckpt_path else None


def nothing_to_resume(run_dir: Path) -> str:
    """Why ``resume=true`` cannot continue in ``run_dir``, and how to start again."""
    found = earlier_run_files(run_dir)
    if found:  # best.ckpt without last.ckpt (save_last=false), or a finished run
        again = (
            "without resume=true and with hydra.run.dir at another directory (a new run "
            f"refuses this one, which holds {', '.join(found[:4])}), or delete this one"
        )
    else:
        again = (
            "the same command without resume=true (this directory holds no checkpoints or "
            "metrics.json, so a new run may use it)"
        )
    return (
        f"resume=true, but {run_dir / 'checkpoints' / 'last.ckpt'} does not exist: no epoch "
        "of a run in this directory finished (last.ckpt is written at the end of every epoch "
        "while callbacks.checkpoint.save_last=true), so there is nothing to continue. Start "
        f"the run again: {again}. If the run to continue is elsewhere, point hydra.run.dir "
        "at its directory"
    )


def interrupted_line(run_dir: Path, overrides: list[str], epochs: int | None) -> str:
    """The one line a command-line run interrupted by Ctrl-C ends with: how to continue it
    (``overrides``: the run's own, as Hydra recorded them), or to start it again."""
    done = "" if epochs is None else f" after {plural(epochs, 'finished epoch')}"
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "resume"]
    command = shlex.join(["python", "-m", "tsfm.run", *kept, f"hydra.run.dir={run_dir}"])
    if (run_dir / "checkpoints" / "last.ckpt").is_file():
        return (
            f"interrupted{done}; checkpoints/last.ckpt keeps the last finished epoch. To "
            f"continue: {command} resume=true"
        )
    if earlier_run_files(run_dir):  # best.ckpt only: callbacks.checkpoint.save_last=false
        return (
            f"interrupted{done}; there is no checkpoints/last.ckpt to continue from "
            "(callbacks.checkpoint.save_last=false): start the run again with another "
            "hydra.run.dir"
        )
    return f"interrupted{done}: no epoch finished, nothing to continue. To start again: {command}"
