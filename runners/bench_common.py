"""What the speed benchmarks share: threads, the machine's load, its measured matrix-multiply
peaks, a step's FLOPs, interleaved repeats with medians, and a call's peak resident memory.

A shared machine's speed drifts (other jobs come and go), so the benchmarks run their
variants interleaved (A, B, C, A, B, C, ...) and report medians: a slow spell then hits every
variant, and ratios from one run stay meaningful even when absolute times do not.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

PEAK_SIZE = 2048  # a square product large enough to reach the kernels' best rate


def set_threads(threads: int | None) -> int:
    """torch's intra-op threads (None: its default, one per core); returns the count used."""
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def load() -> str:
    """The 1, 5 and 15-minute load averages, with the core count."""
    try:
        one, five, fifteen = os.getloadavg()
    except (OSError, AttributeError):
        return "load unknown"
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def matmul_peak(dtype: torch.dtype, device: str = "cpu", repeats: int = 5) -> float:
    """GFLOP/s of a plain ``a @ b`` of two ``2048 x 2048`` matrices (median of ``repeats``)."""
    a = torch.randn(PEAK_SIZE, PEAK_SIZE, device=device, dtype=dtype)
    b = torch.randn(PEAK_SIZE, PEAK_SIZE, device=device, dtype=dtype)
    a @ b
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - start)
    return 2 * PEAK_SIZE**3 / statistics.median(times) / 1e9


def peaks(device: str = "cpu") -> dict[str, float]:
    """This machine's measured fp32 and bf16 matrix-multiply rates, GFLOP/s."""
    return {"fp32": matmul_peak(torch.float32, device), "bf16": matmul_peak(torch.bfloat16, device)}


def flops(step: Callable[[], object]) -> float:
    """FLOPs of one call of ``step`` (matrix products and attention, as torch counts them)."""
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def sync(device: str | torch.device) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def interleaved(
    variants: dict[str, Callable[[], float]], repeats: int, report: bool = True
) -> dict[str, list[float]]:
    """Call every variant once per repeat, in turn; ``{name: [value per repeat]}``."""
    results: dict[str, list[float]] = {name: [] for name in variants}
    for repeat in range(repeats):
        for name, measure in variants.items():
            results[name].append(measure())
            if report:
                print(f"  repeat {repeat + 1}, {name}: {results[name][-1]:.4g}", flush=True)
    return results


def median(values: list[float]) -> float:
    return statistics.median(values)


def header(threads: int, machine_peaks: dict[str, float]) -> str:
    return (
        f"threads {threads}, {load()}; measured matmul peak ({PEAK_SIZE}^3): "
        f"fp32 {machine_peaks['fp32']:.0f} GFLOP/s, bf16 {machine_peaks['bf16']:.0f} GFLOP/s"
    )


def _rss_mb() -> float | None:
    """The process's resident memory in MB (None where /proc is not there)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        return None


def rss_peak(call: Callable[[], object], every: float = 0.02) -> tuple[object, float, float | None]:
    """``call()``'s result, its seconds and the peak of the process's resident memory while
    it ran, in MB above where it started (sampled every ``every`` seconds; None without
    /proc). The process's lifetime peak (``ru_maxrss``) would hide a call's own peak behind
    an earlier, larger one such as the fit's."""
    start, peak, done = _rss_mb(), [0.0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb() or 0.0)
            time.sleep(every)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    began = time.perf_counter()
    try:
        result = call()
    finally:
        seconds = time.perf_counter() - began
        done.set()
        watcher.join()
    return result, seconds, None if start is None else max(peak[0], _rss_mb() or 0.0) - start
