"""Speed and memory benchmark: S2IP-LLM training steps, tsfm (fp32, bf16) against the official
code path.

ETTh1, look-back 512 -> 96, batch 32 windows (x 7 variates = 224 sequences of 68 tokens),
the official ETTh1-96 settings, a GPT-2-small-sized randomly initialised backbone (6 blocks;
no weights needed). Variants, each run in its own process so that peak memory is its own:

- ``official:fp32``: the official code path re-created: the pandas decomposition row by row on
  the CPU (``np.apply_along_axis``, float64, a device round trip), GPT-2 in eager attention
  with ``output_attentions`` and ``output_hidden_states`` on, torch's dropout masks, the
  anchor map as a plain linear layer, and ``torch.optim.Adam`` with its defaults; always fp32,
  as the official code has no autocast;
- ``tsfm:fp32`` and ``tsfm:bf16`` (the model as shipped: the torch decomposition, SDPA, a
  fused GELU, fast CPU dropout masks, an anchor map whose backward touches only the
  retrieved anchors, nothing kept, fused Adam; bf16 = ``torch.autocast``, as
  ``trainer.precision=bf16-mixed`` runs it, with the explicit CPU attention path);
- ``memory:bf16``: the memory mode, ``model.activation_checkpointing=true`` (each block
  recomputed in the backward pass) with ``model.frozen_backbone_bf16=true`` (the frozen
  backbone weights in bf16; bf16 only) and ``release_freed_memory=true`` (freed memory goes
  back to the system after each backbone block's forward and backward pass, blocks of 24 MiB
  and more at once, so the peak stays near what is live);
  ``checkpointing:bf16`` / ``checkpointing:fp32``: the recomputation alone;
- ``compiled:bf16`` / ``compiled:fp32``: tsfm's model with each GPT-2 block through
  ``torch.compile`` (an experiment, not a tsfm setting: give it ``--warmup 3``, the first
  step compiles; needs a C++ compiler).

Every variant runs in the environment as given (``THP_MEM_ALLOC_ENABLE=1`` in it gives all of
them torch's huge pages; :mod:`tsfm.training.allocator`). Apart from the memory mode, every
variant keeps glibc's allocator defaults, as a tsfm run does.

Prints, from ``--repeats`` interleaved rounds (medians), training samples/s (windows), the
share of the step spent in the decomposition, the peak memory of the training steps (CUDA: max
allocated; CPU: peak resident set of the process, read before the FLOPs are counted) and the fraction of this machine's measured bf16 matrix-multiply
peak that a step reaches.

    python runners/bench_s2ip_llm.py --threads 1 --repeats 3      # the default variants
    python runners/bench_s2ip_llm.py --variants official:fp32,tsfm:bf16 --steps 2
    python runners/bench_s2ip_llm.py --device cuda --variants official:fp32,tsfm:bf16,tsfm:fp32
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import flops, header, load, median, peaks, set_threads, sync  # noqa: E402

from tsfm.training.allocator import release_between_blocks, release_freed_memory  # noqa: E402

MODES = ("official", "tsfm", "checkpointing", "memory", "compiled")
VARIANTS = ("official:fp32", "tsfm:fp32", "tsfm:bf16", "memory:bf16")


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
    settings["activation_checkpointing"] = mode in ("checkpointing", "memory")
    settings["frozen_backbone_bf16"] = mode == "memory"
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
    if mode == "compiled":
        for block in model.memory_blocks():
            block.compile()
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


def run_mode(args: argparse.Namespace) -> dict:
    if args.mode == "memory":
        release_freed_memory()  # the run setting release_freed_memory=true
    set_threads(args.threads)
    torch.manual_seed(2021)
    model, timed = build(args.mode, args.device)
    if args.mode == "memory":  # and after each backbone block, as the run setting does
        release_between_blocks(model.memory_blocks())
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

    def step() -> None:
        with torch.autocast(args.device.split(":")[0], dtype, enabled=precision == "bf16"):
            out = model(x)
            loss = torch.nn.functional.mse_loss(out.prediction.float(), y)
            loss = loss + sum(out.aux_losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    timed["decomposition"], total = 0.0, 0.0
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for _ in range(args.steps):
        sync(args.device)
        start = time.perf_counter()
        step()
        sync(args.device)
        total += time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**30
        if args.device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    )
    step_flops = flops(step)  # after the peak: the counter keeps tensors of its own
    return {
        "mode": args.mode,
        "precision": precision,
        "samples_per_s": args.batch * args.steps / total,
        "seconds_per_step": total / args.steps,
        "decomposition_share": timed["decomposition"] / total,
        "peak_memory_gib": peak,
        "tflop_per_step": step_flops / 1e12,
        "threads": torch.get_num_threads(),
    }


def median_run(runs: list[dict]) -> dict:
    """Every figure of ``runs`` (one variant) replaced by its median over the runs."""
    return {
        key: runs[0][key] if isinstance(runs[0][key], str) else median([r[key] for r in runs])
        for key in runs[0]
    }


def child(variant: str, args: argparse.Namespace) -> dict:
    mode, precision = variant.split(":")
    command = [sys.executable, __file__, "--mode", mode, "--precision", precision]
    command += ["--device", args.device, "--batch", str(args.batch), "--steps", str(args.steps)]
    command += ["--warmup", str(args.warmup)] + (
        ["--threads", str(args.threads)] if args.threads else []
    )
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="mode:precision, ...")
    parser.add_argument("--mode", choices=MODES, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--precision", choices=["fp32", "bf16"], default="fp32", help=argparse.SUPPRESS
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (at least 1)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run the variants this many times, interleaved (official, tsfm, ..., official, ...) "
        "so that a slow spell of the machine hits every variant; the table shows medians",
    )
    args = parser.parse_args()
    if args.mode is not None:
        print(json.dumps(run_mode(args)))
        return
    variants = args.variants.split(",")
    for variant in variants:
        mode, _, precision = variant.partition(":")
        if mode not in MODES or precision not in ("fp32", "bf16"):
            parser.error(f"--variants: '{variant}' is not mode:precision with mode in {MODES}")
        if mode == "memory" and precision != "bf16":
            parser.error("--variants: the memory mode keeps frozen weights in bf16: memory:bf16")
    if args.repeats < 1 or args.warmup < 1:
        parser.error("--repeats and --warmup must be at least 1")
    machine = peaks(args.device)
    print(header(set_threads(args.threads), machine), flush=True)
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for repeat in range(args.repeats):
        for variant in variants:
            runs[variant].append(child(variant, args))
            step = runs[variant][-1]["seconds_per_step"]
            print(f"  repeat {repeat + 1}, {variant}: {step:.2f} s/step, {load()}", flush=True)
    rows = {variant: median_run(runs[variant]) for variant in variants}
    base = rows.get("official:fp32")
    print(
        f"\n{load()}; batch {args.batch}, {args.steps} timed steps a run, medians of {args.repeats}"
    )
    print(
        f"{'variant':<20}{'samples/s':>10}{'s/step':>8}{'vs official':>12}{'decomp':>8}"
        f"{'peak GiB':>9}{'vs official':>12}{'TFLOP':>7}{'bf16 peak':>10}"
    )
    for variant, r in rows.items():
        rate = r["tflop_per_step"] * 1e3 / r["seconds_per_step"]  # GFLOP/s
        speed = f"{r['samples_per_s'] / base['samples_per_s']:>11.2f}x" if base else f"{'-':>12}"
        memory = (
            f"{r['peak_memory_gib'] / base['peak_memory_gib']:>11.2f}x" if base else f"{'-':>12}"
        )
        print(
            f"{variant:<20}{r['samples_per_s']:>10.2f}{r['seconds_per_step']:>8.2f}{speed}"
            f"{r['decomposition_share']:>8.1%}{r['peak_memory_gib']:>9.2f}{memory}"
            f"{r['tflop_per_step']:>7.2f}{rate / machine['bf16']:>10.1%}"
        )


if __name__ == "__main__":
    main()
