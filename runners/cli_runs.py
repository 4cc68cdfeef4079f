"""Running ``python -m tsfm.run`` in a fresh process for the evidence runners (reproduce.py,
epf_table.py, probabilistic_table.py, timesclip_cpu_study.py, bf16_accuracy.py, m4_table.py):
one place that builds the command, keeps the console quiet, captures the output into a log,
times the run, and clears the run directory an earlier run of the runner left (``--force``, or
a run that stopped before writing metrics.json), since ``python -m tsfm.run`` refuses a
directory holding an earlier run's results."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tsfm.errors import InputError  # noqa: E402

QUIET = ("trainer.enable_progress_bar=false", "output.print_table=false")
# What a run directory of python -m tsfm.run holds (tsfm/run.py, tsfm/training/artifacts.py,
# Hydra's record and log, the csv or tensorboard logger), and what the runners add there.
RUN_FILES = frozenset(
    {
        ".hydra",
        "checkpoints",
        "logs",
        "tensorboard",
        "config.yaml",
        "metrics.json",
        "versions.json",
        "run.log",
        "forecast.png",
        "forecasts.parquet",
        "conformal.pt",
        "wall_seconds.txt",  # bf16_accuracy.py
    }
)
# Any one of them shows the directory is a run's: its config (Hydra's record, or the resolved
# one written with the results) or its metrics.json.
RUN_MARKERS = ("config.yaml", ".hydra/config.yaml", "metrics.json")


def is_runner_log(path: Path) -> bool:
    """Whether ``path`` is the log :func:`run_cli` writes: its first line, the command."""
    if not path.is_file():
        return False
    with open(path, errors="replace") as handle:
        first = handle.readline()
    return " -m tsfm.run " in first and "hydra.run.dir=" in first


def clear_run_dir(run_dir: Path) -> None:
    """Delete ``run_dir``, an earlier ``python -m tsfm.run`` run directory, so that a rerun
    there starts clean; nothing when there is none. Refused (InputError, nothing deleted):
    anything but a plain directory, one holding anything a run does not write
    (:data:`RUN_FILES`), and a non-empty one with none of :data:`RUN_MARKERS` nor
    :func:`run_cli`'s log: it is not one of the runner's run directories."""
    run_dir = Path(run_dir)
    if not run_dir.exists() and not run_dir.is_symlink():
        return
    fix = "pick another --out, or move it away (or delete it) yourself"
    if run_dir.is_symlink() or not run_dir.is_dir():
        raise InputError(
            f"{run_dir} is where the runner puts a run directory, but it is not a plain "
            f"directory (a file or a link): not deleted; {fix}"
        )
    entries = sorted(p.name for p in run_dir.iterdir())
    foreign = [name for name in entries if name not in RUN_FILES]
    if foreign:
        raise InputError(
            f"{run_dir} holds what a python -m tsfm.run run does not write "
            f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}), so it is not "
            f"one of the runner's run directories: not deleted; {fix}"
        )
    marked = any((run_dir / m).is_file() for m in RUN_MARKERS)
    if entries and not marked and not is_runner_log(run_dir / "run.log"):
        raise InputError(
            f"{run_dir} holds none of a run's files ({', '.join(RUN_MARKERS)}, or the "
            f"runner's run.log), so it is not one of the runner's run directories: not "
            f"deleted; {fix}"
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
