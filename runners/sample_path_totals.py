"""Intervals for a horizon total from sample paths, measured: the coverage of the 80 % and
95 % intervals of each test window's total (the sum of its horizon steps), read from
``Forecaster.sample_paths`` against the same paths with their steps shuffled independently
(the same marginals, no dependence between steps: what per-step quantiles alone give).

    python runners/sample_path_totals.py --data-root ../shared/data \
        > runners/results/probabilistic/sample_path_totals.md

Forecaster fits (iTransformer, ``d_model=32``, 2 epochs, one torch thread), calibrated on the
validation rows: ETTh1 (hourly, 7 variates, 12 / 4 / 4 months, horizon 24: a day's total,
100 calibration windows) and vic_elec demand (half-hourly, the last 12,000 rows: 8,000
training, 2,000 validation, the rest the test; horizon 48: a day's total; 40 windows, as many
as its validation rows hold at the default step). Test windows: one
per day (non-overlapping horizons), 2,000 paths each.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tsfm import Forecaster

TINY = {"d_model": 32, "d_ff": 32, "max_epochs": 2, "verbose": 0, "threads": 1}
LEVELS = (80, 95)


def datasets(root: Path) -> list[tuple[str, dict, tuple, str]]:
    e = pd.read_csv(root / "ETTh1.csv", parse_dates=["date"])
    n_train, n_val = 12 * 30 * 24, 4 * 30 * 24
    ett = (e.iloc[:n_train], e.iloc[n_train : n_train + n_val], e.iloc[: n_train + 2 * n_val])
    v = pd.read_csv(root / "extra" / "vic_elec.csv", parse_dates=["Time"])
    v = v[["Time", "Demand"]].iloc[-12000:].reset_index(drop=True)
    vic = (v.iloc[:8000], v.iloc[8000:10000], v)
    return [
        ("ETTh1 (7 variates)", {"horizon": 24, "conformal_windows": 100}, ett, n_train + n_val),
        ("vic_elec demand", {"horizon": 48, "conformal_windows": 40}, vic, 10000),
    ]


def totals(
    est: Forecaster, frame: pd.DataFrame, first: int, samples: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per test window and series: the actual total ``[W, N]`` and the totals of the paths
    and of the shuffled paths ``[W, N, samples]``."""
    time_col = frame.columns[0]
    series = [c for c in frame.columns if c != time_col]
    rng = np.random.default_rng(0)
    actual, joint, shuffled = [], [], []
    for w, cut in enumerate(range(first, len(frame) - est.horizon + 1, est.horizon)):
        paths = est.sample_paths(frame.iloc[cut - est.lookback : cut], n_samples=samples, seed=w)
        actual.append(frame[series].iloc[cut : cut + est.horizon].sum().to_numpy())
        per_series_joint, per_series_shuffled = [], []
        for name in series:
            rows = paths[paths.unique_id == name]
            matrix = rows.pivot(index="sample", columns=time_col, values="y").to_numpy()
            per_series_joint.append(matrix.sum(axis=1))
            alone = np.stack([rng.permutation(column) for column in matrix.T], axis=1)
            per_series_shuffled.append(alone.sum(axis=1))
        joint.append(per_series_joint)
        shuffled.append(per_series_shuffled)
    return np.array(actual), np.array(joint), np.array(shuffled)


def scores(actual: np.ndarray, paths: np.ndarray, level: float) -> tuple[float, float]:
    """Coverage of the central ``level`` % interval of the paths' totals, and its mean width
    relative to the mean absolute actual total."""
    tail = (1 - level / 100) / 2
    lo, hi = np.quantile(paths, tail, axis=-1), np.quantile(paths, 1 - tail, axis=-1)
    covered = (actual >= lo) & (actual <= hi)
    return float(covered.mean()), float((hi - lo).mean() / np.abs(actual).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    print("| data | windows x series | paths | coverage 80 | width 80 | coverage 95 | width 95 |")
    print("|---|---|---|---|---|---|---|")
    for name, base, (train, valid, frame), first in datasets(args.data_root):
        est = Forecaster(**base, lookback=96, seed=0, **TINY).fit(train, valid)
        actual, joint, shuffled = totals(est, frame, first, args.samples)
        for label, paths in (("joint (sample_paths)", joint), ("steps independent", shuffled)):
            (c80, w80), (c95, w95) = (scores(actual, paths, level) for level in LEVELS)
            shape = f"{actual.shape[0]} x {actual.shape[1]}"
            print(f"| {name} | {shape} | {label} | {c80:.3f} | {w80:.3f} | {c95:.3f} | {w95:.3f} |")


if __name__ == "__main__":
    main()
