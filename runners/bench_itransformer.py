"""Speed benchmark: iTransformer on ETTh1 96 -> 96 (paper size), fp32 and bf16, beside the
official code when a checkout of it is given.

Prints, from interleaved repeats (official, fp32, bf16, official, ...; medians): training
samples/s through Lightning with where a step's time goes (forward, backward, optimizer,
the rest = data and framework), the fraction of this machine's measured bf16 matrix-multiply
peak a step reaches, evaluation (validation + test, what runs after every epoch) and, with
``--full``, the whole paper run (``python -m tsfm.run``, train with early stopping then
test, each in a fresh process) with its test MSE/MAE.

    python runners/bench_itransformer.py --threads 1                 # fp32 and bf16
    python runners/bench_itransformer.py --threads 1 --official ../iTransformer --full
    python runners/bench_itransformer.py trainer=gpu                 # any Hydra override

``--official`` is a checkout of thuml/iTransformer, run unmodified through
runners/official_itransformer.py (``--num_workers 0``, its faster setting on a small CPU).
On a machine shared with other jobs use ``--threads 1``: two threads per process then wait
on each other and every figure becomes noise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import flops, header, interleaved, load, median, peaks, set_threads, sync  # noqa: E402, I001

from tsfm.config import compose_config  # noqa: E402
from tsfm.pipeline import build_datamodule, build_module, build_trainer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PRECISIONS = {"fp32": "32-true", "bf16": "bf16-mixed"}
PARTS = ("forward", "backward", "optimizer", "total")


class StepTimer(Callback):
    """Splits each training step into forward, backward, optimizer and the rest."""

    def __init__(self, skip: int):
        self.skip, self.steps = skip, 0
        self.parts = dict.fromkeys(PARTS, 0.0)
        self._marks: dict[str, float] = {}
        self._last_end: float | None = None

    def setup(self, trainer, pl_module, stage):
        pl_module.model.register_forward_pre_hook(lambda *_: self._mark("forward"))
        pl_module.model.register_forward_hook(lambda *_: self._add("forward"))

    def _mark(self, part: str) -> None:
        sync(self.device)
        self._marks[part] = time.perf_counter()

    def _add(self, part: str) -> None:
        sync(self.device)
        if self.steps >= self.skip:
            self.parts[part] += time.perf_counter() - self._marks[part]

    def on_fit_start(self, trainer, pl_module):
        self.device = pl_module.device

    def on_before_backward(self, trainer, pl_module, loss):
        self._mark("backward")

    def on_after_backward(self, trainer, pl_module):
        self._add("backward")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self._mark("optimizer")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._add("optimizer")
        sync(self.device)
        now = time.perf_counter()
        if self._last_end is not None and self.steps >= self.skip:
            self.parts["total"] += now - self._last_end
        self._last_end = now
        self.steps += 1

    def ms_per_step(self) -> dict[str, float]:
        return {k: v / (self.steps - self.skip) * 1000 for k, v in self.parts.items()}


class Tsfm:
    """tsfm's training steps and evaluation in one precision, through Lightning."""

    def __init__(self, cfg, datamodule, precision: str, workdir: Path):
        self.cfg, self.datamodule, self.precision = cfg, datamodule, precision
        self.module, self.workdir = build_module(cfg, datamodule), workdir
        self.breakdowns: list[dict[str, float]] = []

    def train(self, steps: int) -> float:
        """ms per training step over ``steps`` steps (after 10 untimed)."""
        timer = StepTimer(skip=10)
        trainer = build_trainer(
            self.cfg,
            self.workdir,
            [timer],
            max_steps=steps + timer.skip + 1,
            limit_val_batches=0,
            enable_checkpointing=False,
            precision=self.precision,
        )
        trainer.fit(self.module, datamodule=self.datamodule)
        self.breakdowns.append(timer.ms_per_step())
        return self.breakdowns[-1]["total"]

    def evaluate(self) -> float:
        """Seconds for validation + test (every window, batch ``data.eval_batch_size``)."""
        trainer = build_trainer(self.cfg, self.workdir, precision=self.precision)
        start = time.perf_counter()
        trainer.validate(self.module, datamodule=self.datamodule, verbose=False)
        trainer.test(self.module, datamodule=self.datamodule, verbose=False)
        return time.perf_counter() - start

    def step_flops(self) -> float:
        batch = self.datamodule.datasets["train"].__getitems__(list(range(32)))
        model = self.module.model.train()

        def step():
            out = model(batch["x"], batch["x_mark"])
            torch.nn.functional.mse_loss(out, batch["y"]).backward()

        return flops(step)


def official_variants(checkout: str, workdir: Path, steps: int):
    from official_itransformer import Official

    official = Official(checkout, workdir)
    for _ in range(10):
        official.train_step()

    def train() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            official.train_step()
        return (time.perf_counter() - start) / steps * 1000

    def evaluate() -> float:
        start = time.perf_counter()
        official.evaluate()
        return time.perf_counter() - start

    return train, evaluate, official.evaluated_windows


