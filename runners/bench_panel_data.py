"""Data preparation of an independent panel at a chosen size: the time a ``Forecaster.fit``
spends before its first training step (reading the frame, checks, scaling, calendar
features, windows, the data fingerprint), the time of ``predict()`` and the process's peak
RSS, on a synthetic panel of hourly series (a daily cycle, a temperature known ahead, a
weekly holiday flag, two static covariates). The model is tiny and trains a few steps: the
figures are the data layer's.

    python runners/bench_panel_data.py                      # 1000 series x 500 rows
    python runners/bench_panel_data.py --series 2000 --rows 5000 --library polars
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd
import polars as pl

from tsfm import Forecaster
from tsfm.training import module as training_module


def panel(series: int, rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long frame (``unique_id, ds, y, temp, hol``) and its static frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    ids = np.array([f"s{i:05d}" for i in range(series)])
    daily = np.sin(2 * np.pi * t / 24)[None, :]
    y = rng.uniform(10, 100, series)[:, None] + 5 * daily + rng.normal(0, 1, (series, rows))
    temp = 15 + 10 * daily + rng.normal(0, 2, (series, rows))
    frame = pd.DataFrame({
        "unique_id": np.repeat(ids, rows),
        "ds": np.tile(pd.date_range("2020-01-01", periods=rows, freq="h").values, series),
        "y": y.ravel(),
        "temp": temp.ravel(),
        "hol": np.tile(((t // 24) % 7 == 6).astype(float), series),
    })  # fmt: skip
    statics = pd.DataFrame(
        {
            "unique_id": ids,
            "region": rng.choice(list("ABCD"), series),
            "cap": rng.uniform(1, 5, series),
        }
    )
    return frame, statics


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=500, help="hourly rows per series")
    parser.add_argument("--library", choices=["pandas", "polars"], default="pandas")
    args = parser.parse_args()
    if args.rows < 24 + 96 + 48 + 1:
        parser.error("--rows must be at least 169 (look-back 96, horizon 24, validation 48)")
    frame, statics = panel(args.series, args.rows)
    if args.library == "polars":
        frame, statics = pl.from_pandas(frame), pl.from_pandas(statics)
    print(f"{args.series} series x {args.rows} rows ({args.library}); peak RSS after "
          f"building the frame {peak_rss_mb():.0f} MB", flush=True)  # fmt: skip

    first_step: list[float] = []
    step = training_module.ForecastingModule.training_step

    def timed_step(self, batch, index):
        if not first_step:
            first_step.append(time.perf_counter())
        return step(self, batch, index)

    training_module.ForecastingModule.training_step = timed_step
    est = Forecaster(
        "itransformer", horizon=24, lookback=96, d_model=16, d_ff=16, n_layers=1, n_heads=1,
        mode="independent", future_covariates=["temp", "hol"],
        static_covariates=["region", "cap"], max_epochs=1, batch_size=64,
        trainer__limit_train_batches=3, trainer__limit_val_batches=2, val_size=48, verbose=0,
    )  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(frame, static_df=statics)
    end = time.perf_counter()
    training_module.ForecastingModule.training_step = step
    print(f"fit: {end - start:.2f} s, of which before the first training step "
          f"{first_step[0] - start:.2f} s", flush=True)  # fmt: skip

    future = est.make_future_dataframe()
    future = (
        future.assign(temp=15.0, hol=0.0)
        if isinstance(future, pd.DataFrame)
        else future.with_columns(temp=pl.lit(15.0), hol=pl.lit(0.0))
    )
    for call in range(2):
        start = time.perf_counter()
        forecast = est.predict(future_df=future)
        print(f"predict() call {call + 1}: {time.perf_counter() - start:.2f} s, "
              f"{len(forecast)} rows", flush=True)  # fmt: skip
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
