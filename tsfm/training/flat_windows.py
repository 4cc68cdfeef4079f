"""Which windows' baselines and scales are zero up to float rounding, decided on the values as
read and applied alike to the scaled ones (:class:`~tsfm.training.series_metrics.SeriesMetrics`).

A seasonal-naive forecast whose mean absolute error over a window is no more than the rounding
of the window's values (:func:`~tsfm.data.seasonal_scales.rounding` times the largest
``|value|`` of its observed look-back and targets; about 2.3e-13 of it in float64) is exact:
its errors are 0, as an exact forecast's are, so the skill against it is undefined rather
than a ratio of rounding (y = 5 + sin(2 pi t / 24) from the running hour index repeats each
day to 1e-14, 0.1 + 0.2 differs from 0.3 by one ulp). The naive forecast alike, and MASE's scale
(left out at or below that rounding, as at 0). The scaled values are the values as read
shifted by their mean: their own rounding says nothing of the data's, so their windows take
the decisions made on the values as read (and float32 scaled values would add their own).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from tsfm.data.seasonal_scales import magnitude, rounding, seasonal_sums
from tsfm.training.scoring import seasonal_naive_error


class Flat(NamedTuple):
    """Per window ``[B, N]``: True where MASE's scale, the seasonal-naive error and the naive
    error are zero up to rounding (:func:`flat_windows`)."""

    scale: Tensor
    snaive: Tensor
    naive: Tensor


def flat_windows(
    target: Tensor,
    lookback: Tensor,
    lag: int,
    mask: Tensor | None = None,
    lookback_observed: Tensor | None = None,
    scale: Tensor | None = None,
) -> Flat:
    """:class:`Flat` of windows of targets ``[B, H, N]`` (``mask``: 1 where observed; NaN is
    missing too) and look-backs ``[B, L, N]`` (``lookback_observed``: which rows are values,
    not padding); ``scale [B, N]``: MASE's scale when given (``mase_scale="history"``), else
    the look-back's. The rounding is that of the values' dtype (float32 metrics on MPS)."""
    dtype = target.dtype
    target, lookback = target.detach().double(), lookback.detach().double()
    observed = ~target.isnan()
    if mask is not None:
        observed = observed & mask.to(target.device).bool()
    size = torch.maximum(magnitude(lookback, lookback_observed), magnitude(target, observed))
    floor = rounding(dtype) * size  # [B, N]
    if scale is None:
        total, pairs = seasonal_sums(lookback, lag, lookback_observed)
        scale = total / pairs.clamp(min=1)
    count = observed.sum(1, dtype=torch.float64)
    target = torch.where(observed, target, 0.0)
    snaive = seasonal_naive_error(lookback, target, lag).mul_(observed).sum(1)
    naive = torch.sub(lookback[:, -1:], target).abs_().mul_(observed).sum(1)
    return Flat(
        scale=~(scale.detach().double().to(floor.device) > floor),
        snaive=snaive <= floor * count,
        naive=naive <= floor * count,
    )
