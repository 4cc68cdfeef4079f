"""Speed and memory benchmark: S2IP-LLM training steps, tsfm against the official code path.

ETTh1, look-back 512 -> 96, batch 32 windows (x 7 variates = 224 sequences of 68 tokens),
the official ETTh1-96 settings, a GPT-2-small-sized randomly initialised backbone (6 blocks;
no weights needed). Three modes, each in its own process so that peak memory is its own:

- ``tsfm``: the torch decomposition on the model's device, SDPA attention, a fused GELU,
  fast CPU dropout masks, an anchor map whose backward touches only the retrieved anchors,
  nothing kept, and the optimizer tsfm's training module builds (fused Adam);
- ``checkpointing``: ``tsfm`` with ``model.activation_checkpointing=true`` (each block
  recomputed in the backward pass: less memory, more compute; torch's dropout masks);
- ``official``: the official code path re-created: the pandas decomposition row by row on
  the CPU (``np.apply_along_axis``, float64, a device round trip), GPT-2 in eager attention
  with ``output_attentions`` and ``output_hidden_states`` on, torch's dropout masks, the
  anchor map as a plain linear layer, and ``torch.optim.Adam`` with its defaults.

Prints training samples/s (windows), the share of the step spent in the decomposition and
the peak memory (CUDA: max allocated; CPU: peak resident set of the process).

    python runners/bench_s2ip_llm.py                       # CPU fp32, every mode
    python runners/bench_s2ip_llm.py --repeats 3           # interleaved, medians
    python runners/bench_s2ip_llm.py --device cuda --precision bf16   # GPU, bf16 autocast

``--precision`` applies to the tsfm modes; the official path always runs in fp32, as the
official code does (no autocast), so the GPU table compares bf16 + SDPA + the torch
decomposition against fp32 + the row-wise pandas decomposition.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch

MODES = ("official", "tsfm", "checkpointing")


def official_decompose(model, series: torch.Tensor) -> torch.Tensor:
    """The official ``decompose``: pandas per row on the CPU, then back to the device."""

    def one_row(row):
        df = pd.DataFrame(row)
        trend = df.rolling(window=model.trend_length, center=True).mean().bfill().ffill()
        detrended = df - trend
        seasonal = detrended.groupby(detrended.index % model.seasonal_length).transform("mean")
        seasonal = seasonal.bfill().ffill()
        return np.stack([trend, seasonal, df - trend - seasonal], axis=1)

    parts = np.apply_along_axis(one_row, 1, series.detach().cpu().numpy())  # [R, L, 3, 1]
    return torch.tensor(parts).to(series.device)[..., 0].permute(0, 2, 1).float()


def build(mode: str, device: str):
    from transformers.activations import NewGELUActivation

    from tsfm.models import build_model
    from tsfm.models.common import use_torch_dropout

    settings = {"name": "s2ip_llm", "backbone": "gpt2", "pretrained": False, "n_layers": 6}
    settings["activation_checkpointing"] = mode == "checkpointing"
    model = build_model(settings, {"seq_len": 512, "pred_len": 96}).to(device)
    timed = {"decomposition": 0.0}
    original = model.components

    def components(series):
        sync(device)
        start = time.perf_counter()
        result = official_decompose(model, series) if mode == "official" else original(series)
        sync(device)
        timed["decomposition"] += time.perf_counter() - start
        return result

    model.components = components
    if mode == "official":
        hf = model.backbone.model
        for block in hf.h:  # the official GPT-2 runs the unfused gelu_new
            block.mlp.act = NewGELUActivation()
        hf.set_attn_implementation("eager")
        use_torch_dropout(hf)
        prototype = model.anchors.prototype  # the dense linear layer, dense backward
        model.anchors.anchors = lambda vocabulary: prototype(vocabulary.t()).t()
        hf.config.output_attentions = hf.config.output_hidden_states = True
        forward = hf.forward
        hf.forward = lambda **kw: forward(**kw, output_attentions=True, output_hidden_states=True)
    return model, timed


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_mode(args: argparse.Namespace) -> dict:
    torch.manual_seed(2021)
    model, timed = build(args.mode, args.device)
    params = [p for p in model.parameters() if p.requires_grad]
    if args.mode == "official":
        optimizer = torch.optim.Adam(params, lr=1e-4)  # the official optim.Adam, CPU loop
    else:  # the optimizer tsfm's training module builds (fused Adam where torch has it)
        from tsfm.training.optim import OptimConfig, build_optimizer

        optimizer = build_optimizer([{"params": params}], OptimConfig(lr=1e-4))
    x = torch.randn(args.batch, 512, 7, device=args.device)
    y = torch.randn(args.batch, 96, 7, device=args.device)
    precision = "fp32" if args.mode == "official" else args.precision  # official: fp32 only
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    total = 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            timed["decomposition"], total = 0.0, 0.0
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
        sync(args.device)
        start = time.perf_counter()
        with torch.autocast(args.device.split(":")[0], dtype, enabled=precision == "bf16"):
            out = model(x)
            loss = torch.nn.functional.mse_loss(out.prediction.float(), y)
            loss = loss + sum(out.aux_losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(args.device)
        total += time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**30
        if args.device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    )
    return {
        "mode": args.mode,
        "precision": precision,
        "samples_per_s": args.batch * args.steps / total,
        "seconds_per_step": total / args.steps,
        "decomposition_share": timed["decomposition"] / total,
        "peak_memory_gib": peak,
    }


def median_run(runs: list[dict]) -> dict:
    """Every figure of ``runs`` (one mode) replaced by its median over the runs."""
    return {
        key: (
            runs[0][key]
            if isinstance(runs[0][key], str)
            else float(np.median([r[key] for r in runs]))
        )
        for key in runs[0]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=MODES, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run the modes this many times, interleaved (official, tsfm, ..., official, ...) "
        "so that a slow spell of the machine hits every mode; the table shows medians",
    )
    args = parser.parse_args()
    if args.mode is not None:
        print(json.dumps(run_mode(args)))
        return
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(args.repeats):
        for mode in MODES:
            command = [sys.executable, __file__, "--mode", mode, *sys.argv[1:]]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            runs[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = [median_run(runs[mode]) for mode in MODES]
    if args.repeats > 1:
        for mode in MODES:
            steps = ", ".join(f"{r['seconds_per_step']:.1f}" for r in runs[mode])
            print(f"{mode}: s/step of each run {steps}")
    print(
        f"{'mode':<14}{'precision':>10}{'samples/s':>11}{'s/step':>9}{'decomp share':>14}"
        f"{'peak GiB':>10}"
    )
    for r in rows:
        print(
            f"{r['mode']:<14}{r['precision']:>10}{r['samples_per_s']:>11.2f}"
            f"{r['seconds_per_step']:>9.2f}"
            f"{r['decomposition_share']:>14.1%}{r['peak_memory_gib']:>10.2f}"
        )
    base = rows[0]
    for r in rows[1:]:
        print(
            f"{r['mode']} vs official: {r['samples_per_s'] / base['samples_per_s']:.2f}x "
            f"samples/s, {r['peak_memory_gib'] / base['peak_memory_gib']:.2f}x peak memory"
        )


if __name__ == "__main__":
    main()
