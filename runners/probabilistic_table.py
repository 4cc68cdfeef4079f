"""Calibrated uncertainty, measured: the README's table of probabilistic forecasts.

    python runners/probabilistic_table.py --data-root ../shared/data          # every run
    python runners/probabilistic_table.py --only etth1                        # ETTh1 rows only
    python runners/probabilistic_table.py --table-only                        # print, run nothing

Each row is one ``python -m tsfm.run`` command (printed in the table), run in its own process
with its run directory under ``<out>/runs/<row>``; a row whose ``metrics.json`` exists is not
run again (``--force`` reruns it into a clean run directory: ``cli_runs.clear_run_dir``). Extra
arguments are Hydra overrides for every run. Rows that only change the conformal calibration
reuse the point model of another row (``train=false ckpt_path=<its best checkpoint>``:
calibrate and test, no training).

- ETTh1 96 -> 96, the iTransformer paper preset: the quantile head, the Normal and Student-t
  heads, and the point (MSE) model with split-conformal intervals calibrated on the
  validation split (every validation window, or 29 at the default step, 95 rows apart: the
  horizon's 96 would start every one at the same hour), scored on the full test split:
  CRPS (13-quantile grid), coverage and width of the 80 % and 95 % intervals.
- M4 Hourly, the iTransformer M4 preset: coverage and MSIS of the 95 % intervals of the point
  (sMAPE) model with normalised conformal scores from the held-out last horizon of every
  series (pooled over the series) and of the quantile head, beside the seasonal-naive interval
  baseline on the same series (``tsfm.data.m4.metrics.seasonal_naive_intervals``).
- EPF NP 168 -> 24, iTransformer with the day-ahead forecasts as future-known covariates (the
  covariates preset): the point model with conformal intervals from every validation window,
  and the quantile head.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "runners"))
from cli_runs import run_cli  # noqa: E402

ETTH1 = ["experiment=itransformer_etth1_96"]
M4_HOURLY = ["experiment=itransformer_m4_hourly"]
EPF_NP = ["experiment=itransformer_epf_np"]
M4_TRAINED = ["model.d_model=128", "model.d_ff=128", "data.samples_per_series=10"]
ALL_VAL = ["conformal.windows=2785", "conformal.step=1"]  # every ETTh1 validation window
ACI = ["conformal.adaptive_rate=0.005"]  # Gibbs and Candès's step size
# in the order they run; the table lists them by part
RUNS: dict[str, tuple[str, list[str]]] = {
    "etth1_quantile": ("etth1", [*ETTH1, "loss=quantile"]),
    "etth1_conformal": ("etth1", [*ETTH1, *ALL_VAL]),
    "etth1_conformal_normalized": ("etth1", [*ETTH1, *ALL_VAL, "conformal.normalize=true"]),
    "etth1_conformal_29": ("etth1", [*ETTH1, "conformal.windows=29"]),
    "etth1_normal": ("etth1", [*ETTH1, "loss=normal"]),
    "m4_hourly_conformal": ("m4", [*M4_HOURLY, "conformal.windows=1", "conformal.normalize=true"]),
    "epf_np_conformal": ("epf", [*EPF_NP, "conformal.windows=5219", "conformal.step=1"]),
    "epf_np_conformal_normalized": (
        "epf",
        [*EPF_NP, "conformal.windows=5219", "conformal.step=1", "conformal.normalize=true"],
    ),
    "epf_np_quantile": ("epf", [*EPF_NP, "loss=quantile"]),
    "m4_hourly_quantile": ("m4", [*M4_HOURLY, "loss=quantile"]),
    # the better-trained M4 model of the README's M4 section (d_model 128, 10 draws per series)
    "m4_hourly_conformal_trained": (
        "m4",
        [*M4_HOURLY, *M4_TRAINED, "conformal.windows=1", "conformal.normalize=true"],
    ),
    "etth1_student_t": ("etth1", [*ETTH1, "loss=student_t"]),
    "etth1_conformal_adaptive": ("etth1", [*ETTH1, *ALL_VAL, *ACI]),
    "etth1_conformal_normalized_adaptive": (
        "etth1",
        [*ETTH1, *ALL_VAL, "conformal.normalize=true", *ACI],
    ),
    "epf_np_conformal_adaptive": (
        "epf",
        [*EPF_NP, "conformal.windows=5219", "conformal.step=1", *ACI],
    ),
    "epf_np_conformal_normalized_adaptive": (
        "epf",
        [*EPF_NP, "conformal.windows=5219", "conformal.step=1", "conformal.normalize=true", *ACI],
    ),
}
# row -> the row whose trained point model it recalibrates
REUSE = {
    "etth1_conformal_normalized": "etth1_conformal",
    "etth1_conformal_29": "etth1_conformal",
    "epf_np_conformal_normalized": "epf_np_conformal",
    "etth1_conformal_adaptive": "etth1_conformal",
    "etth1_conformal_normalized_adaptive": "etth1_conformal",
    "epf_np_conformal_adaptive": "epf_np_conformal",
    "epf_np_conformal_normalized_adaptive": "epf_np_conformal",
}


def run(name: str, overrides: list[str], out: Path, data_root: str | None, extra: list[str]):
    log = out / "runs" / f"{name}.log"
    code, seconds = run_cli([*overrides, *extra], out / "runs" / name, log, data_root)
    status = "FAILED, see the log" if code else "done"
    print(f"  {name}: {status} ({seconds:.0f} s)", flush=True)


def load(out: Path, name: str) -> dict | None:
    path = out / "runs" / name / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _cell(metrics: dict, key: str, scale: float = 1.0, digits: int = 3) -> str:
    value = metrics.get(key)
    return "" if value is None else f"{value * scale:.{digits}f}"


def interval_table(out: Path, wanted: str) -> list[str]:
    lines = [
        "| run | intervals from | MSE | CRPS | coverage 80 | width 80 | coverage 95 | width 95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (part, overrides) in RUNS.items():
        metrics = load(out, name)
        if part != wanted or metrics is None:
            continue
        source = "conformal" if metrics.get("conformal_windows") else f"{metrics['loss']} head"
        if metrics.get("conformal_adaptive_rate"):
            source = f"adaptive conformal (rate {metrics['conformal_adaptive_rate']:g})"
        cells = [
            _cell(metrics, "test/mse"),
            _cell(metrics, "test/crps"),
            _cell(metrics, "test/coverage_80", 100, 1),
            _cell(metrics, "test/width_80"),
            _cell(metrics, "test/coverage_95", 100, 1),
            _cell(metrics, "test/width_95"),
        ]
        command = " ".join(o for o in overrides if not o.startswith("experiment="))
        reused = f" (the model of `{REUSE[name]}`)" if name in REUSE else ""
        lines.append(f"| `{command}`{reused} | {source} | " + " | ".join(cells) + " |")
    return lines


def m4_table(out: Path) -> list[str]:
    lines = [
        "| run | SMAPE | OWA | coverage 95 | MSIS | seasonal naive: coverage 95 | MSIS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (part, overrides) in RUNS.items():
        metrics = load(out, name)
        if part != "m4" or metrics is None:
            continue
        cells = [
            _cell(metrics, "test/smape"),
            _cell(metrics, "test/owa"),
            _cell(metrics, "test/coverage_95", 100, 1),
            _cell(metrics, "test/msis"),
            _cell(metrics, "test/snaive_coverage_95", 100, 1),
            _cell(metrics, "test/snaive_msis"),
        ]
        command = " ".join(o for o in overrides if not o.startswith("experiment="))
        lines.append(f"| `{command}` | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "runners" / "results" / "probabilistic"))
    parser.add_argument("--only", choices=["etth1", "m4", "epf"], default=None)
    parser.add_argument("--force", action="store_true", help="rerun rows that have results")
    parser.add_argument("--table-only", action="store_true", help="print the table, run nothing")
    args, extra = parser.parse_known_args()
    out = Path(args.out)
    if not args.table_only:
        for name, (part, overrides) in RUNS.items():
            if args.only and part != args.only:
                continue
            if load(out, name) is not None and not args.force:
                continue
            root = args.data_root if part in ("m4", "epf") else None
            if name in REUSE:
                best = out / "runs" / REUSE[name] / "checkpoints" / "best.ckpt"
                if not best.is_file():
                    print(f"  {name}: skipped, {REUSE[name]} has no checkpoint yet")
                    continue
                overrides = [*overrides, "train=false", f"ckpt_path={best.resolve()}"]
            run(name, overrides, out, root, extra)
    print("ETTh1 96 -> 96, iTransformer (test split, scaled values)")
    print("\n".join(interval_table(out, "etth1")))
    print("\nM4 Hourly, iTransformer (test horizon of every series)")
    print("\n".join(m4_table(out)))
    print("\nEPF NP 168 -> 24, iTransformer with future-known covariates (test split, scaled)")
    print("\n".join(interval_table(out, "epf")))


if __name__ == "__main__":
    main()
