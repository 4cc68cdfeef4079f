"""Running ``python -m tsfm.run`` in a fresh process for the evidence runners (reproduce.py,
epf_table.py, probabilistic_table.py, timesclip_cpu_study.py, bf16_accuracy.py, m4_table.py):
one place that builds the command, keeps the console quiet, captures the output into a log,
times the run, and clears the run directory an earlier run of the runner left (``--force``, or
a run that stopped before writing metrics.json), since ``python -m tsfm.run`` refuses a
directory holding an earlier run's results. Only a directory that such a run wrote is
deleted: see :func:`clear_run_dir`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tsfm.errors import InputError  # noqa: E402

QUIET = ("trainer.enable_progress_bar=false", "output.print_table=false")
# What a run directory of python -m tsfm.run holds, by path inside it (tsfm/run.py,
# tsfm/training/artifacts.py, Hydra's record and log, the best and last checkpoints, Lightning's
# own with trainer.enable_checkpointing=true and callbacks=none, the csv or tensorboard
# logger, the log of each further DDP process), and what the runners add there.
RUN_FILES = re.compile(
    r"(config\.yaml|metrics\.json|versions\.json|run\.log|forecast\.png|forecasts\.parquet"
    r"|conformal\.pt|train_ddp_process_\d+\.log"
    r"|wall_seconds\.txt"  # bf16_accuracy.py
    r"|\.hydra/(config|hydra|overrides)\.yaml"
    r"|checkpoints/(best|last|epoch=\d+-step=\d+)(-v\d+)?\.ckpt"
    r"|logs/(metrics\.csv|hparams\.yaml)"
    r"|tensorboard/(events\.out\.tfevents\.[^/]+|hparams\.yaml)"
    r"|(logs|tensorboard)/checkpoints/epoch=\d+-step=\d+(-v\d+)?\.ckpt)"
)
RUN_FOLDERS = frozenset(
    {".hydra", "checkpoints", "logs", "tensorboard", "logs/checkpoints", "tensorboard/checkpoints"}
)
# The config groups of tsfm's conf/ that Hydra records choosing (.hydra/hydra.yaml).
TSFM_GROUPS = frozenset({"model", "data", "trainer", "optim", "callbacks", "logger"})


def foreign_paths(run_dir: Path) -> list[str]:
    """What in ``run_dir`` a ``python -m tsfm.run`` run does not write (:data:`RUN_FILES`,
    :data:`RUN_FOLDERS`), subfolders included; links are never a run's."""
    foreign = []
    for folder, dirs, files in os.walk(run_dir):
        inside = Path(folder).relative_to(run_dir)
        for name in sorted(dirs):
            path = inside / name
            if (run_dir / path).is_symlink() or path.as_posix() not in RUN_FOLDERS:
                foreign.append(path.as_posix() + "/")
                dirs.remove(name)  # not looked into: it is kept, and so is the directory
        for name in sorted(files):
            path = inside / name
            if (run_dir / path).is_symlink() or not RUN_FILES.fullmatch(path.as_posix()):
                foreign.append(path.as_posix())
    return foreign


def recorded_by_runner(run_dir: Path) -> bool:
    """Whether Hydra's record in ``run_dir`` (.hydra/hydra.yaml) is of a ``python -m
    tsfm.run`` job (tsfm's config groups chosen) that a runner sent there: its
    ``hydra.run.dir`` override this directory, its overrides the runner's :data:`QUIET`."""
    path = run_dir / ".hydra" / "hydra.yaml"
    if not path.is_file() or path.is_symlink():
        return False
    try:
        hydra = yaml.safe_load(path.read_text(errors="replace"))["hydra"]
        runtime, overrides = hydra["runtime"], hydra["overrides"]
        return (
            hydra["job"]["name"] == "run"
            and TSFM_GROUPS.issubset(runtime["choices"])
            and Path(runtime["output_dir"]).resolve() == run_dir.resolve()
            and any(str(o).startswith("hydra.run.dir=") for o in overrides["hydra"])
            and set(QUIET).issubset(overrides["task"])
        )
    except (yaml.YAMLError, KeyError, TypeError, ValueError):
        return False


def is_runner_log(path: Path) -> bool:
    """Whether ``path`` is the log :func:`run_cli` writes into its run directory ``path``'s
    folder (epf_table.py's): its first line the command that ran there."""
    if not path.is_file() or path.is_symlink():
        return False
    with open(path, errors="replace") as handle:
        first = handle.readline().rstrip("\n") + " "
    return " -m tsfm.run " in first and f" hydra.run.dir={path.parent.resolve()} " in first


def clear_run_dir(run_dir: Path) -> None:
    """Delete ``run_dir``, an earlier ``python -m tsfm.run`` run directory of a runner, so
    that a rerun there starts clean; nothing when there is none. Refused (InputError, nothing
    deleted): anything but a plain directory; one holding anything, at any depth, that a run
    does not write (:func:`foreign_paths`); and one whose Hydra record does not show a runner's
    run of ``python -m tsfm.run`` into it (:func:`recorded_by_runner`) and whose run.log is
    not the runner's (:func:`is_runner_log`): it is not one of the runner's run directories."""
    run_dir = Path(run_dir)
    if not run_dir.exists() and not run_dir.is_symlink():
        return
    fix = "pick another --out, or move it away (or delete it) yourself"
    if run_dir.is_symlink() or not run_dir.is_dir():
        raise InputError(
            f"{run_dir} is where the runner puts a run directory, but it is not a plain "
            f"directory (a file or a link): not deleted; {fix}"
        )
    foreign = foreign_paths(run_dir)
    if foreign:
        raise InputError(
            f"{run_dir} holds what a python -m tsfm.run run does not write "
            f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}), so it is not "
            f"one of the runner's run directories: not deleted; {fix}"
        )
    if not recorded_by_runner(run_dir) and not is_runner_log(run_dir / "run.log"):
        raise InputError(
            f"{run_dir} holds no record of a runner's python -m tsfm.run run into it (Hydra's "
            f".hydra/hydra.yaml of a tsfm.run job with hydra.run.dir={run_dir.resolve()} and "
            f"{' '.join(QUIET)}, or a run.log whose first line is that command), so it is not "
            f"one of the runner's run directories: not deleted; {fix}"
        )
    shutil.rmtree(run_dir)


def run_cli(
    overrides: Sequence[str],
    run_dir: Path,
    log: Path,
    data_root: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, float]:
    """Run ``python -m tsfm.run`` with ``overrides`` into ``run_dir`` (``data.root`` set when
    given), which starts clean (:func:`clear_run_dir`: the runners call this only to run
    again); the command and its output go to ``log``. Returns the exit code and the seconds."""
    run_dir = Path(run_dir).resolve()  # the run starts in REPO: a relative one would move
    clear_run_dir(run_dir)
    cmd = [sys.executable, "-m", "tsfm.run", *overrides, f"hydra.run.dir={run_dir}", *QUIET]
    if data_root:
        cmd.append(f"data.root={Path(data_root).resolve()}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    return proc.returncode, seconds
