"""Tiny run settings and the command line, for tests of the machinery around the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.data import REPO

# A tiny iTransformer on 24 -> 8 windows, for tests of the machinery around the model.
TINY_ITRANSFORMER = [
    "model.d_model=8",
    "model.d_ff=16",
    "model.n_heads=2",
    "model.n_layers=1",
    "data.seq_len=24",
    "data.pred_len=8",
]
TINY_RUN = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "logger=none",
    "output.plot=false",
    "output.print_table=false",
]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """``python -m tsfm.run *args`` in a fresh process (the repository on its path)."""
    return subprocess.run(
        [sys.executable, "-m", "tsfm.run", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def untrained_test_metrics(cfg, run_dir: Path) -> dict:
    """The metrics of a test pass of ``cfg``'s untrained module (weights drawn with seed 0)."""
    import torch

    from tsfm.pipeline import build_datamodule, build_module, build_trainer

    datamodule = build_datamodule(cfg)
    torch.manual_seed(0)
    module = build_module(cfg, datamodule)
    return build_trainer(cfg, run_dir).test(module, datamodule=datamodule, verbose=False)[0]
