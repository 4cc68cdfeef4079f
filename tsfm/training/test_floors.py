"""``nonnegative`` in the command line's test scores: the test metrics (``metrics.json``, the
console table, ``forecast.png``) score the forecasts ``forecasts.parquet`` holds, those of the
marked targets floored at zero, as the Forecaster's ``evaluate``, ``cross_validate`` and
``backtest`` score theirs (:mod:`tsfm.estimator.floors`).

The floor is ``max(value, 0)`` on the original scale, after unscaling: point forecasts and
quantiles (interval bounds) alike; the scaled scores read zero's scaled value, ``-mean /
std``, where a forecast was floored, the model's own scaled value elsewhere. Validation is
left as the model forecasts (early stopping, the best checkpoint and the conformal residuals
follow the model's own errors), and so are the seasonal-naive and naive baselines, which
repeat actual values of the look-back. With ``nonnegative`` off, or no marked forecast below
zero in a batch, the batch's values are passed on as they are: the scores stay bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from tsfm.data.batch import Batch
from tsfm.training.nonnegative import marked, setting_of


def floored_columns(cfg: Any, datamodule: Any) -> Tensor | None:
    """Which of ``datamodule``'s target columns (a long file's series) the run's
    ``nonnegative`` floors, as a bool tensor; None where it floors none."""
    value = setting_of(cfg)
    if not value:
        return None
    mask = marked(value, list(datamodule.columns), datamodule.long_target())
    return torch.from_numpy(mask) if mask.any() else None


def recorded_setting(cfg: Any) -> bool | list[str]:
    """``nonnegative`` as metrics.json records it: true, or the list of names."""
    value = setting_of(cfg)
    return True if value is True else [str(v) for v in value]


def _below(module: Any, original: Tensor, batch: Batch) -> Tensor | None:
    """Where ``original [B, S, N]`` (quantiles ``[B, S, N, Q]``) of a marked column is below
    zero; None where nothing is."""
    columns = getattr(module, "floored", None)
    if columns is None:
        return None
    mask = module.per_column(columns.to(original.device), batch, original.dim())
    below = mask & (original < 0)
    return below if bool(below.any()) else None


def floor_original(module: Any, original: Tensor, batch: Batch) -> Tensor:
    """``original`` with its marked columns floored at zero (itself where none is below)."""
    below = _below(module, original, batch)
    return original if below is None else original.masked_fill(below, 0.0)


def floor_both(
    module: Any, scaled: Tensor, original: Tensor, batch: Batch
) -> tuple[Tensor, Tensor]:
    """``(scaled, original)`` forecasts (or quantiles) with the marked columns' values below
    zero floored: ``original`` at 0, ``scaled`` at zero's scaled value (0 for unscaled data);
    both themselves where nothing is below zero."""
    below = _below(module, original, batch)
    if below is None:
        return scaled, original
    zero = torch.zeros((), dtype=torch.float64, device=scaled.device)
    if module.scale_mean is not None:
        stats = (module.scale_mean, module.scale_std)
        mean, std = (module.per_column(s, batch, scaled.dim()) for s in stats)
        zero = (-mean / std).to(scaled.device)
    floored = torch.where(below, zero.to(scaled.dtype), scaled)
    return floored, original.masked_fill(below, 0.0)
