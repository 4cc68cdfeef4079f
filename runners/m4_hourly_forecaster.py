"""M4 Hourly through the Forecaster: the long frame as given (414 series of 700-960 points,
integer time), ``mode="independent"``, one ``predict()`` for every series, scored with
``tsfm.m4_scores`` (sMAPE, MASE, OWA against Naive2) on the competition's test file.

    python runners/m4_hourly_forecaster.py --data-root ../shared/data

Early stopping holds out the last 48 points of every series (``val_size=48``); the test file
is read only for scoring.

``--intervals`` also fits a model with conformal intervals (``conformal_windows=5``,
``conformal_step=24``: each series' last five validation windows, the errors pooled over the
series; ``val_size=144`` holds them out) and prints the coverage and width of its 80 % and
95 % intervals on the test file, with and without ``conformal_normalize``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tsfm import Forecaster, m4_scores
from tsfm.data.m4 import M4_GROUPS
from tsfm.data.m4.files import read_m4_file

SETTINGS = {
    "d_model": 128,
    "d_ff": 256,
    "n_heads": 8,
    "n_layers": 2,
    "batch_size": 256,
    "max_epochs": 3,
    "lr": 1e-3,
    "loss": "smape",
    "val_size": 48,
    "seed": 2021,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data-root", default=str(default_root))
    parser.add_argument("--intervals", action="store_true", help="also conformal intervals")
    args = parser.parse_args()
    folder = Path(args.data_root) / "m4"
    ids, train = read_m4_file(folder / "Hourly-train.csv")
    _, test = read_m4_file(folder / "Hourly-test.csv")
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, [len(s) for s in train]),
            "ds": np.concatenate([np.arange(1, len(s) + 1) for s in train]),
            "y": np.concatenate(train),
        }
    )
    point_forecasts(frame, ids, train, test)
    if args.intervals:
        interval_coverage(frame, ids, train, test)


def point_forecasts(frame: pd.DataFrame, ids: list, train: list, test: list) -> None:
    group = M4_GROUPS["Hourly"]
    est = Forecaster(
        horizon=group.horizon, lookback=2 * group.horizon, mode="independent", **SETTINGS
    )
    start = time.perf_counter()
    est.fit(frame)
    fitted = time.perf_counter() - start
    actuals = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, [len(s) for s in test]),
            "ds": np.concatenate(
                [np.arange(1, len(s) + 1) + len(x) for s, x in zip(test, train, strict=True)]
            ),
            "y": np.concatenate(test),
        }
    )
    scores = m4_scores(est.predict(), actuals, frame, season_length=group.period)
    print(f"M4 Hourly, {len(ids)} series, Forecaster(mode='independent'), fit {fitted:.0f} s")
    print("| | sMAPE | MASE | OWA |\n|---|---|---|---|")
    print(f"| iTransformer | {scores['smape']:.3f} | {scores['mase']:.3f} | {scores['owa']:.3f} |")
    print(f"| Naive2 | {scores['naive2_smape']:.3f} | {scores['naive2_mase']:.3f} | 1.000 |")


def interval_coverage(frame: pd.DataFrame, ids: list, train: list, test: list) -> None:
    """Test-file coverage and width (relative to each series' mean absolute level) of the
    80 % and 95 % conformal intervals of every series."""
    truth = np.concatenate(test)
    level = np.repeat([np.mean(np.abs(s)) for s in train], [len(t) for t in test])
    print("\n| conformal_normalize | fit (s) | level | coverage | median relative width |")
    print("|---|---|---|---|---|")
    for normalize in (False, True):
        est = Forecaster(
            horizon=48, lookback=96, mode="independent", conformal_windows=5,
            conformal_step=24, conformal_normalize=normalize, **{**SETTINGS, "val_size": 144},
        )  # fmt: skip
        start = time.perf_counter()
        est.fit(frame)
        fitted = time.perf_counter() - start
        forecast = est.predict(level=[80, 95]).set_index("unique_id").loc[ids]
        for percent in (80, 95):
            low, high = (
                forecast[f"y-lo-{percent}"].to_numpy(),
                forecast[f"y-hi-{percent}"].to_numpy(),
            )
            inside = ((truth >= low) & (truth <= high)).mean()
            width = np.median((high - low) / level)
            print(f"| {normalize} | {fitted:.0f} | {percent} % | {inside:.3f} | {width:.3f} |")


if __name__ == "__main__":
    main()
