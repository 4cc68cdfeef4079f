"""MASE's and MSIS's seasonal scales: the mean absolute difference ``|x_t - x_{t-m}|`` of
observed values ``m`` (``season_length``) apart, over a window's look-back
(:func:`seasonal_scale`, ``mase_scale="lookback"``) or over every row of the series before the
window's origin (:func:`seasonal_prefix` and :func:`history_scale`, ``mase_scale="history"``).
Both sum the terms of :func:`seasonal_steps`; the metrics (:mod:`tsfm.training.scoring`) and
the data modules (the history of the command line's test windows) call these functions."""

from __future__ import annotations

import torch
from torch import Tensor

from tsfm.errors import InputError


def seasonal_steps(x: Tensor, lag: int, observed: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The terms of every seasonal scale: ``|x_t - x_{t-lag}|`` along the rows of ``x [..., T,
    N]`` -> ``[..., T - lag, N]`` (empty when ``T <= lag``) in float64, and 1 where both rows
    of the pair are observed (``observed [..., T, N]``; all pairs without it), 0 elsewhere
    (such a term is 0 too, whatever the values: NaN where a value is missing)."""
    if lag < 1:
        raise InputError(f"season_length={lag} must be at least 1")
    x = x.double()
    steps = (x[..., lag:, :] - x[..., : x.shape[-2] - lag, :]).abs()
    if observed is None:
        return steps, torch.ones_like(steps)
    observed = observed.to(steps.device).bool()
    pairs = (observed[..., lag:, :] & observed[..., : x.shape[-2] - lag, :]).double()
    return torch.where(pairs > 0, steps, 0.0), pairs


def seasonal_sums(x: Tensor, lag: int, observed: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The look-back's seasonal terms summed, ``[B, L, N] -> [B, N]``, and how many pairs
    they are (:func:`seasonal_steps`)."""
    steps, pairs = seasonal_steps(x, lag, observed)
    return steps.sum(-2), pairs.sum(-2)


def seasonal_scale(x: Tensor, lag: int, observed: Tensor | None = None) -> Tensor:
    """MSIS's (and MASE's) look-back scale: the look-back's mean absolute difference at
    ``lag``, ``[B, L, N] -> [B, N]``; with ``observed [B, L, N]``, over the pairs of observed
    rows only (a short series' padding before its start is none of its steps). 0 where there
    is no pair: a look-back of ``lag`` steps or fewer, or too sparse."""
    total, pairs = seasonal_sums(x, lag, observed)
    return total / pairs.clamp(min=1)


def seasonal_prefix(
    values: Tensor, lag: int, observed: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Running totals ``[T + 1, N]`` over the rows of ``values [T, N]``: row ``t`` holds the
    sum of the seasonal terms (:func:`seasonal_steps`) of the pairs whose later row is before
    ``t``, and how many pairs they are; :func:`history_scale` reads them."""
    steps, pairs = seasonal_steps(values, lag, observed)
    start = torch.zeros(lag + 1, values.shape[-1], dtype=torch.float64, device=steps.device)
    total = torch.cat([start, steps.cumsum(0)])[: values.shape[0] + 1]
    count = torch.cat([start, pairs.cumsum(0)])[: values.shape[0] + 1]
    return total, count


def history_scale(
    prefix: tuple[Tensor, Tensor], origins: Tensor, starts: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The history scale of windows whose first forecast row is ``origins [W]``: the mean
    seasonal term over the pairs whose later row lies in ``[starts, origins)`` (default: every
    pair before the origin), ``[W, N]`` (0 where there is none), and how many pairs that is;
    ``prefix``: :func:`seasonal_prefix` of the rows."""
    total, count = prefix
    end = origins.long().to(total.device).clamp(0, total.shape[0] - 1)
    pairs, summed = count[end], total[end]
    if starts is not None:
        begin = starts.long().to(total.device).clamp(0, total.shape[0] - 1)
        pairs, summed = pairs - count[begin], summed - total[begin]
    pairs = pairs.round()  # whole numbers, whatever the subtraction's rounding
    return torch.where(pairs > 0, summed / pairs.clamp(min=1), 0.0), pairs


def batch_columns(scale: Tensor, batch: dict) -> Tensor:
    """``scale [B, N]`` of every target, narrowed to the targets of each sample of ``batch``:
    its ``variate [B]`` (channel-independent samples, ``[B, 1]``) or ``variates [k]``."""
    if "variate" in batch:
        return scale.gather(1, batch["variate"].cpu().long().view(-1, 1))
    if "variates" in batch:
        return scale[:, batch["variates"].cpu().long()]
    return scale
