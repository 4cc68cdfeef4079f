"""Each column's last observed value is found by a backward search, not a forward fill of
the whole history: the same values, without copying the history (last_observed), and the
panel scores' look-backs carry in the same values (panel_scoring)."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import tsfm.estimator.panel_scoring as panel_scoring
from tsfm.data.values import carried_forward, last_observed


def reference(values: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """The forward fill of the whole array, last row (what last_observed computed before)."""
    start = np.full(values.shape[1], np.nan) if before is None else before
    return carried_forward(np.concatenate([np.asarray(start, np.float64)[None], values]))[-1]


def patterns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    sparse = rng.normal(size=(1000, 6))
    sparse[rng.random(sparse.shape) < 0.3] = np.nan
    sparse[:, 1] = np.nan  # never observed
    sparse[1:, 2] = np.nan  # observed in the first row only: the search reaches it
    sparse[:-100, 3] = np.nan  # observed only in the last 100 rows
    sparse[-70:, 4] = np.nan  # last observed 70 rows before the end (past the first block)
    return {
        "sparse": sparse,
        "float32": sparse.astype(np.float32),
        "no rows": np.zeros((0, 3)),
        "one row": np.array([[1.0, np.nan, 3.0]]),
        "all missing": np.full((200, 2), np.nan),
        "integers": np.arange(12).reshape(4, 3),
    }


@pytest.mark.parametrize("name", list(patterns()))
def test_last_observed_equals_the_last_row_of_the_forward_fill(name):
    values = patterns()[name]
    before = np.arange(values.shape[1], dtype=np.float64) + 0.5
    for given in (None, before):
        got = last_observed(values, given)
        assert got.dtype == np.float64
        assert np.array_equal(got, reference(values, given), equal_nan=True)
    assert np.isnan(before).sum() == 0  # before is not written to


def test_last_observed_reads_the_rows_near_the_end_without_copying_the_history():
    values = np.random.default_rng(1).normal(size=(20_000, 50))  # 8 MB, all observed
    tracemalloc.start()
    try:
        last_observed(values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < values.nbytes / 20  # a forward fill allocates a [T, C] copy, or two


def masked_panel() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    frames = []
    for k, rows in enumerate((90, 70)):
        y = 10 + np.sin(np.arange(rows) / 3) + 0.1 * rng.normal(size=rows)
        y[rng.random(rows) < 0.2] = np.nan
        y[rows - 40 : rows - 30] = np.nan  # a gap before a look-back
        ds = pd.date_range("2020-01-01", periods=rows, freq="D")
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def test_panel_scores_carry_the_same_values_into_each_look_back(monkeypatch):
    from tests.test_covariates import TINY_IT
    from tsfm import Forecaster

    df = masked_panel()
    est = Forecaster(horizon=5, lookback=10, mode="independent", missing="mask", val_size=None,
                     **{**TINY_IT, "max_epochs": 1})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(df)
        fast = est.cross_validate(df, n_windows=3, step=5, refit=False)
        calls = []
        monkeypatch.setattr(
            panel_scoring, "last_observed", lambda v: calls.append(1) or reference(v)
        )
        slow = est.cross_validate(df, n_windows=3, step=5, refit=False)
    assert calls  # the reference was used
    pd.testing.assert_frame_equal(fast.forecasts, slow.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(fast.metrics, slow.metrics, check_exact=True)
