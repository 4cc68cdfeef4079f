"""How long a fresh process takes from ``from tsfm import Forecaster`` to its first forecast
of a saved model (``Forecaster.load`` + ``predict()``), and its peak memory.

    python runners/bench_load.py                          # a small saved iTransformer, 5 runs
    python runners/bench_load.py --model path/to/saved --runs 9
    python runners/bench_load.py --checkout before=/path/to/old/tsfm --checkout after=.

What a process started per request pays (serverless, a CLI wrapper, a cron job). Each run is a
fresh interpreter; with several ``--checkout`` (``name=path``: the directory holding its
``tsfm`` package) the runs alternate between them (A, B, A, B, ...), so a busy spell on a
shared machine hits both, and each line gives the load average over its runs. Without
``--model`` a small iTransformer (d_model 32, hourly, 3 variates) is fitted for one epoch and
saved to a temporary folder first. The script also lists the heavy packages the load and the
forecast imported (Lightning and what it brings stay out of an iTransformer's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("lightning", "torchmetrics", "torchvision", "transformers", "open_clip", "optuna",
         "matplotlib", "hydra", "torch")  # fmt: skip

PROBE = """
import json, resource, sys, time
start = time.perf_counter()
from tsfm import Forecaster
imported = time.perf_counter()
forecaster = Forecaster.load(sys.argv[1])
loaded = time.perf_counter()
forecaster.predict()
done = time.perf_counter()
try:  # this process's own peak: ru_maxrss keeps the parent's across the exec (Linux)
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError, ValueError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({
    "import": imported - start, "load": loaded - imported, "predict": done - loaded,
    "total": done - start, "rss_mb": peak,
    "heavy": [m for m in sys.argv[2].split(",") if m in sys.modules],
}))
"""


def small_model(folder: Path) -> Path:
    """A small iTransformer fitted briefly on a synthetic hourly frame, saved in ``folder``."""
    import numpy as np
    import pandas as pd

    from tsfm import Forecaster

    t = np.arange(600)
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=600, freq="h")})
    for j, name in enumerate(("a", "b", "OT")):
        frame[name] = np.sin(2 * np.pi * t / 24 + j) + 0.01 * t
    est = Forecaster(horizon=24, lookback=96, d_model=32, n_heads=2, n_layers=1, d_ff=64,
                     max_epochs=1, verbose=0)  # fmt: skip
    return est.fit(frame).save(folder / "itransformer")


def run_once(checkout: Path, model: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    before = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(model), ",".join(HEAVY)],
        capture_output=True, text=True, env=env, cwd=checkout,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"the probe failed under {checkout}:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["loadavg"] = (before + os.getloadavg()[0]) / 2
    return result


def report(name: str, runs: list[dict]) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    totals = ", ".join(f"{r['total']:.1f}" for r in runs)
    print(
        f"{name}: first forecast after {median('total'):.2f} s (import {median('import'):.2f} s, "
        f"load {median('load'):.2f} s, predict {median('predict') * 1000:.0f} ms), peak RSS "
        f"{median('rss_mb'):.0f} MB; median of {len(runs)} fresh processes, load average "
        f"{median('loadavg'):.1f} on {os.cpu_count()} cores "
        f"(totals {totals} s)"
    )
    print(f"  heavy packages imported: {runs[0]['heavy'] or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a saved Forecaster (default: a small one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkout", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args()
    checkouts = {}
    for item in args.checkout or [f"this={REPO}"]:
        name, _, path = item.partition("=")
        if not path or not (Path(path) / "tsfm" / "__init__.py").is_file():
            raise SystemExit(f"--checkout {item!r}: give NAME=PATH, PATH holding tsfm/")
        checkouts[name] = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or small_model(Path(tmp))
        print(f"model: {model}")
        results: dict[str, list[dict]] = {name: [] for name in checkouts}
        for _ in range(args.runs):
            for name, path in checkouts.items():
                results[name].append(run_once(path, model))
        for name, runs in results.items():
            report(name, runs)


if __name__ == "__main__":
    main()
