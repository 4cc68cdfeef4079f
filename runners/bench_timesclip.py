"""Speed benchmark: TimesCLIP on ETTh1 96 -> 96 with a ViT-B/16-sized random CLIP.

Prints the time to render one batch of line images (64 windows x 7 variates at 224 x 224),
then training samples/s and peak memory without and with the image-feature cache (each mode
in its own process, so peak memory is its own), and the one-off cost of building the cache.

    python runners/bench_timesclip.py                       # CPU, fp32, batch 8
    python runners/bench_timesclip.py --batch-size 64 trainer=gpu   # any Hydra override

Both modes train on the same windows: the first ``--percent`` % of ETTh1's training split
(the cache is built for those windows only; its build time for the whole split is
extrapolated). A training step is the shared LightningModule's ``training_step`` (forecast
loss + 0.1 x InfoNCE), backward and the AdamW step, timed after one warm-up step.
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
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tsfm.config import compose_config  # noqa: E402
from tsfm.models.timesclip.render import LineRenderer  # noqa: E402
from tsfm.pipeline import build_datamodule, build_module  # noqa: E402
from tsfm.training.module import bind_training_windows  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def config(args, mode: str):
    base = ["experiment=timesclip_etth1_96", "model.pretrained=false", "optim.epochs=100"]
    return compose_config(
        *base,
        f"model.clip={args.clip}",
        f"model.feature_cache={mode}",
        f"data.batch_size={args.batch_size}",
        f"data.percent={args.percent}",
        *args.overrides,
    )


def device_of(cfg) -> torch.device:
    wants_gpu = cfg.trainer.accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available()
    return torch.device("cuda" if wants_gpu else "cpu")


def bench_render(args) -> dict:
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


def bench_training(args, mode: str) -> dict:
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
    result = {"mode": mode, "windows": dataset.n_windows, "images": dataset.n_windows * 7}
    if module.model.image_cache is not None:
        sync(device)
        start = time.perf_counter()
        module.model.build_image_cache(device)
        sync(device)
        result["cache_build_s"] = time.perf_counter() - start
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    steps = args.steps_cached if mode != "off" else args.steps_uncached
    times = []
    for i in range(steps + 1):
        rows = order[(torch.arange(args.batch_size) + i * args.batch_size) % len(order)]
        batch = {k: v.to(device) for k, v in dataset.__getitems__(rows.tolist()).items()}
        sync(device)
        start = time.perf_counter()
        loss = module.training_step(batch, i)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync(device)
        times.append(time.perf_counter() - start)
    step = sum(times[1:]) / steps
    result.update(
        step_s=step,
        samples_per_s=args.batch_size / step,
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
    parser.add_argument("--percent", type=float, default=2.0, help="share of training windows")
    parser.add_argument("--steps-uncached", type=int, default=2)
    parser.add_argument("--steps-cached", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="render timings (min, median)")
    parser.add_argument("--only", choices=["render", "off", "memory"], help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer=gpu")
    args = parser.parse_args()
    if args.only:  # a child process: one measurement, printed as JSON
        result = bench_render(args) if args.only == "render" else bench_training(args, args.only)
        print("RESULT " + json.dumps(result))
        return

    def child(what: str) -> dict:
        cmd = [sys.executable, __file__, "--only", what, *sys.argv[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode or not lines:
            sys.exit(f"{what} failed:\n{proc.stderr[-3000:]}")
        return json.loads(lines[-1].removeprefix("RESULT "))

    render = child("render")
    print(f"render 64 windows x 7 variates, 224 x 224 RGB (min / median of {args.repeats}):")
    print(
        f"  fresh output {render['fresh'][0]:.3f} / {render['fresh'][1]:.3f} s, "
        f"reused buffer {render['reused'][0]:.3f} / {render['reused'][1]:.3f} s"
    )
    per_image = render["matplotlib_per_image"]
    print(
        f"  matplotlib, one figure per image: {per_image * 1000:.1f} ms/image, "
        f"{per_image * 448:.2f} s for the same batch"
    )
    runs = {mode: child(mode) for mode in ("off", "memory")}
    first = runs["off"]
    print(
        f"training, {args.clip} random, batch {args.batch_size}, device {first['device']}, "
        f"{first['threads']} threads, {first['windows']} training windows"
    )
    for mode, r in runs.items():
        memory = f"peak RSS {r['peak_rss_mib']:.0f} MiB"
        if "peak_gpu_mib" in r:
            memory += f", GPU {r['peak_gpu_mib']:.0f} MiB"
        print(
            f"  cache {mode:6s}: {r['step_s']:.2f} s/step, {r['samples_per_s']:.2f} samples/s, {memory}"
        )
    cached = runs["memory"]
    print(f"  speed-up with the cache: {first['step_s'] / cached['step_s']:.1f}x")
    rate = cached["images"] / cached["cache_build_s"]
    full = 8449 * 7 / rate
    print(
        f"  cache build: {cached['images']} images in {cached['cache_build_s']:.1f} s "
        f"({rate:.1f} images/s); the whole ETTh1 training split (8449 x 7) ~ {full / 60:.0f} min"
    )


if __name__ == "__main__":
    main()
