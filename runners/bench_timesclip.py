"""Speed benchmark: TimesCLIP on ETTh1 96 -> 96 with a ViT-B/16-sized random CLIP, fp32 and bf16.

Prints the time to render one batch of line images (64 windows x 7 variates at 224 x 224),
the one-off cost of building the image-feature cache, and training samples/s with the cache
(the text tower, variate selection, head and InfoNCE on cached image features: what every
training step is once the cache exists) in fp32 and in bf16 (``torch.autocast``, as
``trainer.precision=bf16-mixed`` runs it), from interleaved repeats in separate processes
(medians; peak memory is each process's own), with the fraction of this machine's measured
bf16 matrix-multiply peak a step reaches. ``--uncached`` adds steps that render and encode
their images (minutes each on a CPU).

    python runners/bench_timesclip.py --threads 1 --repeats 3
    python runners/bench_timesclip.py --batch-size 64 trainer=gpu     # any Hydra override

Every mode trains on the same windows: the first ``--percent`` % of ETTh1's training split,
whose image features are encoded once into a disk cache shared by the children (the cache
is always encoded in fp32). A training step is the shared LightningModule's
``training_step`` (forecast loss + 0.1 x InfoNCE), backward and the AdamW step, timed after
one warm-up step.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "runners"))

from bench_common import flops, header, load, median, peaks, set_threads, sync  # noqa: E402, I001

from tsfm.config import compose_config  # noqa: E402
from tsfm.models.timesclip.render import LineRenderer  # noqa: E402
from tsfm.pipeline import build_datamodule, build_module  # noqa: E402
from tsfm.training.inputs import bind_training_windows  # noqa: E402


def config(args, mode: str):
    base = ["experiment=timesclip_etth1_96", "model.pretrained=false", "optim.epochs=100"]
    return compose_config(
        *base,
        f"model.clip={args.clip}",
        f"model.feature_cache={mode}",
        f"model.cache_dir={args.cache_dir}",
        f"data.batch_size={args.batch_size}",
        f"data.percent={args.percent}",
        *args.overrides,
    )


def device_of(cfg) -> torch.device:
    wants_gpu = cfg.trainer.accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available()
    return torch.device("cuda" if wants_gpu else "cpu")


def bench_render(args) -> dict:
    set_threads(args.threads)
    cfg = config(args, "off")
    dm = build_datamodule(cfg)
    device = device_of(cfg)
    values, length = dm.datasets["train"].values, cfg.data.seq_len
    starts = torch.arange(64)
    windows = values[starts[:, None] + torch.arange(length)].to(device)  # [64, L, 7]
    series = windows.transpose(1, 2).reshape(-1, length)
    ids = torch.arange(7, device=device).repeat(64)
    renderer = LineRenderer(image_size=224)
    buffer = torch.empty(len(series), 3, 224, 224, device=device)
    timings = {"fresh": [], "reused": []}
    for _ in range(args.repeats):
        for kind in timings:
            sync(device)
            start = time.perf_counter()
            renderer.render(series, ids, out=None if kind == "fresh" else buffer)
            sync(device)
            timings[kind].append(time.perf_counter() - start)
    result = {k: (min(v), sorted(v)[len(v) // 2]) for k, v in timings.items()}
    result["matplotlib_per_image"] = matplotlib_seconds(series[:16].cpu().numpy(), 224)
    return result


def matplotlib_seconds(series, size: int) -> float:
    """Seconds per image drawing with matplotlib (Agg, no axes), the per-image baseline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = time.perf_counter()
    for y in series:
        fig = Figure(figsize=(1, 1), dpi=size)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        ax.plot(y, linewidth=1.5)
        canvas.draw()
        np.asarray(canvas.buffer_rgba()).copy()
    return (time.perf_counter() - start) / len(series)


