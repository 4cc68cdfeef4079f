"""iTransformer's training step (forward + backward) at a git ref against the work tree,
interleaved in one process: the speed of a change to the model file, free of machine drift.

    python runners/itransformer_before_after.py --before 81e17d7 --threads 1

Both models get the same weights (renamed settings are mapped) and the same ETTh1-96 paper
batch (batch 32, 7 variates, 4 calendar features, d_model = d_ff = 256); the script checks
that their fp32 forward passes are identical, then alternates steps and prints the medians.
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(REPO))
    old_source = subprocess.run(
        ["git", "show", f"{args.before}:{MODEL}"], cwd=REPO, capture_output=True, text=True
    ).stdout
    old = build(load(old_source, "itransformer_before"), 2)
    new = build(load((REPO / MODEL).read_text(), "itransformer_after"), 2)
    new.load_state_dict(old.state_dict())
    x, marks, y = torch.randn(32, 96, 7), torch.rand(32, 96, 4) - 0.5, torch.randn(32, 96, 7)
    identical = torch.equal(old.eval()(x, marks), new.eval()(x, marks))
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for label, model in (("before", old.train()), ("after", new.train())):
            start = time.perf_counter()
            torch.nn.functional.mse_loss(model(x, marks), y).backward()
            times[label].append(time.perf_counter() - start)
    print(f"threads {args.threads}; fp32 forward identical: {identical}")
    for label, values in times.items():
        kept = values[len(values) // 6 :]  # warm-up rounds dropped
        print(
            f"{label:>6} ({args.before if label == 'before' else 'work tree'}): "
            f"median {statistics.median(kept) * 1e3:.1f} ms per forward + backward"
        )


if __name__ == "__main__":
    main()
