"""Time to the first forecast of a fresh process: ``from tsfm import Forecaster``, a default
``Forecaster.fit`` and ``predict()``, split by where the time goes.

    python runners/bench_first_forecast.py                      # aus_production and ETTh1
    python runners/bench_first_forecast.py --data aus --runs 3
    python runners/bench_first_forecast.py --checkout before=/path/to/old --checkout after=.
    python runners/bench_first_forecast.py --data none --runs 5   # python -m tsfm.run --help

Each run is a fresh interpreter under ``python -X importtime``, so the first fit pays its
imports as a user's does. Phases (seconds): ``import`` (``from tsfm import Forecaster``),
``fit imports`` (what ``fit`` imports: torch, Lightning and what Lightning brings, Hydra,
tsfm's training code), ``set-up`` (the rest of ``fit`` before the first epoch: reading the
frame, the config, the data module, the Trainer), ``steps`` (forward, backward and optimizer
of every batch), ``between steps`` (fetching batches, per-step logging), ``epoch ends``
(after an epoch's last step: callbacks, logging, progress), of which ``checkpoints`` (writing
checkpoint files) and ``validation`` (its loops; the sanity check's is in set-up), ``wrap-up`` (after
training: the best weights, the fitted state, teardown) and ``predict``. The import
seconds are split into what ``import lightning`` loads anyway (not in tsfm's hands) and
what tsfm adds, by package. With several ``--checkout`` (``name=path``: the directory holding
its ``tsfm`` package) the runs alternate between them, so a busy spell hits both; medians.
Defaults are the Forecaster's (ETTh1: ``horizon=96``; ``--max-epochs`` caps its 10 epochs);
``--val-size`` holds rows out for validation (then the best epoch is kept). Last, the
seconds of ``python -m tsfm.run --help`` (a fresh process each).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AUS = Path("/work/shared/data/extra/aus_production.csv")
ETTH1 = REPO / "datasets" / "ETTh1.csv"
PHASES = ("import", "fit imports", "set-up", "steps", "between steps", "epoch ends",
          "checkpoints", "validation", "wrap-up", "predict")  # fmt: skip
MARK = "### phase "


def child(data: str, max_epochs: int | None, val_size: int | None = None) -> None:
    """One measured first forecast; prints a JSON line of phase seconds (stdout)."""
    marks: dict[str, float] = {}

    def phase(name: str) -> None:
        marks[name] = time.perf_counter()
        print(MARK + name, file=sys.stderr, flush=True)  # splits importtime's lines

    phase("import")
    from tsfm import Forecaster

    phase("fit imports")
    import pandas as pd

    import tsfm.estimator.fitting as fitting
    import tsfm.estimator.warm_start  # noqa: F401
    import tsfm.pipeline  # noqa: F401

    timer = hook_timer()
    shown = fitting.display_callbacks
    fitting.display_callbacks = lambda est: [*shown(est), timer]
    if data == "aus":
        frame = pd.read_csv(AUS)[["Quarter", "Beer", "Cement", "Electricity", "Gas"]]
        params: dict = {"horizon": 8}
    else:
        frame, params = pd.read_csv(ETTH1), {"horizon": 96}
    if max_epochs:
        params["max_epochs"] = max_epochs
    if val_size:
        params["val_size"] = val_size
    phase("fit")
    forecaster = Forecaster(verbose=0, **params).fit(frame)
    phase("predict")
    forecaster.predict()
    phase("end")
    t = timer.times
    out = {
        "import": marks["fit imports"] - marks["import"],
        "fit imports": marks["fit"] - marks["fit imports"],
        "set-up": t["train_start"] - marks["fit"],
        **{k: t[k] for k in ("steps", "between steps", "epoch ends", "checkpoints")},
        "validation": t["validation"],
        "wrap-up": marks["predict"] - t["train_end"],
        "predict": marks["end"] - marks["predict"],
        "epochs": forecaster.fit_metrics_["epochs"],
        "optimizer steps": forecaster.fit_metrics_["steps"],
        "checkpoint files": t["saves"],
    }
    print(json.dumps(out))


def hook_timer():
    """A Lightning callback adding up the fit's phases (see the module docstring)."""
    from lightning.pytorch.callbacks import Callback

    class Timer(Callback):
        def __init__(self) -> None:
            self.times = dict.fromkeys(
                ("steps", "between steps", "epoch ends", "checkpoints", "validation"), 0.0
            )
            self.times["saves"] = 0
            self.last = self.val_start = 0.0

        def on_fit_start(self, trainer, pl_module) -> None:
            save = trainer.save_checkpoint

            def timed_save(*args, **kwargs):
                start = time.perf_counter()
                save(*args, **kwargs)
                self.times["checkpoints"] += time.perf_counter() - start
                self.times["saves"] += 1

            trainer.save_checkpoint = timed_save

        def on_train_start(self, trainer, pl_module) -> None:
            self.times["train_start"] = self.last = time.perf_counter()

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            now = time.perf_counter()
            self.times["epoch ends" if batch_idx == 0 else "between steps"] += now - self.last
            self.last = now

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            now = time.perf_counter()
            self.times["steps"] += now - self.last
            self.last = now

        def on_validation_start(self, trainer, pl_module) -> None:
            self.val_start = time.perf_counter()

        def on_validation_end(self, trainer, pl_module) -> None:
            self.times["validation"] += time.perf_counter() - self.val_start

        def on_train_end(self, trainer, pl_module) -> None:
            self.times["train_end"] = now = time.perf_counter()
            self.times["epoch ends"] += now - self.last

    return Timer()


