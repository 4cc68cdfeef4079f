"""Trend / seasonal / residual decompositions of look-back windows, batched in torch.

``moving_average_decomposition`` is S2IP-LLM's decomposition as its official code computes it
(``Long-term_Forecasting/models/S2IPLLM.py: decompose``, pandas per row on the CPU), rewritten
to run on whole batches on the model's device:

1. trend: centred rolling mean over ``trend_length`` steps (pandas ``rolling(center=True)``:
   the window at ``t`` covers ``[t - w//2, t - w//2 + w - 1]``); the incomplete edge windows
   are NaN in pandas and filled backward then forward, i.e. the first and last complete
   means are repeated to the edges;
2. seasonal: the detrended series averaged over the positions sharing the phase
   ``t mod seasonal_length`` inside the window, repeated over the window;
3. residual: what is left, so ``trend + seasonal + residual == x``.

``stl_decomposition`` is the alternative the paper's text suggests (statsmodels STL); it runs
row by row on the CPU and is therefore much slower.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from tsfm.errors import InputError

METHODS = ("moving_average", "stl", "none")


def _check(length: int, trend_length: int, seasonal_length: int) -> None:
    if trend_length < 1 or seasonal_length < 1:
        raise InputError(
            f"trend_length and seasonal_length must be >= 1, got {trend_length}, {seasonal_length}"
        )
    if trend_length > length:
        raise InputError(
            f"trend_length ({trend_length}) is longer than the look-back ({length}): the "
            "moving average would have no complete window; lower model.trend_length"
        )


def moving_average_trend(x: Tensor, window: int) -> Tensor:
    """Centred moving average of ``x [..., L]`` with the edges held at the nearest full mean."""
    length = x.shape[-1]
    rows = x.reshape(-1, 1, length)
    means = F.avg_pool1d(rows, kernel_size=window, stride=1)  # [R, 1, L - window + 1]
    left = window // 2
    trend = F.pad(means, (left, window - 1 - left), mode="replicate")
    return trend.reshape(x.shape)


def phase_mean_seasonal(detrended: Tensor, period: int) -> Tensor:
    """Mean of ``detrended [..., L]`` over positions with equal ``t mod period``, tiled to L."""
    length = detrended.shape[-1]
    cycles = -(-length // period)
    padded = F.pad(detrended, (0, cycles * period - length))
    sums = padded.reshape(*detrended.shape[:-1], cycles, period).sum(-2)
    counts = torch.bincount(
        torch.arange(length, device=detrended.device) % period, minlength=period
    ).to(detrended.dtype)
    means = sums / counts
    return means.tile((cycles,))[..., :length]


def moving_average_decomposition(
    x: Tensor, trend_length: int, seasonal_length: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The official S2IP-LLM decomposition of ``x [..., L]`` -> (trend, seasonal, residual).

    Computed in float32 (never under autocast) on ``x``'s device; ``trend_length =
    seasonal_length = 1`` gives ``trend = x`` and zero seasonal and residual, as the official
    M4 Yearly/Quarterly scripts use to switch the decomposition off.
    """
    _check(x.shape[-1], trend_length, seasonal_length)
    with torch.autocast(device_type=x.device.type, enabled=False):
        x = x.float()
        trend = moving_average_trend(x, trend_length)
        seasonal = phase_mean_seasonal(x - trend, seasonal_length)
        return trend, seasonal, x - trend - seasonal


def stl_decomposition(
    x: Tensor, seasonal_length: int, robust: bool = False
) -> tuple[Tensor, Tensor, Tensor]:
    """statsmodels STL with ``period = seasonal_length`` per row of ``x [..., L]`` (CPU, slow)."""
    try:
        from statsmodels.tsa.seasonal import STL
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "decomposition='stl' needs statsmodels: pip install 'tsfm[stl]' (or statsmodels)"
        ) from error
    if seasonal_length < 2 or x.shape[-1] < 2 * seasonal_length:
        raise InputError(
            f"STL needs seasonal_length >= 2 and a look-back of at least two periods; got "
            f"period {seasonal_length} for a look-back of {x.shape[-1]}"
        )
    rows = x.detach().reshape(-1, x.shape[-1]).double().cpu().numpy()
    parts = torch.empty(3, *rows.shape, dtype=torch.float64)
    for i, row in enumerate(rows):
        fit = STL(row, period=seasonal_length, robust=robust).fit()
        parts[0, i], parts[1, i] = torch.from_numpy(fit.trend), torch.from_numpy(fit.seasonal)
    parts[2] = torch.from_numpy(rows) - parts[0] - parts[1]
    trend, seasonal, residual = (p.to(x.device, torch.float32).reshape(x.shape) for p in parts)
    return trend, seasonal, residual


def decompose(
    x: Tensor, method: str, trend_length: int, seasonal_length: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Dispatch on ``method`` (``moving_average`` or ``stl``)."""
    if method == "moving_average":
        return moving_average_decomposition(x, trend_length, seasonal_length)
    if method == "stl":
        return stl_decomposition(x, seasonal_length)
    raise InputError(f"unknown decomposition '{method}'; use one of {METHODS}")
