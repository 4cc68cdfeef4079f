"""bf16 mixed precision against fp32 on CPU: test MSE/MAE and wall time of whole runs.

    python runners/bf16_accuracy.py --data-root ../shared/data --threads 1
    python runners/bf16_accuracy.py --only itransformer_exchange_rate_96

Each setting runs ``python -m tsfm.run`` twice in fresh processes, with
``trainer.precision=32-true`` and ``trainer.precision=bf16-mixed`` (same seed, same data, same
full test set), and the table gives the relative change of test MSE (the issue's gate: within
1 %). Settings: the iTransformer ETTh1-96 and Exchange-96 paper presets and the TimesCLIP
CPU-study setting of ``runners/timesclip_cpu_study.py`` (small random CLIP, 3 epochs) on
Exchange-96. ``--seeds 1,2,3`` adds runs with those seeds (beside the presets' own) and a
row with the mean over every seed, to tell a precision effect from a seed effect. A run whose
``metrics.json`` exists is not run again. Results and the table go to
``runners/results/bf16/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "runners"))
from cli_runs import run_cli  # noqa: E402

SMALL_CLIP = [
    "model.clip=tsfm-small-clip",
    "model.pretrained=false",
    "model.image_size=96",
    "trainer.max_epochs=3",
    "callbacks.early_stopping.patience=3",
]
SETTINGS = {
    "itransformer_etth1_96": ["experiment=itransformer_etth1_96"],
    "itransformer_exchange_rate_96": ["experiment=itransformer_exchange_rate_96"],
    "timesclip_exchange_rate_96": ["experiment=timesclip_exchange_rate_96", *SMALL_CLIP],
}
PRECISIONS = {"fp32": "32-true", "bf16": "bf16-mixed"}


def run(name: str, overrides: list[str], out: Path, args: argparse.Namespace) -> None:
    run_dir = out / "runs" / name
    if (run_dir / "metrics.json").is_file():
        return
    overrides = [*overrides, "output.plot=false", f"threads={args.threads}"]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    log = out / "runs" / f"{name}.log"
    code, seconds = run_cli(overrides, run_dir, log, args.data_root, env)
    if code == 0:
        (run_dir / "wall_seconds.txt").write_text(f"{seconds:.1f}\n")
    print(f"  {name}: {'FAILED, see the log' if code else 'done'} ({seconds:.0f} s)")


def _metrics(out: Path, name: str) -> dict | None:
    run_dir = out / "runs" / name
    if not (run_dir / "metrics.json").is_file():
        return None
    metrics = json.loads((run_dir / "metrics.json").read_text())
    wall = run_dir / "wall_seconds.txt"
    metrics["wall"] = float(wall.read_text()) if wall.is_file() else float("nan")
    return metrics


def _seconds(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"  # NaN: not timed


def table(out: Path, seeds: list[int]) -> list[str]:
    lines = [
        "| setting | fp32 MSE | bf16 MSE | change | fp32 MAE | bf16 MAE | fp32 s | bf16 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        rows = []
        for suffix, label in [("", "preset seed"), *((f"_s{s}", f"seed {s}") for s in seeds)]:
            fp32 = _metrics(out, f"{setting}_fp32{suffix}")
            bf16 = _metrics(out, f"{setting}_bf16{suffix}")
            if fp32 and bf16:
                rows.append((label, fp32, bf16))
        if len(rows) > 1:
            mean = {
                key: {k: sum(r[i][k] for r in rows) / len(rows) for k in ("test/mse", "test/mae")}
                | {"wall": float("nan")}
                for i, key in ((1, "fp32"), (2, "bf16"))
            }
            rows.append((f"mean of {len(rows)} seeds", mean["fp32"], mean["bf16"]))
        for label, fp32, bf16 in rows:
            change = bf16["test/mse"] / fp32["test/mse"] - 1
            lines.append(
                f"| {setting}, {label} | {fp32['test/mse']:.4f} | {bf16['test/mse']:.4f} | "
                f"{change:+.2%} | {fp32['test/mae']:.4f} | {bf16['test/mae']:.4f} | "
                f"{_seconds(fp32['wall'])} | {_seconds(bf16['wall'])} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "runners" / "results" / "bf16")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="comma-separated settings (default: all)")
    parser.add_argument("--seeds", default="", help="extra seeds, comma-separated (e.g. 1,2,3)")
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else list(SETTINGS)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for setting in wanted:
        for suffix, extra in [("", []), *((f"_s{s}", [f"seed={s}"]) for s in seeds)]:
            for short, precision in PRECISIONS.items():
                overrides = [*SETTINGS[setting], f"trainer.precision={precision}", *extra]
                run(f"{setting}_{short}{suffix}", overrides, args.out, args)
    lines = table(args.out, seeds)
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
