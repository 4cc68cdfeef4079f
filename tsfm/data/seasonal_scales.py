"""MASE's and MSIS's seasonal scales: the mean absolute difference ``|x_t - x_{t-m}|`` of
observed values ``m`` (``season_length``) apart, over a window's look-back
(:func:`seasonal_scale`, ``mase_scale="lookback"``) or over every row of the series before the
window's origin (:func:`seasonal_prefix` and :func:`history_scale`, ``mase_scale="history"``).
Both sum the terms of :func:`seasonal_steps`; the metrics (:mod:`tsfm.training.scoring`) and
the data modules (the history of the command line's test windows) call these functions.

A scale at or below the rounding of the values it is taken from (:func:`rounding`: a mean
difference under about 2.3e-13 of their largest magnitude in float64) is no variation but float
rounding, as of a sine of the running hour index or 0.1 + 0.2 beside 0.3: it is 0, as an
exactly flat look-back's is, so MASE and MSIS leave the window out rather than divide by it."""

from __future__ import annotations

import torch
from torch import Tensor

from tsfm.data.rounding import ROUNDING_FLOAT64, ROUNDING_ULPS
from tsfm.errors import InputError


def rounding(dtype: torch.dtype) -> float:
    """The relative size of rounding in values of ``dtype`` (:mod:`tsfm.data.rounding`)."""
    if not dtype.is_floating_point:
        return 0.0  # whole numbers: their differences are exact
    if dtype == torch.float64:
        return ROUNDING_FLOAT64
    return ROUNDING_ULPS * torch.finfo(dtype).eps


def magnitude(x: Tensor, observed: Tensor | None = None) -> Tensor:
    """The largest ``|x|`` along the rows of ``x [..., T, N]`` -> ``[..., N]`` in float64, over
    the ``observed`` rows only when given (NaN left out; 0 where there is none)."""
    size = torch.nan_to_num(x.double().abs(), nan=0.0, posinf=0.0)
    if observed is not None:
        size = torch.where(observed.to(size.device).bool(), size, 0.0)
    if size.shape[-2] == 0:
        return size.sum(-2)
    return size.amax(-2)


def above_rounding(scale: Tensor, size: Tensor, dtype: torch.dtype) -> Tensor:
    """``scale`` where it exceeds the rounding of values of ``dtype`` whose largest magnitude is
    ``size`` (:func:`magnitude`), 0 where it does not (no variation but rounding)."""
    return torch.where(scale > rounding(dtype) * size, scale, 0.0)


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
    is no pair: a look-back of ``lag`` steps or fewer, or too sparse; 0 too where it is no
    more than the rounding of the look-back's values (:func:`above_rounding`)."""
    total, pairs = seasonal_sums(x, lag, observed)
    return above_rounding(total / pairs.clamp(min=1), magnitude(x, observed), x.dtype)


def seasonal_prefix(
    values: Tensor, lag: int, observed: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Running totals ``[T + 1, N]`` over the rows of ``values [T, N]``: row ``t`` holds the
    sum of the seasonal terms (:func:`seasonal_steps`) of the pairs whose later row is before
    ``t``, how many pairs they are, and the rounding of the (observed) values before ``t``
    (:func:`rounding` times their largest magnitude); :func:`history_scale` reads them."""
    steps, pairs = seasonal_steps(values, lag, observed)
    start = torch.zeros(lag + 1, values.shape[-1], dtype=torch.float64, device=steps.device)
    total = torch.cat([start, steps.cumsum(0)])[: values.shape[0] + 1]
    count = torch.cat([start, pairs.cumsum(0)])[: values.shape[0] + 1]
    size = torch.nan_to_num(values.double().abs(), nan=0.0, posinf=0.0)
    if observed is not None:
        size = torch.where(observed.to(size.device).bool(), size, 0.0)
    largest = torch.cat([start[:1], size.cummax(0).values]) * rounding(values.dtype)
    return total, count, largest


def history_scale(
    prefix: tuple[Tensor, Tensor, Tensor], origins: Tensor, starts: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The history scale of windows whose first forecast row is ``origins [W]``: the mean
    seasonal term over the pairs whose later row lies in ``[starts, origins)`` (default: every
    pair before the origin), ``[W, N]`` (0 where there is none, or where it is no more than
    the rounding of the values before the origin), and how many pairs that is; ``prefix``:
    :func:`seasonal_prefix` of the rows."""
    total, count, floor = prefix
    end = origins.long().to(total.device).clamp(0, total.shape[0] - 1)
    pairs, summed = count[end], total[end]
    if starts is not None:
        begin = starts.long().to(total.device).clamp(0, total.shape[0] - 1)
        pairs, summed = pairs - count[begin], summed - total[begin]
    pairs = pairs.round()  # whole numbers, whatever the subtraction's rounding
    scale = torch.where(pairs > 0, summed / pairs.clamp(min=1), 0.0)
    return torch.where(scale > floor[end], scale, 0.0), pairs


def batch_columns(scale: Tensor, batch: dict) -> Tensor:
    """``scale [B, N]`` of every target, narrowed to the targets of each sample of ``batch``:
    its ``variate [B]`` (channel-independent samples, ``[B, 1]``) or ``variates [k]``."""
    if "variate" in batch:
        return scale.gather(1, batch["variate"].cpu().long().view(-1, 1))
    if "variates" in batch:
        return scale[:, batch["variates"].cpu().long()]
    return scale
