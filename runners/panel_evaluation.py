"""A panel of series of different lengths through the Forecaster's scoring: M4 Weekly (359
series of 80-2,597 points, integer time) in ``mode="independent"``, fitted on the training
file, then

- ``evaluate`` on each series' last look-back plus the competition's 13 test weeks, checked
  against the sMAPE of ``predict()`` on the same weeks (they must agree);
- ``evaluate`` on every window of the training file (speed, and peak memory: the windows are
  scored a chunk at a time, so it does not grow with their number);
- ``cross_validate(n_windows=3, refit=False)`` on the training file (per-series folds).

    python runners/panel_evaluation.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import rss_peak  # noqa: E402

from tsfm import Forecaster, InSampleWarning  # noqa: E402
from tsfm.data.m4.files import read_m4_file  # noqa: E402

HORIZON, LOOKBACK = 13, 52
SETTINGS = {"d_model": 64, "d_ff": 64, "max_epochs": 3, "val_size": 13, "seed": 2021}


def long_frame(ids: list[str], series: list[np.ndarray], starts: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, [len(s) for s in series]),
            "ds": np.concatenate(
                [start + np.arange(len(s)) for s, start in zip(series, starts, strict=True)]
            ),
            "y": np.concatenate(series),
        }
    )


def read_group(root: Path, group: str) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """The ids, training series and test series of an M4 group."""
    ids, train = read_m4_file(root / "m4" / f"{group}-train.csv")
    return ids, train, read_m4_file(root / "m4" / f"{group}-test.csv")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    ids, train, test = read_group(parser.parse_args().data_root, "Weekly")
    history = long_frame(ids, train, [0] * len(ids))
    future = long_frame(ids, test, [len(s) for s in train])
    est = Forecaster(horizon=HORIZON, lookback=LOOKBACK, mode="independent", verbose=0, **SETTINGS)
    start = time.perf_counter()
    est.fit(history)
    print(f"M4 Weekly, {len(ids)} series of {min(map(len, train))}-{max(map(len, train))} points")
    print(f"fit: {time.perf_counter() - start:.1f} s")

    tail = pd.concat([history.groupby("unique_id").tail(LOOKBACK), future])
    scores = est.evaluate(tail.sort_values(["unique_id", "ds"], kind="stable"))
    forecast = est.predict().merge(future, on=["unique_id", "ds"], suffixes=("_f", ""))
    by_predict = float(
        (200 * (forecast.y - forecast.y_f).abs() / (forecast.y.abs() + forecast.y_f.abs())).mean()
    )
    print(
        f"test weeks: evaluate sMAPE {scores['smape']:.3f} over {scores['windows']} windows, "
        f"predict() {by_predict:.3f}; MASE {scores['mase']:.3f}, skill_mae "
        f"{scores['skill_mae']:+.3f} against the seasonal naive (season {scores['season_length']})"
    )
    with warnings.catch_warnings():  # every training window: in-sample scores, on purpose
        warnings.simplefilter("ignore", InSampleWarning)
        every, seconds, peak = rss_peak(lambda: est.evaluate(history))
    memory = "" if peak is None else f", peak memory +{peak:.0f} MB (resident, above its start)"
    print(f"every training window: {every['windows']} in {seconds:.1f} s{memory}")
    start = time.perf_counter()
    _, metrics = est.cross_validate(history, n_windows=3, refit=False)
    print(f"cross_validate(n_windows=3, refit=False): {time.perf_counter() - start:.1f} s")
    print(metrics[["fold", "train_rows", "smape", "mase", "skill_mae"]].to_string(index=False))


if __name__ == "__main__":
    main()