def whole_run(kind: str, threads: int, official: str | None, overrides: list[str]) -> dict:
    """One paper run in a fresh process: wall seconds (start-up included), epochs, MSE, MAE."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    if kind == "official":
        script = REPO / "runners" / "official_itransformer.py"
        command = [sys.executable, str(script), "--official", official, "--threads", str(threads)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return {**result, "wall_s": time.perf_counter() - start}
    run_dir = Path(tempfile.mkdtemp(prefix=f"tsfm-{kind}-"))
    command = [
        sys.executable, "-m", "tsfm.run", "experiment=itransformer_etth1_96", f"threads={threads}",
        f"trainer.precision={PRECISIONS[kind]}", f"hydra.run.dir={run_dir}", "output.plot=false",
        "trainer.enable_progress_bar=false", *overrides,
    ]  # fmt: skip
    subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=REPO)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "wall_s": time.perf_counter() - start,
        "epochs": metrics["epochs"],
        "mse": metrics["test/mse"],
        "mae": metrics["test/mae"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed training steps a repeat")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (medians)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--official", help="a checkout of thuml/iTransformer to compare with")
    parser.add_argument("--full", action="store_true", help="also time whole paper runs")
    parser.add_argument("--full-repeats", type=int, default=1)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer=gpu")
    args = parser.parse_args()
    threads = set_threads(args.threads)
    base = ["experiment=itransformer_etth1_96", "logger=none", "trainer.enable_progress_bar=false"]
    cfg = compose_config(*base, *args.overrides, "callbacks=none")
    workdir = Path(tempfile.mkdtemp(prefix="tsfm-bench-"))
    device = "cuda" if cfg.trainer.accelerator in ("gpu", "cuda") else "cpu"
    machine = peaks(device)
    print(header(threads, machine))
    datamodule = build_datamodule(cfg)
    runs = {name: Tsfm(cfg, datamodule, p, workdir) for name, p in PRECISIONS.items()}
    step_flops = runs["fp32"].step_flops()
    train = {name: (lambda r=r: r.train(args.steps)) for name, r in runs.items()}
    evaluate = {name: r.evaluate for name, r in runs.items()}
    windows = len(datamodule.datasets["val"]) + len(datamodule.datasets["test"])
    official_windows = None
    if args.official:
        official_train, official_evaluate, official_windows = official_variants(
            args.official, workdir, args.steps
        )
        train, evaluate = (
            {"official": official_train, **train},
            {"official": official_evaluate, **evaluate},
        )

    print(f"training ({args.steps} steps of {cfg.data.batch_size} a repeat):")
    steps = {name: median(v) for name, v in interleaved(train, args.repeats).items()}
    print(f"evaluation (validation + test, {windows} windows):")
    seconds = {name: median(v) for name, v in interleaved(evaluate, args.repeats).items()}

    print(f"\n{load()}; step: {step_flops / 1e9:.2f} GFLOP (forward + backward, matmuls)")
    print(f"{'':<10}{'ms/step':>9}{'samples/s':>11}{'vs official':>13}{'vs fp32':>9}{'bf16 peak':>11}"
          f"{'fwd':>7}{'bwd':>7}{'optim':>7}{'rest':>7}")  # fmt: skip
    for name, ms in steps.items():
        rate = step_flops / (ms / 1000) / 1e9
        ratios = f"{steps['official'] / ms:>12.2f}x" if "official" in steps else f"{'-':>13}"
        line = f"{name:<10}{ms:>9.1f}{cfg.data.batch_size * 1000 / ms:>11.0f}{ratios}"
        line += f"{steps['fp32'] / ms:>8.2f}x{rate / machine['bf16']:>10.1%}"
        if name in runs:
            parts = {k: median([b[k] for b in runs[name].breakdowns]) for k in PARTS}
            rest = parts["total"] - parts["forward"] - parts["backward"] - parts["optimizer"]
            line += "".join(f"{parts[k]:>7.1f}" for k in PARTS[:3]) + f"{rest:>7.1f}"
        print(line)
    print(f"{'':<10}{'eval s':>9}{'samples/s':>11}{'vs official':>13}{'vs fp32':>9}")
    for name, s in seconds.items():
        n = official_windows if name == "official" else windows
        ratio = f"{seconds['official'] / s:>12.1f}x" if "official" in seconds else f"{'-':>13}"
        print(f"{name:<10}{s:>9.2f}{n / s:>11.0f}{ratio}{seconds['fp32'] / s:>8.2f}x")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: process RSS {rss:.0f} MiB (every variant in this process)")

    if args.full:
        kinds = (["official"] if args.official else []) + list(PRECISIONS)
        variants = {
            k: (lambda k=k: whole_run(k, threads, args.official, args.overrides)) for k in kinds
        }
        print("whole paper runs (fresh processes):")
        results: dict[str, list[dict]] = {k: [] for k in kinds}
        for repeat in range(args.full_repeats):
            for kind, run in variants.items():
                results[kind].append(run())
                print(f"  repeat {repeat + 1}, {kind}: {results[kind][-1]}, {load()}", flush=True)
        walls = {k: median([r["wall_s"] for r in v]) for k, v in results.items()}
        for kind, runs_of_kind in results.items():
            last = runs_of_kind[-1]
            ratio = (
                f", {walls['official'] / walls[kind]:.2f}x official" if "official" in walls else ""
            )
            print(f"{kind}: {walls[kind]:.1f} s wall{ratio}, {last['epochs']} epochs, "
                  f"test MSE {last['mse']:.5f}, MAE {last['mae']:.5f}")  # fmt: skip


if __name__ == "__main__":
    main()
