"""Where S2IP-LLM's bf16 training step stops: its element-wise work beside its matrix products.

At batch 32 the GPT-2 backbone (6 blocks) carries 15,232 token states (224 sequences x 68
tokens). Under CPU bf16 autocast its products run near the machine's bf16 rate, but the
element-wise passes (GELU, dropout, the fp32 residual stream) gain nothing from bf16 and
each writes a fresh activation, whose pages the kernel must hand out first. This script times
them on the step's own shapes, one call at a time (medians), and scales each by how often one
training step runs it:

- the MLP product ``[15232, 768] x [768, 3072]``, bf16 and fp32, for scale;
- tanh-GELU on the ``[15232, 3072]`` bf16 activation as tsfm runs it (torch's kernel),
  forward and backward, into fresh memory as in a step; beside it torch's fp32 ``tanh`` and
  bf16 ``sigmoid`` on the same elements (what the tanh itself costs) and the page faults:
  filling a fresh tensor of that size against filling a reused one;
- the residual add, fp32 stream + bf16 branch (what autocast leaves) against fp32 + fp32;
- dropout on ``[224, 68, 768]`` bf16: tsfm's :class:`~tsfm.models.common.Dropout` forward and
  backward, and its mask alone;
- with ``--compile``: tanh-GELU in its sigmoid form ``x * sigmoid(2u)`` (the same function)
  through ``torch.compile`` (needs a C++ compiler), its compile time, speed, and how many bf16
  outputs differ from torch's kernel.

    python runners/bench_elementwise.py --threads 1
    python runners/bench_elementwise.py --threads 1 --compile
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import header, median, peaks, set_threads  # noqa: E402

from tsfm.models.common import Dropout, cpu_dropout_mask  # noqa: E402

TOKENS, WIDTH, HIDDEN = 224 * 68, 768, 3072  # batch 32 x 7 variates, 68 patches + prompts
BLOCKS = 6
PER_STEP = {  # calls of each kind in one training step (forward + backward)
    "mlp product": 4 * BLOCKS,  # two products a block forward, their input gradients back
    "gelu": BLOCKS,
    "residual add": 2 * BLOCKS,
    "dropout": 3 * BLOCKS + 1,
}


def timed(call: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``call`` after one untimed call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * median(times)


def sigmoid_gelu(x: torch.Tensor) -> torch.Tensor:
    """tanh-GELU as ``x * sigmoid(2u)``, ``u = sqrt(2/pi) (x + 0.044715 x^3)``, in fp32."""
    a = x.float()
    c = 2 * math.sqrt(2 / math.pi)
    return (a * torch.sigmoid(a * (c + c * 0.044715 * a * a))).to(x.dtype)


def sigmoid_gelu_backward(grad: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    a = x.float()
    c = 2 * math.sqrt(2 / math.pi)
    s = torch.sigmoid(a * (c + c * 0.044715 * a * a))
    slope = s + a * s * (1 - s) * (c + 3 * c * 0.044715 * a * a)
    return (grad.float() * slope).to(x.dtype)


def rows(repeats: int, compile_gelu: bool) -> list[tuple[str, float, str]]:
    """``(what, ms per call, kind in PER_STEP or "")`` for every measurement."""
    bf16 = torch.bfloat16
    hidden = torch.randn(TOKENS, HIDDEN).to(bf16)
    grad = torch.randn(TOKENS, HIDDEN).to(bf16)
    reused, hidden32 = torch.empty_like(hidden), hidden.float()
    reused32 = torch.empty_like(hidden32)
    states, weight = torch.randn(TOKENS, WIDTH), torch.randn(WIDTH, HIDDEN)
    states16, weight16 = states.to(bf16), weight.to(bf16)
    stream, branch = torch.randn(224, 68, WIDTH), torch.randn(224, 68, WIDTH).to(bf16)
    branch32 = branch.float()
    dropout, dropped = Dropout(0.1), branch.clone().requires_grad_()
    result: list[tuple[str, float, str]] = []

    def add(what: str, call: Callable[[], object], kind: str = "") -> None:
        result.append((what, timed(call, repeats), kind))

    def gelu_in_place() -> None:
        reused.copy_(hidden)
        torch._C._nn.gelu_(reused, approximate="tanh")

    add("MLP-sized product, bf16 (4 a block)", lambda: states16 @ weight16, "mlp product")
    add("MLP-sized product, fp32", lambda: states @ weight)
    add("GELU tanh bf16 forward (torch)", lambda: F.gelu(hidden, approximate="tanh"), "gelu")
    add(
        "GELU tanh bf16 backward (torch)",
        lambda: torch.ops.aten.gelu_backward(grad, hidden, approximate="tanh"),
        "gelu",
    )
    add("  the forward into a reused buffer (copy included)", gelu_in_place)
    add("  tanh alone, fp32, reused buffer", lambda: torch.tanh(hidden32, out=reused32))
    add("  sigmoid alone, bf16, reused buffer", lambda: torch.sigmoid(hidden, out=reused))
    add("  fill a fresh tensor of that size", lambda: torch.empty_like(hidden).fill_(1))
    add("  fill a reused tensor of that size", lambda: reused.fill_(1))
    add("residual add, fp32 + bf16 (autocast)", lambda: stream + branch, "residual add")
    add("  fp32 + fp32", lambda: stream + branch32)
    add("dropout forward + backward, bf16", lambda: dropout(dropped).backward(branch), "dropout")
    add("  its mask alone", lambda: cpu_dropout_mask(branch.shape, 0.1))
    if compile_gelu:
        start = time.perf_counter()
        forward, backward = torch.compile(sigmoid_gelu), torch.compile(sigmoid_gelu_backward)
        differ = int((forward(hidden) != F.gelu(hidden, approximate="tanh")).sum())
        backward(grad, hidden)
        seconds = time.perf_counter() - start
        result.append((f"GELU, sigmoid form, compiled in {seconds:.1f} s:", 0.0, ""))
        result.append((f"  {differ:,} of {hidden.numel():,} outputs one bf16 step off", 0.0, ""))
        add("  forward", lambda: forward(hidden), "gelu")
        add("  backward", lambda: backward(grad, hidden), "gelu")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per figure")
    parser.add_argument("--compile", action="store_true", help="also time a compiled GELU")
    args = parser.parse_args()
    threads = set_threads(args.threads)
    print(header(threads, peaks()))
    print(f"{'what':<58} {'ms a call':>10} {'calls a step':>13} {'s a step':>9}")
    for what, ms, kind in rows(args.repeats, args.compile):
        calls = PER_STEP.get(kind, 0)
        figure = f"{ms:10.1f}" if ms else " " * 10
        step = f"{calls:13d} {ms * calls / 1e3:9.2f}" if calls else ""
        print(f"{what:<58} {figure} {step}")


if __name__ == "__main__":
    main()
