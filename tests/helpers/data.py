"""Test data: the shared benchmark folder and synthetic frames."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("TSFM_TEST_DATA", REPO.parent / "shared" / "data"))


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