def bench_training(args, mode: str, precision: str) -> dict:
    """Training steps with the cache (``disk``) or without (``off``), in ``precision``."""
    set_threads(args.threads)
    cfg = config(args, mode)
    torch.manual_seed(0)
    dm = build_datamodule(cfg)
    module = build_module(cfg, dm)
    device = device_of(cfg)
    module.to(device).train()
    module.log = lambda *a, **k: None
    bind_training_windows(module.model, dm)
    optimizer = module.configure_optimizers()["optimizer"]
    dataset = dm.datasets["train"]
    result = {"mode": mode, "precision": precision, "windows": dataset.n_windows}
    if module.model.image_cache is not None and not module.model.image_cache.ready:
        sync(device)
        start = time.perf_counter()
        module.model.build_image_cache(device)
        sync(device)
        result["cache_build_s"] = time.perf_counter() - start
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=precision == "bf16")

    def step(i: int) -> None:
        rows = order[(torch.arange(args.batch_size) + i * args.batch_size) % len(order)]
        batch = {k: v.to(device) for k, v in dataset.__getitems__(rows.tolist()).items()}
        with autocast:
            loss = module.training_step(batch, i)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    result["tflop_per_step"] = flops(lambda: step(0)) / 1e12  # the warm-up step, counted
    steps = args.steps_cached if mode != "off" else args.steps_uncached
    sync(device)
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    sync(device)
    step_s = (time.perf_counter() - start) / steps
    result.update(
        step_s=step_s,
        samples_per_s=args.batch_size / step_s,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        threads=torch.get_num_threads(),
        device=str(device),
    )
    if device.type == "cuda":
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="ViT-B-16", help="open_clip architecture (random)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--percent", type=float, default=1.5, help="share of training windows")
    parser.add_argument("--steps-uncached", type=int, default=2)
    parser.add_argument("--steps-cached", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (medians)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--uncached", action="store_true", help="also time steps without cache")
    parser.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer=gpu")
    args = parser.parse_args()
    if args.only:  # a child process: one measurement, printed as JSON
        mode, _, precision = args.only.partition(":")
        result = bench_render(args) if mode == "render" else bench_training(args, mode, precision)
        print("RESULT " + json.dumps(result))
        return
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="tsfm-bench-timesclip-")

    def child(what: str) -> dict:
        cmd = [sys.executable, __file__, "--only", what, "--cache-dir", cache_dir, *sys.argv[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode or not lines:
            sys.exit(f"{what} failed:\n{proc.stderr[-3000:]}")
        return json.loads(lines[-1].removeprefix("RESULT "))

    machine = peaks(device_of(config(args, "off")).type)
    print(header(set_threads(args.threads), machine), flush=True)
    render = child("render")
    print(f"render 64 windows x 7 variates, 224 x 224 RGB (min / median of {args.repeats}):")
    print(
        f"  fresh output {render['fresh'][0]:.3f} / {render['fresh'][1]:.3f} s, "
        f"reused buffer {render['reused'][0]:.3f} / {render['reused'][1]:.3f} s"
    )
    per_image = render["matplotlib_per_image"]
    print(f"  matplotlib, one figure per image: {per_image * 1000:.1f} ms/image")
    variants = ["disk:fp32", "disk:bf16"] + (["off:fp32", "off:bf16"] if args.uncached else [])
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for repeat in range(args.repeats):
        for variant in variants:
            runs[variant].append(child(variant))
            r = runs[variant][-1]
            print(
                f"  repeat {repeat + 1}, {variant}: {r['step_s']:.2f} s/step, {load()}", flush=True
            )
    build = next(r for r in runs["disk:fp32"] if "cache_build_s" in r)
    images = build["windows"] * 7
    rate = images / build["cache_build_s"]
    print(
        f"cache build (fp32, once): {images} images in {build['cache_build_s']:.1f} s ({rate:.2f} "
        f"images/s); the whole ETTh1 training split (8449 x 7) ~ {8449 * 7 / rate / 3600:.1f} h"
    )
    print(f"\n{load()}; {args.clip} random, batch {args.batch_size}, medians of {args.repeats}")
    print(
        f"{'variant':<12}{'s/step':>8}{'samples/s':>11}{'vs fp32':>9}{'peak MiB':>10}{'TFLOP':>7}{'bf16 peak':>10}"
    )
    for variant in variants:
        step = median([r["step_s"] for r in runs[variant]])
        base = median([r["step_s"] for r in runs[variant.split(":")[0] + ":fp32"]])
        peak_mib = median([r["peak_rss_mib"] for r in runs[variant]])
        tflop = runs[variant][0]["tflop_per_step"]
        print(
            f"{variant:<12}{step:>8.3f}{args.batch_size / step:>11.2f}{base / step:>8.2f}x"
            f"{peak_mib:>10.0f}{tflop:>7.3f}{tflop * 1e3 / step / machine['bf16']:>10.1%}"
        )


if __name__ == "__main__":
    main()
