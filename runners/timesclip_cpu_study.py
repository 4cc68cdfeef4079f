"""TimesCLIP accuracy on CPU with a small random CLIP, against iTransformer, plus ablations.

Pretrained CLIP weights cannot be downloaded here and a full-size CLIP text tower costs
about half an hour per ETTh1 epoch on two CPU cores, so this study trains a randomly
initialised small CLIP (``tsfm-small-clip`` by default, ``--clip``), for a few epochs, on the
TimesCLIP presets' protocol (look-back 96, full test set, scaler on training rows), next to
iTransformer's paper presets on the same data. It measures the model, not the paper's
numbers, which need the pretrained weights.

    python runners/timesclip_cpu_study.py                      # ETTh1 and Exchange, 96 and 192
    python runners/timesclip_cpu_study.py --only exchange_rate_96 --epochs 5

Every run is ``python -m tsfm.run`` in its own process, with its run directory under
``--out``/runs/<name>; a run whose ``metrics.json`` exists is skipped. The table is
rewritten from every run directory found.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "runners"))
from cli_runs import run_cli  # noqa: E402

ABLATIONS = {  # the paper's Table 5 switches, on Exchange-96 as the paper's table
    "no_align": ["model.align=false"],
    "no_colour": ["model.colour=false"],
    "no_selection": ["model.variate_selection=false"],
}


def plan(args) -> dict[str, list[str]]:
    small = [
        f"model.clip={args.clip}",
        "model.pretrained=false",
        f"model.image_size={args.image_size}",
        f"trainer.max_epochs={args.epochs}",
        f"callbacks.early_stopping.patience={args.patience}",
    ]
    runs: dict[str, list[str]] = {}
    for setting in args.settings.split(","):
        runs[f"timesclip_{setting}"] = [f"experiment=timesclip_{setting}", *small]
        if setting == args.ablate:
            for name, switches in ABLATIONS.items():
                runs[f"timesclip_{setting}_{name}"] = [
                    f"experiment=timesclip_{setting}",
                    *small,
                    *switches,
                ]
        runs[f"itransformer_{setting}"] = [f"experiment=itransformer_{setting}"]
    return runs


def run(name: str, overrides: list[str], out: Path, data_root: str | None) -> None:
    log = out / "runs" / f"{name}.log"
    code, seconds = run_cli([*overrides, "output.plot=false"], out / "runs" / name, log, data_root)
    status = f"FAILED ({code})" if code else "done"
    print(f"{name}: {status} in {seconds:.0f} s", flush=True)


def table(out: Path, runs: dict[str, list[str]]) -> str:
    lines = [
        "| run | data | H | test MSE | test MAE | epochs | fit s | overrides |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, overrides in runs.items():
        path = out / "runs" / name / "metrics.json"
        if not path.exists():
            continue
        m = json.loads(path.read_text())
        extra = " ".join(o for o in overrides if not o.startswith("experiment="))
        lines.append(
            f"| {name} | {m['data']} | {m['pred_len']} | {m['test/mse']:.4f} | {m['test/mae']:.4f} "
            f"| {m['epochs']} | {m.get('fit_seconds', 0):.0f} | {extra} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings", default="etth1_96,exchange_rate_96,exchange_rate_192,etth1_192"
    )
    parser.add_argument("--ablate", default="exchange_rate_96", help="setting of the ablations")
    parser.add_argument("--clip", default="tsfm-small-clip")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--only", help="comma-separated run names (default: all)")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=REPO / "runners" / "results" / "timesclip_cpu")
    args = parser.parse_args()
    runs = plan(args)
    wanted = set(args.only.split(",")) if args.only else set(runs)
    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    for name, overrides in runs.items():
        if name not in wanted and name.removeprefix("timesclip_") not in wanted:
            continue
        if (args.out / "runs" / name / "metrics.json").exists():
            print(f"{name}: done already")
            continue
        run(name, overrides, args.out, args.data_root)
    text = table(args.out, runs)
    (args.out / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
