"""Running ``python -m tsfm.run`` in a fresh process for the evidence runners (reproduce.py,
epf_table.py, probabilistic_table.py, timesclip_cpu_study.py, bf16_accuracy.py): one place
that builds the command, keeps the console quiet, captures the output into a log and times
the run."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUIET = ("trainer.enable_progress_bar=false", "output.print_table=false")


def run_cli(
    overrides: Sequence[str],
    run_dir: Path,
    log: Path,
    data_root: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, float]:
    """Run ``python -m tsfm.run`` with ``overrides`` into ``run_dir`` (``data.root`` set when
    given); the command and its output go to ``log``. Returns the exit code and the seconds."""
    cmd = [sys.executable, "-m", "tsfm.run", *overrides, f"hydra.run.dir={run_dir}", *QUIET]
    if data_root:
        cmd.append(f"data.root={Path(data_root).resolve()}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    return proc.returncode, seconds
