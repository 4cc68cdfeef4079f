"""Does ``torch.compile`` pay for iTransformer's bf16 training step on this CPU? A bare loop
(no Lightning) of the ETTh1-96 paper step (batch 32, 7 variates and 4 calendar tokens, d_model
= d_ff = 256, two layers, fused Adam, bf16 autocast), eager against compiled, with the paper's
dropout 0.1 and without dropout, interleaved; medians in ms per step, and each variant's
first call (the compilation).

    python runners/bench_compile_itransformer.py --threads 1

Eager runs tsfm's CPU dropout (:class:`tsfm.models.common.Dropout`: 16-bit random lanes);
compiled runs torch's (``nn.Dropout``: tsfm's mask draws ``Tensor.random_``, where Dynamo
breaks the graph). The no-dropout pair shows what compilation gives the rest of the step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import interleaved, load, median, set_threads  # noqa: E402

from tsfm.models.common import use_torch_dropout  # noqa: E402
from tsfm.models.itransformer import ITransformer  # noqa: E402

BATCH, LOOKBACK, HORIZON, VARIATES, MARKS = 32, 96, 96, 7, 4


def training_step(compiled: bool, dropout: float):
    """A closure running one training step, and the seconds its first call took."""
    torch.manual_seed(0)
    model = ITransformer(
        seq_len=LOOKBACK, pred_len=HORIZON, d_model=256, d_ff=256, n_heads=8, n_layers=2,
        dropout=dropout,
    )  # fmt: skip
    if compiled:
        use_torch_dropout(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
    x, marks = torch.randn(BATCH, LOOKBACK, VARIATES), torch.randn(BATCH, LOOKBACK, MARKS)
    y = torch.randn(BATCH, HORIZON, VARIATES)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x, marks)
            prediction = getattr(out, "prediction", out)
            loss = torch.nn.functional.mse_loss(prediction.float(), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    run = torch.compile(step) if compiled else step
    start = time.perf_counter()
    run()
    return run, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    threads = set_threads(args.threads)
    print(f"iTransformer ETTh1-96 bf16 training step, bare loop; threads {threads}, {load()}")
    steps, firsts = {}, {}
    for dropout in (0.1, 0.0):
        for compiled in (False, True):
            name = f"{'compiled' if compiled else 'eager'}, dropout {dropout}"
            steps[name], firsts[name] = training_step(compiled, dropout)
            for _ in range(10):  # warm-up
                steps[name]()

    def timed(step):
        def measure() -> float:
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            return (time.perf_counter() - start) / args.steps * 1e3

        return measure

    results = interleaved({k: timed(v) for k, v in steps.items()}, args.repeats, report=False)
    for name, values in results.items():
        print(f"{name:<24} {median(values):7.2f} ms/step   first call {firsts[name]:6.1f} s")


if __name__ == "__main__":
    main()
