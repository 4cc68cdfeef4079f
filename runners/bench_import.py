"""How long ``from tsfm import Forecaster`` takes, and how much memory, in a fresh process.

    python runners/bench_import.py            # 5 fresh interpreters, median
    python runners/bench_import.py --runs 9

Goal: under 2 s and 400 MB on an idle machine. torch, Lightning and Hydra are imported by the
Forecaster's methods that need them (fit, predict, save/load), not by the import; the script
also lists which heavy packages the import pulled in. ``runners/bench_load.py`` measures the
next step, ``Forecaster.load`` and the first ``predict``, the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = """
import json, resource, sys, time
start = time.perf_counter()
from tsfm import Forecaster
seconds = time.perf_counter() - start
heavy = [m for m in ("torch", "lightning", "hydra", "transformers", "open_clip", "optuna")
         if m in sys.modules]
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "heavy": heavy}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    seconds = statistics.median(r["seconds"] for r in results)
    rss = statistics.median(r["rss_mb"] for r in results)
    print(
        f"from tsfm import Forecaster: {seconds:.2f} s, peak RSS {rss:.0f} MB "
        f"(median of {args.runs} fresh processes; load average {os.getloadavg()[0]:.1f})"
    )
    print(f"heavy packages imported: {results[0]['heavy'] or 'none'}")


if __name__ == "__main__":
    main()
