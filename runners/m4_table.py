"""Run a model on every M4 group whose files are present and write the M4 table.

    python runners/m4_table.py --model itransformer --data-root ../shared/data
    python runners/m4_table.py --model itransformer --groups hourly trainer=gpu seed=1
    python runners/m4_table.py --model itransformer --table-only

Each group runs as ``python -m tsfm.run experiment=<model>_m4_<group>`` (the model's preset) in
its own process, with its run directory under ``<out>/runs/<group>``; a group whose
``metrics.json`` exists is not run again (``--force`` reruns it into a clean run directory:
``cli_runs.clear_run_dir``). Extra arguments are Hydra overrides for every run. The table is
rebuilt from every run directory found: SMAPE, MASE and OWA per group, "Others" (Weekly + Daily
+ Hourly present) and the average weighted by series count over the groups present, as the
competition and TSLib's ``M4Summary`` combine them, beside the published numbers where they
exist (``m4_paper_results.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "runners"))
from cli_runs import clear_run_dir  # noqa: E402
from m4_paper_results import M4_PAPER  # noqa: E402

from tsfm.data.m4 import M4_GROUPS, available_groups  # noqa: E402
from tsfm.data.m4.metrics import OTHERS, GroupScores, summarize  # noqa: E402


def run_group(model: str, group: str, out: Path, data_root: str | None, extra: list[str]) -> int:
    preset = f"{model}_m4_{group.lower()}"
    if not (REPO / "conf" / "experiment" / f"{preset}.yaml").is_file():
        raise SystemExit(f"no preset conf/experiment/{preset}.yaml; add one for {model} first")
    run_dir = (out / "runs" / group.lower()).resolve()  # the run starts in REPO
    clear_run_dir(run_dir)  # --force, or a run that stopped early: python -m tsfm.run refuses it
    cmd = [sys.executable, "-m", "tsfm.run", f"experiment={preset}", f"hydra.run.dir={run_dir}"]
    cmd += ["trainer.enable_progress_bar=false", "output.print_table=false"]
    if data_root:
        cmd.append(f"data.root={Path(data_root).resolve()}")
    proc = subprocess.run([*cmd, *extra], cwd=REPO, capture_output=True, text=True)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "runs" / f"{group.lower()}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        print(f"  FAILED ({proc.returncode}); see {out / 'runs' / f'{group.lower()}.log'}")
    return proc.returncode


def collect(out: Path) -> dict[str, dict]:
    """metrics.json of every group run under ``out/runs``, keyed by group name."""
    runs = {}
    for group in M4_GROUPS:
        path = out / "runs" / group.lower() / "metrics.json"
        if path.is_file():
            runs[group] = json.loads(path.read_text())
    return runs


def scores_of(metrics: dict) -> GroupScores:
    return GroupScores(
        n_series=int(metrics["test/n_series"]),
        smape=metrics["test/smape"],
        mase=metrics["test/mase"],
        naive2_smape=metrics["test/naive2_smape"],
        naive2_mase=metrics["test/naive2_mase"],
    )


def table(model: str, runs: dict[str, dict]) -> str:
    rows = summarize({group: scores_of(m) for group, m in runs.items()})
    paper = M4_PAPER.get(model, {})
    present = [g for g in M4_GROUPS if g in runs]
    complete_others = all(g in runs for g in OTHERS)
    on_test = sorted(g for g, m in runs.items() if m.get("validation_on_test"))
    first = next(iter(runs.values()))
    lines = [
        f"# {model} on M4",
        "",
        f"Groups run: {', '.join(present)}. Test SMAPE / MASE / OWA (OWA against Naive2, as "
        "the M4 competition defines them), one run per group, look-back "
        f"{first['lookback_multiple']:g} x horizon, {first.get('samples_per_series', 1)} training "
        f"window(s) per series per epoch, seed {first['seed']}. Validation: "
        + (
            f"**the TEST set** for {', '.join(on_test)} (the official code's protocol)."
            if on_test
            else "the last horizon of each training series (honest hold-out)."
        ),
        "",
        "| group | series | SMAPE | MASE | OWA | Naive2 SMAPE | Naive2 MASE | paper SMAPE / MASE / OWA | epochs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in rows.items():
        label = name
        published = paper.get(name)
        if name == "Others":
            label = f"Others ({' + '.join(g for g in OTHERS if g in runs)})"
            published = published if complete_others else None
        elif name == "Average":
            label = "Weighted average (groups run)"
            published = published if len(present) == len(M4_GROUPS) else None
        cited = " / ".join(f"{v:.3f}" for v in published) if published else "n/a"
        epochs = runs[name]["epochs"] if name in runs else ""
        lines.append(
            f"| {label} | {s.n_series} | {s.smape:.3f} | {s.mase:.3f} | {s.owa:.3f} | "
            f"{s.naive2_smape:.3f} | {s.naive2_mase:.3f} | {cited} | {epochs} |"
        )
    lines += [
        "",
        "Paper numbers (TimesCLIP Table 1) come from the official code lineage, which selects "
        "the checkpoint on the test set, and are given only for Yearly, Quarterly, Monthly, "
        "Others (Weekly + Daily + Hourly) and the average over all six groups; a row is "
        "compared only when the same series are in it (n/a otherwise).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="itransformer", help="registered model name")
    parser.add_argument("--groups", help="comma-separated groups (default: all whose files exist)")
    parser.add_argument("--data-root", help="folder holding m4/<Group>-{train,test}.csv")
    parser.add_argument(
        "--out", type=Path, help="output folder (default runners/results/m4/<model>)"
    )
    parser.add_argument("--force", action="store_true", help="rerun groups that have results")
    parser.add_argument("--table-only", action="store_true", help="only rebuild the table")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run")
    args = parser.parse_args()
    out = args.out or REPO / "runners" / "results" / "m4" / args.model
    out.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        present = available_groups(Path(args.data_root).resolve() if args.data_root else None)
        wanted = [g.capitalize() for g in args.groups.split(",")] if args.groups else present
        missing = [g for g in wanted if g not in present]
        if missing:
            print(f"skipping {', '.join(missing)}: files not found (present: {present})")
        for group in (g for g in wanted if g in present):
            if (out / "runs" / group.lower() / "metrics.json").exists() and not args.force:
                print(f"{group}: done already")
                continue
            print(f"{group}: running ...", flush=True)
            start = time.perf_counter()
            run_group(args.model, group, out, args.data_root, args.overrides)
            print(f"{group}: {time.perf_counter() - start:.0f} s", flush=True)
    runs = collect(out)
    if not runs:
        raise SystemExit(f"no finished runs under {out / 'runs'}")
    (out / "results.md").write_text(table(args.model, runs))
    summary = {
        g: s.as_dict() for g, s in summarize({g: scores_of(m) for g, m in runs.items()}).items()
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print((out / "results.md").read_text())


if __name__ == "__main__":
    main()
