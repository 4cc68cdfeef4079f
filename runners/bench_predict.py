"""Latency of ``Forecaster.predict`` on one 96-step window of ETTh1 (goal: under 20 ms on CPU).

Fits iTransformer with the paper preset (``itransformer_etth1_96``, d_model 256) briefly on
ETTh1's training months, then times ``predict(window)`` where ``window`` is a 96-row frame
(date + 7 variates): parsing and checking the frame, frequency check, scaling, calendar
features, the forward pass and the output frame with its future timestamps. The first call
is reported apart (lazy initialisation); the figures are over the calls after it.

    python runners/bench_predict.py
    python runners/bench_predict.py --calls 500 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import polars as pl
import torch

from tsfm import Forecaster

ETTH1 = Path(__file__).resolve().parents[1] / "datasets" / "ETTh1.csv"
TRAIN_ROWS = 12 * 30 * 24  # the paper's training months


def timings(call, n: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return first, times


def report(name: str, first: float, times: list[float]) -> None:
    ms = sorted(t * 1e3 for t in times)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(
        f"{name:<34} first {first * 1e3:7.1f} ms | median {statistics.median(ms):6.2f} ms  "
        f"p90 {p90:6.2f} ms  min {ms[0]:6.2f} ms  ({len(ms)} calls)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--train-batches", type=int, default=20, help="batches of the short fit")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    frame = pd.read_csv(ETTH1, parse_dates=["date"])
    est = Forecaster.from_experiment(
        "itransformer_etth1_96", max_epochs=1, trainer__limit_train_batches=args.train_batches
    )
    start = time.perf_counter()
    est.fit(frame.iloc[:TRAIN_ROWS])
    print(
        f"fitted {est.model} (d_model {est.config_.model.d_model}, {est.n_variates_} variates) "
        f"in {time.perf_counter() - start:.1f} s; torch threads: {torch.get_num_threads()}"
    )
    window = frame.iloc[TRAIN_ROWS : TRAIN_ROWS + est.lookback].reset_index(drop=True)
    window_pl = pl.from_pandas(window)
    forecast = est.predict(window)
    assert len(forecast) == est.horizon == 96
    assert forecast.date.iloc[0] == window.date.iloc[-1] + pd.Timedelta(hours=1)

    report("predict(96-row pandas window)", *timings(lambda: est.predict(window), args.calls))
    report("predict(96-row polars window)", *timings(lambda: est.predict(window_pl), args.calls))
    report("predict() after the fitted data", *timings(est.predict, args.calls))
    x = torch.randn(1, 96, 7)
    marks = torch.rand(1, 96, 4) - 0.5
    with torch.inference_mode():
        report(
            "model forward alone (reference)",
            *timings(lambda: est.module_.model(x, marks), args.calls),
        )


if __name__ == "__main__":
    main()
