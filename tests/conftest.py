"""Shared fixtures: Hydra composition, synthetic frames, the real data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsfm.config import compose_config, register_configs

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TSFM_TEST_DATA", REPO.parent / "shared" / "data"))

register_configs()
__all__ = ["compose_config"]

# A tiny iTransformer on 24 -> 8 windows, for tests of the machinery around the model.
TINY_ITRANSFORMER = [
    "model.d_model=8",
    "model.d_ff=16",
    "model.n_heads=2",
    "model.e_layers=1",
    "data.seq_len=24",
    "data.pred_len=8",
]
TINY_RUN = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
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


def needs_shared(*names: str):
    """Skip unless every named file is in the shared benchmark folder."""
    missing = [n for n in names if not (SHARED_DATA / n).exists()]
    return pytest.mark.skipif(bool(missing), reason=f"{missing} not in {SHARED_DATA}")


def synthetic_frame(
    n_rows: int = 400, n_vars: int = 3, freq: str = "h", seed: int = 0
) -> pd.DataFrame:
    """Seasonal series with noise, a 'date' column and variates v0.. plus target 'OT'."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows)
    data = {"date": pd.date_range("2020-01-01", periods=n_rows, freq=freq)}
    for j in range(n_vars):
        data[f"v{j}" if j < n_vars - 1 else "OT"] = (
            np.sin(2 * np.pi * t / 24 + j) * (j + 1) + 0.1 * rng.standard_normal(n_rows) + 5 * j
        )
    return pd.DataFrame(data)


@pytest.fixture
def frame() -> pd.DataFrame:
    return synthetic_frame()
