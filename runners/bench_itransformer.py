"""Speed benchmark: iTransformer on ETTh1 96 -> 96 with the paper's hyperparameters.

Prints training samples/s, where each training step's time goes (forward, backward,
optimizer, everything else = data loading and framework overhead), evaluation samples/s,
peak memory and, with ``--full``, the wall time and test MSE/MAE of the whole paper run
(training with early stopping, then test).

    python runners/bench_itransformer.py                 # CPU, fp32
    python runners/bench_itransformer.py --full          # + the whole paper run
    python runners/bench_itransformer.py trainer=gpu     # any Hydra override

The "plain loop" line times the same model and batches in a bare PyTorch loop (no
Lightning, batches gathered by index), the arithmetic floor a training loop can reach.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

from tsfm.config import compose_config
from tsfm.pipeline import build_datamodule, build_module, build_trainer, fit_and_test


class StepTimer(Callback):
    """Splits each training step into forward, backward, optimizer and the rest."""

    def __init__(self, skip: int):
        self.skip, self.steps = skip, 0
        self.parts = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0, "total": 0.0}
        self._last_end = None

    def setup(self, trainer, pl_module, stage):
        model = pl_module.model
        model.register_forward_pre_hook(lambda *_: self._mark("fwd"))
        model.register_forward_hook(lambda *_: self._add("forward", "fwd"))

    def _sync(self):
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def _mark(self, name):
        self._sync()
        setattr(self, f"_t_{name}", time.perf_counter())

    def _add(self, part, name):
        self._sync()
        if self.steps >= self.skip:
            self.parts[part] += time.perf_counter() - getattr(self, f"_t_{name}")

    def on_before_backward(self, trainer, pl_module, loss):
        self._mark("bwd")

    def on_after_backward(self, trainer, pl_module):
        self._add("backward", "bwd")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self._mark("opt")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._add("optimizer", "opt")
        self._sync()
        now = time.perf_counter()
        if self._last_end is not None and self.steps >= self.skip:
            self.parts["total"] += now - self._last_end
        self._last_end = now
        self.steps += 1

    @property
    def timed_steps(self) -> int:
        return self.steps - self.skip


def plain_loop_ms(module, datamodule, steps: int, device: torch.device) -> float:
    """ms per step of the same model in a bare PyTorch loop."""
    model = module.model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    dataset = datamodule.datasets["train"]
    order = torch.randperm(len(dataset))
    batch_size = datamodule.config.batch_size
    start = None
    for i in range(steps + 5):
        if i == 5:
            start = time.perf_counter()
        batch = dataset.__getitems__(order[i * batch_size : (i + 1) * batch_size].tolist())
        batch = {k: v.to(device) for k, v in batch.items()}
        loss = torch.nn.functional.mse_loss(model(batch["x"], batch["x_mark"]), batch["y"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed training steps")
    parser.add_argument("--full", action="store_true", help="also time the whole paper run")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer=gpu")
    args = parser.parse_args()
    base = ["experiment=itransformer_etth1_96", "logger=none", "trainer.enable_progress_bar=false"]
    cfg = compose_config(*base, *args.overrides)
    timing_cfg = compose_config(*base, *args.overrides, "callbacks=none")
    batch_size = cfg.data.batch_size
    workdir = Path(tempfile.mkdtemp(prefix="tsfm-bench-"))

    datamodule = build_datamodule(cfg)
    module = build_module(cfg, datamodule)
    timer = StepTimer(skip=20)
    steps = args.steps + timer.skip + 1
    trainer = build_trainer(
        timing_cfg,
        workdir,
        [timer],
        max_steps=steps,
        limit_val_batches=0,
        enable_checkpointing=False,
    )
    trainer.fit(module, datamodule=datamodule)
    n = timer.timed_steps
    parts = {k: v / n * 1000 for k, v in timer.parts.items()}
    other = parts["total"] - parts["forward"] - parts["backward"] - parts["optimizer"]
    print(
        f"device: {trainer.strategy.root_device}, precision: {cfg.trainer.precision}, "
        f"threads: {torch.get_num_threads()}, batch: {batch_size}"
    )
    print(
        f"training: {batch_size * 1000 / parts['total']:.0f} samples/s, {parts['total']:.1f} ms/step over {n} steps"
    )
    print(
        f"  forward {parts['forward']:.1f} ms, backward {parts['backward']:.1f} ms, "
        f"optimizer {parts['optimizer']:.1f} ms, data loading + framework {other:.1f} ms "
        f"({other / parts['total']:.1%} of the step; {(other + parts['optimizer']) / parts['total']:.1%} "
        "with the optimizer step)"
    )

    device = trainer.strategy.root_device
    plain = plain_loop_ms(build_module(cfg, datamodule), datamodule, min(args.steps, 100), device)
    print(
        f"plain PyTorch loop, same model: {batch_size * 1000 / plain:.0f} samples/s, {plain:.1f} ms/step"
    )

    evaluator = build_trainer(timing_cfg, workdir)
    start = time.perf_counter()
    evaluator.validate(module, datamodule=datamodule, verbose=False)
    evaluator.test(module, datamodule=datamodule, verbose=False)
    seconds = time.perf_counter() - start
    windows = len(datamodule.datasets["val"]) + len(datamodule.datasets["test"])
    print(
        f"evaluation (val + test, {windows} windows, batch {cfg.data.eval_batch_size}): "
        f"{windows / seconds:.0f} samples/s, {seconds:.2f} s"
    )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: process RSS {rss:.0f} MiB", end="")
    if torch.cuda.is_available():
        print(f", GPU {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB allocated", end="")
    print()

    if args.full:
        start = time.perf_counter()
        result = fit_and_test(cfg, workdir / "full")
        wall = time.perf_counter() - start
        m = result.metrics
        print(
            f"whole paper run: {wall:.1f} s wall ({m['epochs']} epochs), "
            f"test MSE {m['test/mse']:.4f}, MAE {m['test/mae']:.4f}"
        )


if __name__ == "__main__":
    main()
