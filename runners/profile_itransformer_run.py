"""Where a whole paper run's seconds go: iTransformer on ETTh1 96 -> 96 (``python -m tsfm.run
experiment=itransformer_etth1_96``), in one fresh process, split into start-up (imports, config,
data, model), training steps, what Lightning does between them, validation, checkpoint saves
and the test.

    python runners/profile_itransformer_run.py --threads 1                  # fp32
    python runners/profile_itransformer_run.py --threads 1 trainer.precision=bf16-mixed

Any Hydra override goes through. The run goes through the same ``fit_and_test`` as the CLI,
with a callback that reads the clock at Lightning's hooks (a few microseconds a step).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import lightning as L  # noqa: E402
from lightning.pytorch.callbacks import Callback  # noqa: E402

from tsfm.config import compose_config  # noqa: E402
from tsfm.pipeline import fit_and_test  # noqa: E402

IMPORTS = time.perf_counter() - START


class Clock(Callback):
    """Seconds spent inside training steps, validation, checkpoint saves and the test."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._marks: dict[str, float] = {}

    def _start(self, part: str) -> None:
        self._marks[part] = time.perf_counter()

    def _stop(self, part: str) -> None:
        self.seconds[part] = self.seconds.get(part, 0.0) + time.perf_counter() - self._marks[part]
        self.counts[part] = self.counts.get(part, 0) + 1

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        save = trainer.save_checkpoint

        def timed_save(*args, **kwargs):
            self._start("checkpoint saves")
            try:
                return save(*args, **kwargs)
            finally:
                self._stop("checkpoint saves")

        trainer.save_checkpoint = timed_save

    def on_fit_start(self, *_):
        self._start("fit")

    def on_fit_end(self, *_):
        self._stop("fit")

    def on_train_batch_start(self, *_):
        self._start("training steps")

    def on_train_batch_end(self, *_):
        self._stop("training steps")

    def on_validation_start(self, *_):
        self._start("validation")

    def on_validation_end(self, *_):
        self._stop("validation")

    def on_test_start(self, *_):
        self._start("test")

    def on_test_end(self, *_):
        self._stop("test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides")
    args = parser.parse_args()
    threads = [f"threads={args.threads}"] if args.threads else []
    begin = time.perf_counter()
    cfg = compose_config(
        "experiment=itransformer_etth1_96", "output.plot=false",
        "trainer.enable_progress_bar=false", *threads, *args.overrides,
    )  # fmt: skip
    clock = Clock()
    run_dir = Path(tempfile.mkdtemp(prefix="tsfm-profile-"))
    result = fit_and_test(cfg, run_dir, extra_callbacks=[clock])
    total = time.perf_counter() - begin
    seconds, counts = clock.seconds, clock.counts
    fit = seconds["fit"]
    inside = sum(seconds.get(k, 0.0) for k in ("training steps", "validation", "checkpoint saves"))
    parts = {
        "imports (torch, Lightning, torchmetrics, Hydra, tsfm)": IMPORTS,
        "set-up, best-checkpoint restore, metrics (outside fit/test)": total
        - fit
        - seconds.get("test", 0.0),
        "training steps (forward, backward, optimizer, logging)": seconds["training steps"],
        "between steps (next batch, Lightning's loop, epoch ends)": fit - inside,
        "validation (sanity check + every epoch)": seconds.get("validation", 0.0),
        "checkpoint saves": seconds.get("checkpoint saves", 0.0),
        "test (best checkpoint restored, then scored)": seconds.get("test", 0.0),
    }
    whole = IMPORTS + total
    steps = counts["training steps"]
    print(f"{cfg.trainer.precision}, threads {cfg.get('threads')}: {whole:.1f} s in the process, "
          f"{result.metrics['epochs']} epochs, {steps} steps "
          f"({seconds['training steps'] / steps * 1000:.1f} ms each), "
          f"test MSE {result.metrics['test/mse']:.4f} / MAE {result.metrics['test/mae']:.4f}")  # fmt: skip
    for name, value in parts.items():
        print(f"  {name:<58}{value:>7.1f} s {value / whole:>6.1%}")
    counted = {k: counts.get(k, 0) for k in ("validation", "checkpoint saves")}
    print(f"  ({json.dumps(counted)})")


if __name__ == "__main__":
    main()
