"""EPF: iTransformer with the day-ahead forecasts as future-known tokens, as past-only tokens (the
official ``features=MS``) and without them, beside the TimeXer paper's numbers.

    python runners/epf_table.py --data-root ../shared/data            # 4 markets x 3 variants
    python runners/epf_table.py --data-root ../shared/data --markets np --variants future

Each run is ``python -m tsfm.run experiment=itransformer_epf_<market>`` plus the variant's
overrides, in its own process, with its run directory under ``<out>/runs/<market>_<variant>``;
a run whose ``metrics.json`` exists is kept (``--force`` reruns it into a clean run directory:
``cli_runs.clear_run_dir``). Test MSE/MAE are on the scaled target (TimeXer's protocol); the
table is rewritten from every run directory found.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "runners"))
from cli_runs import run_cli  # noqa: E402

MARKETS = ("np", "pjm", "be", "fr")
VARIANTS = {
    "future": [],  # the preset: data.future_covariates = the two day-ahead forecasts
    "past": ["data.future_covariates=[]", "data.features=MS"],
    "target": ["data.future_covariates=[]", "data.features=S"],
}
# Wang et al., "TimeXer: Empowering Transformers for Time Series Forecasting with Exogenous
# Variables", NeurIPS 2024, Table 2 (look-back 168, horizon 24): (MSE, MAE).
TIMEXER_PAPER = {
    "np": {"TimeXer": (0.236, 0.268), "iTransformer": (0.265, 0.300)},
    "pjm": {"TimeXer": (0.093, 0.192), "iTransformer": (0.097, 0.197)},
    "be": {"TimeXer": (0.379, 0.243), "iTransformer": (0.394, 0.270)},
    "fr": {"TimeXer": (0.385, 0.208), "iTransformer": (0.439, 0.233)},
}


def run(market: str, variant: str, out: Path, data_root: str, force: bool) -> None:
    run_dir = out / "runs" / f"{market}_{variant}"
    if (run_dir / "metrics.json").is_file() and not force:
        return
    print(f"{market} {variant}: running", flush=True)
    overrides = [f"experiment=itransformer_epf_{market}", *VARIANTS[variant]]
    code, _ = run_cli(overrides, run_dir, run_dir / "run.log", data_root)
    if code:
        print(f"  FAILED ({code}); see {run_dir / 'run.log'}")


def collect(out: Path) -> list[dict]:
    rows = []
    for market in MARKETS:
        row: dict = {"market": market.upper()}
        for variant in VARIANTS:
            path = out / "runs" / f"{market}_{variant}" / "metrics.json"
            if path.is_file():
                m = json.loads(path.read_text())
                row[f"{variant}_mse"], row[f"{variant}_mae"] = m["test/mse"], m["test/mae"]
                if variant == "future":
                    row["samples_per_s"] = m["windows/train"] * m["epochs"] / m["fit_seconds"]
        for model, (mse, mae) in TIMEXER_PAPER[market].items():
            row[f"paper_{model}_mse"], row[f"paper_{model}_mae"] = mse, mae
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    def cell(row: dict, key: str) -> str:
        mse, mae = row.get(f"{key}_mse"), row.get(f"{key}_mae")
        return "-" if mse is None else f"{mse:.3f} / {mae:.3f}"

    keys = ["future", "past", "target", "paper_TimeXer", "paper_iTransformer"]
    header = (
        "| market | future-known tokens | past-only tokens (official MS) | target only "
        "| TimeXer (paper) | iTransformer (TimeXer paper) |"
    )
    lines = [header, "|---|---|---|---|---|---|"]
    lines += [f"| {r['market']} | " + " | ".join(cell(r, k) for k in keys) + " |" for r in rows]
    complete = [r for r in rows if all(f"{k}_mse" in r for k in keys)]
    if complete:
        mean = {
            f"{k}_{m}": sum(r[f"{k}_{m}"] for r in complete) / len(complete)
            for k in keys
            for m in ("mse", "mae")
        }
        lines.append(
            f"| mean ({len(complete)}) | " + " | ".join(cell(mean, k) for k in keys) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--markets", default=",".join(MARKETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", default=str(REPO / "runners" / "results" / "epf"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    for market in args.markets.split(","):
        for variant in args.variants.split(","):
            run(market, variant, out, args.data_root, args.force)
    rows = collect(out)
    out.mkdir(parents=True, exist_ok=True)
    text = "test MSE / MAE on the scaled target (look-back 168, horizon 24)\n\n" + table(rows)
    (out / "results.md").write_text(text + "\n")
    with open(out / "results.csv", "w", newline="") as handle:
        fields = sorted({k for r in rows for k in r}, key=lambda k: (k != "market", k))
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(text)
    speed = [f"{r['market']} {r['samples_per_s']:.0f}" for r in rows if "samples_per_s" in r]
    if speed:
        print("training samples/s with future covariates:", ", ".join(speed))


if __name__ == "__main__":
    main()
