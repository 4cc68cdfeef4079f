"""iTransformer's training step (forward + backward) or inference forward at a git ref
against the work tree, interleaved in one process: the speed of a change to the model file,
free of machine drift.

    python runners/itransformer_before_after.py --before 81e17d7 --threads 1
    python runners/itransformer_before_after.py --before ceee950 --step eval --precision bf16

Both models get the same weights (renamed settings are mapped) and the same ETTh1-96 paper
inputs (7 variates, 4 calendar features, d_model = d_ff = 256; batch 32 for training, 256 for
evaluation as tsfm evaluates); the script checks that their fp32 inference forward passes are
identical, then alternates steps and prints the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
MODEL = "tsfm/models/itransformer.py"


def load(source: str, name: str):
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(module, layers: int) -> torch.nn.Module:
    settings = {"d_model": 256, "d_ff": 256, "n_heads": 8, "dropout": 0.1}
    name = (
        "n_layers"
        if "n_layers" in module.ITransformer.__init__.__code__.co_varnames
        else "e_layers"
    )
    torch.manual_seed(0)
    return module.ITransformer(96, 96, **settings, **{name: layers})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git ref of the old model file")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--step", choices=("train", "eval"), default="train")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--batch", type=int, help="default: 32 to train, 256 to evaluate")
    args = parser.parse_args()
    batch = args.batch or (32 if args.step == "train" else 256)
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REPO))
    old_source = subprocess.run(
        ["git", "show", f"{args.before}:{MODEL}"], cwd=REPO, capture_output=True, text=True
    ).stdout
    old = build(load(old_source, "itransformer_before"), 2)
    new = build(load((REPO / MODEL).read_text(), "itransformer_after"), 2)
    new.load_state_dict(old.state_dict())
    x, marks = torch.randn(batch, 96, 7), torch.rand(batch, 96, 4) - 0.5
    y = torch.randn(batch, 96, 7)
    with torch.inference_mode():
        identical = torch.equal(old.eval()(x, marks), new.eval()(x, marks))
    bf16 = args.precision == "bf16"
    training = args.step == "train"
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for label, model in (("before", old.train(training)), ("after", new.train(training))):
            grad = contextlib.nullcontext() if training else torch.inference_mode()
            with grad, torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                start = time.perf_counter()
                out = model(x, marks)
                if training:
                    torch.nn.functional.mse_loss(out.float(), y).backward()
                times[label].append(time.perf_counter() - start)
    print(f"threads {args.threads}; fp32 inference forward identical: {identical}")
    what = "forward + backward" if training else "inference forward"
    for label, values in times.items():
        kept = values[len(values) // 6 :]  # warm-up rounds dropped
        print(
            f"{label:>6} ({args.before if label == 'before' else 'work tree'}): median "
            f"{statistics.median(kept) * 1e3:.1f} ms per {what}, {args.precision}, batch {batch}"
        )


if __name__ == "__main__":
    main()