def import_split(stderr: str, lightning_modules: set[str]) -> dict[str, dict[str, float]]:
    """Seconds of top-level imports per phase, split into what ``import lightning`` loads and
    what is left, per top-level package."""
    phase, out = "", {}
    for line in stderr.splitlines():
        if line.startswith(MARK):
            phase = line[len(MARK) :]
            continue
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not found or phase not in ("import", "fit imports", "fit"):
            continue
        seconds, name = int(found.group(1)) / 1e6, found.group(4)  # self time
        key = "lightning's" if name in lightning_modules else name.split(".")[0]
        bucket = out.setdefault(phase, {})
        bucket[key] = bucket.get(key, 0.0) + seconds
    return out


def modules_of_lightning() -> set[str]:
    """The modules a fresh ``import lightning`` loads."""
    code = "import sys, lightning; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def measure(
    path: str, data: str, max_epochs: int | None, val_size: int | None, lightning: set[str]
) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    command = [sys.executable, "-X", "importtime", __file__, "--child", data]
    command += ["--max-epochs", str(max_epochs)] if max_epochs else []
    command += ["--val-size", str(val_size)] if val_size else []
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=path)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["imports by package"] = import_split(done.stderr, lightning)
    result["load"] = os.getloadavg()[0]
    return result


def report(name: str, data: str, runs: list[dict]) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    first = runs[0]
    total = sum(med(k) for k in PHASES if k not in ("checkpoints", "validation"))
    print(f"\n{name} / {data}: {len(runs)} run(s), median seconds, load "
          f"{statistics.median(r['load'] for r in runs):.1f}; {first['epochs']} epochs, "
          f"{first['optimizer steps']} steps, {first['checkpoint files']} checkpoint files written")  # fmt: skip
    for key in PHASES:
        extra = " (in epoch ends)" if key in ("checkpoints", "validation") else ""
        print(f"  {key:<14} {med(key):8.2f}{extra}")
    print(f"  {'total':<14} {total:8.2f}")
    for phase, packages in first["imports by package"].items():
        top = sorted(packages.items(), key=lambda kv: -kv[1])[:8]
        print(f"  imports during {phase!r} (first run, self time): "
              + ", ".join(f"{k} {v:.2f}" for k, v in top))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("aus", "etth1", "both", "none"), default="both")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=None, help="cap ETTh1's epochs")
    parser.add_argument("--val-size", type=int, default=None, help="rows held out (default none)")
    parser.add_argument("--checkout", action="append", default=[], help="name=path")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.max_epochs, args.val_size)
        return
    checkouts = [c.split("=", 1) for c in args.checkout] or [["this", str(REPO)]]
    lightning = modules_of_lightning()
    datasets = {"both": ("aus", "etth1"), "none": ()}.get(args.data, (args.data,))
    for data in datasets:
        epochs = args.max_epochs if data == "etth1" else None
        results: dict[str, list[dict]] = {name: [] for name, _ in checkouts}
        for _ in range(args.runs):
            for name, path in checkouts:  # interleaved: A, B, A, B, ...
                results[name].append(
                    measure(str(Path(path).resolve()), data, epochs, args.val_size, lightning)
                )
        for name, runs in results.items():
            report(name, data, runs)
    cli_help(checkouts, args.runs)


def cli_help(checkouts: list[list[str]], runs: int) -> None:
    """Seconds of ``python -m tsfm.run --help`` in a fresh process, per checkout (median)."""
    seconds: dict[str, list[float]] = {name: [] for name, _ in checkouts}
    for _ in range(runs):
        for name, path in checkouts:
            env = {**os.environ, "PYTHONPATH": str(Path(path).resolve()), "OMP_NUM_THREADS": "1"}
            start = time.perf_counter()
            command = [sys.executable, "-m", "tsfm.run", "--help"]
            subprocess.run(command, capture_output=True, env=env, check=True, cwd=path)
            seconds[name].append(time.perf_counter() - start)
    for name, found in seconds.items():
        print(f"\n{name}: python -m tsfm.run --help {statistics.median(found):.2f} s "
              f"(median of {runs}; load {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
