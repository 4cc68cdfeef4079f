"""What identifies the code and machine behind a result: ``versions.json`` of every run and
saved Forecaster.

The versions of tsfm and of the libraries its numbers depend on (read from the installed
packages' metadata: nothing is imported for it; None for one not installed), python's, the
git commit of tsfm's own checkout and whether its tracked files differ from it (None when tsfm
is not run from a git checkout, or git is absent), the precision the run trained in
(``trainer.precision`` with ``auto`` resolved), torch's CPU threads, and whether the CPU
computes bf16 natively (what ``auto`` decides by).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

# the name versions.json gives a library -> its distribution's name
LIBRARIES = {
    "lightning": "lightning",
    "numpy": "numpy",
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "pyarrow",
    "hydra-core": "hydra-core",
    "omegaconf": "omegaconf",
    "optuna": "optuna",
    "transformers": "transformers",
    "open_clip": "open_clip_torch",
    "timm": "timm",
}
GIT_SECONDS = 5  # a checkout's status is instant; a hung file system must not hang a run
CHECKOUT = Path(__file__).resolve().parents[2]  # the folder holding tsfm/


def installed(distribution: str) -> str | None:
    """The installed version of ``distribution`` (None: not installed)."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _git(checkout: Path, *args: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # this checkout's
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args],
            capture_output=True,
            timeout=GIT_SECONDS,
            env=env,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", errors="replace")  # file names need not be UTF-8


def git_state(checkout: Path = CHECKOUT) -> dict[str, Any]:
    """``git_commit`` and ``git_dirty`` (tracked files changed since it) of the git checkout
    tsfm runs from; both None when tsfm is installed elsewhere or git is not there."""
    none = {"git_commit": None, "git_dirty": None}
    if not (checkout / ".git").exists() or not (checkout / "tsfm").is_dir():
        return none
    if shutil.which("git") is None:
        return none
    commit = _git(checkout, "rev-parse", "HEAD")
    status = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    if commit is None or status is None:
        return none
    return {"git_commit": commit.strip(), "git_dirty": bool(status.strip())}


def versions(precision: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """versions.json: tsfm, torch, the libraries of :data:`LIBRARIES` and python; the git
    state (:func:`git_state`); ``precision`` (the one the run trained in), ``threads`` (the
    run's setting; torch's current count when None) and ``cpu_native_bf16``."""
    import torch

    import tsfm
    from tsfm.training.runtime import cpu_has_native_bf16

    record: dict[str, Any] = {"tsfm": tsfm.__version__, "torch": torch.__version__}
    record.update({name: installed(dist) for name, dist in LIBRARIES.items()})
    record["python"] = platform.python_version()
    record.update(git_state())
    record["precision"] = precision
    record["threads"] = threads or torch.get_num_threads()
    record["cpu_native_bf16"] = cpu_has_native_bf16()
    return record
