"""Training speed of neuralforecast's iTransformer on ETTh1 96 -> 96, for comparison with
``runners/bench_itransformer.py`` (tsfm's paper preset, which adds four calendar tokens).

    pip install neuralforecast            # not a tsfm dependency; it brings ray
    python runners/bench_neuralforecast.py --threads 1 --steps 60

neuralforecast's model at the paper's size (hidden 256, 8 heads, 2 layers, d_ff 256, dropout
0.1, 7 series, windows of 32 per step, MAE loss as its default, no scaler: ETTh1 is fed
standardised with the training rows' statistics, as tsfm feeds it), trained through its own
``NeuralForecast.fit`` on ETTh1's training rows. A Lightning callback times every training
batch; the median after ``--warmup`` batches is printed as ms/step and samples/s (windows).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
from pytorch_lightning.callbacks import Callback  # neuralforecast trains with pytorch_lightning

REPO = Path(__file__).resolve().parents[1]
TRAIN_ROWS = 12 * 30 * 24  # ETTh1's training split (the first 12 months)


TIMES: list[float] = []  # module level: NeuralForecast trains a copy of the model and callbacks


class BatchTimer(Callback):
    def on_train_batch_start(self, *args) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, *args) -> None:
        TIMES.append(time.perf_counter() - self.start)


def long_frame() -> pd.DataFrame:
    frame = pd.read_csv(REPO / "datasets" / "ETTh1.csv", parse_dates=["date"])
    train = frame.iloc[:TRAIN_ROWS]
    columns = [c for c in frame.columns if c != "date"]
    scaled = (train[columns] - train[columns].mean()) / train[columns].std()
    scaled["ds"] = train["date"]
    return scaled.melt(id_vars="ds", var_name="unique_id", value_name="y")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from neuralforecast import NeuralForecast
    from neuralforecast.models import iTransformer

    timer = BatchTimer()
    model = iTransformer(
        h=96, input_size=96, n_series=7, hidden_size=256, n_heads=8, e_layers=2, d_ff=256,
        max_steps=args.steps + args.warmup, batch_size=32, windows_batch_size=32,
        val_check_steps=10**6, enable_progress_bar=False, enable_model_summary=False,
        logger=False, enable_checkpointing=False, callbacks=[timer], accelerator="cpu",
    )  # fmt: skip
    NeuralForecast(models=[model], freq="h").fit(long_frame())
    step = statistics.median(TIMES[args.warmup :])
    print(
        f"neuralforecast {__import__('neuralforecast').__version__} iTransformer, threads "
        f"{args.threads}: {step * 1e3:.1f} ms/step, {32 / step:.0f} samples/s "
        f"(median of {len(TIMES) - args.warmup} steps)"
    )


if __name__ == "__main__":
    main()
