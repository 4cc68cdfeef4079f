"""Probabilistic metrics accumulated as float64 sums over every forecast value, so that they
never depend on the batch size (and are summed exactly across DDP ranks).

Definitions in :mod:`tsfm.training.scoring`. Keys: ``crps``, ``coverage_<L>`` and ``width_<L>``
for every level ``L`` of ``levels``, and ``msis`` (at 95 %, when 95 is one of the levels and
look-back scales are given; windows whose look-back has no seasonal variation, scale 0, are
left out of MSIS).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from tsfm.errors import InputError
from tsfm.training.scoring import (
    MSIS_LEVEL,
    check_levels,
    check_quantiles,
    grid_taus,
    index_of,
    interval_score,
    level_bounds,
    level_name,
    pinball,
)


def interval_names(levels: Sequence[float]) -> list[str]:
    """The keys :meth:`IntervalMetrics.compute` may return for ``levels``."""
    names = ["crps"]
    for level in check_levels(levels):
        names += [f"coverage_{level_name(level)}", f"width_{level_name(level)}"]
    return [*names, "msis"] if MSIS_LEVEL in check_levels(levels) else names


class IntervalMetrics(Metric):
    """CRPS over ``quantiles``, coverage and width of each of ``levels``, MSIS.

    :meth:`update` takes quantiles at :attr:`taus` (the CRPS grid and every interval bound,
    sorted) ``[B, S, N, T]``, the target ``[B, S, N]``, for MSIS each window's seasonal scale
    ``[B, N]``, and optionally a mask ``[B, S, N]`` (1 where the target was observed; the
    other elements are left out, as the error metrics do).
    """

    full_state_update = False

    def __init__(self, quantiles: Sequence[float], levels: Sequence[float]) -> None:
        super().__init__()
        self.quantiles = check_quantiles(quantiles)
        self.levels = check_levels(levels)
        self.taus = grid_taus(self.quantiles, self.levels)
        self._grid = [index_of(self.taus, q) for q in self.quantiles]
        self._bounds = [tuple(index_of(self.taus, b) for b in level_bounds(v)) for v in self.levels]
        self._msis = self.levels.index(MSIS_LEVEL) if MSIS_LEVEL in self.levels else None
        names = ["pinball", "count", "msis_sum", "msis_count"]
        names += [f"{kind}_{i}" for i in range(len(self.levels)) for kind in ("covered", "width")]
        self._sums = names
        for name in names:
            self.add_state(
                name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
            )

    def contributions(
        self,
        predicted: Tensor,
        target: Tensor,
        scale: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Each element's share ``[B, S, N]`` of every sum the metrics are ratios of (the
        states are their totals; :meth:`grouped` totals them per series instead)."""
        predicted, target = predicted.detach().double(), target.detach().double()
        if predicted.shape[-1] != len(self.taus) or predicted.shape[:-1] != target.shape:
            raise InputError(
                f"expected quantiles [*{tuple(target.shape)}, {len(self.taus)}], "
                f"got {tuple(predicted.shape)}"
            )
        observed = torch.ones_like(target, dtype=torch.bool) if mask is None else mask.bool()
        weight = observed.double()
        taus = torch.tensor([self.taus[i] for i in self._grid], dtype=torch.float64)
        grid = predicted[..., self._grid]
        loss = pinball(grid, torch.where(observed, target, grid[..., 0]), taus.to(grid.device))
        parts = {"pinball": loss.sum(-1) * weight, "count": weight}
        for i, (lo, hi) in enumerate(self._bounds):
            lower, upper = predicted[..., lo], predicted[..., hi]
            parts[f"covered_{i}"] = ((target >= lower) & (target <= upper) & observed).double()
            parts[f"width_{i}"] = (upper - lower) * weight
        if self._msis is not None and scale is not None:
            lo, hi = self._bounds[self._msis]
            score = interval_score(predicted[..., lo], predicted[..., hi], target, MSIS_LEVEL)
            scale = scale.detach().double().unsqueeze(1).expand_as(score)
            usable = (scale > 0) & observed
            parts["msis_sum"] = torch.where(usable, score / scale.clamp_min(1e-300), 0.0)
            parts["msis_count"] = usable.double()
        return parts

    def update(
        self,
        predicted: Tensor,
        target: Tensor,
        scale: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> None:
        for name, part in self.contributions(predicted, target, scale, mask).items():
            setattr(self, name, getattr(self, name) + part.sum())

    def compute(self) -> dict[str, Tensor]:
        return self.ratios({name: getattr(self, name) for name in self._sums})

    def grouped(
        self,
        group: Tensor,
        n_groups: int,
        predicted: Tensor,
        target: Tensor,
        scale: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """The metrics of each group ``[n_groups]`` (``group``: each element's, ``[B, S, N]``),
        e.g. of every series; NaN where a group has no observed element."""
        return self.ratios(self.group_totals(group, n_groups, predicted, target, scale, mask))

    def group_totals(
        self,
        group: Tensor,
        n_groups: int,
        predicted: Tensor,
        target: Tensor,
        scale: Tensor | None = None,
        mask: Tensor | None = None,
        totals: dict[str, Tensor] | None = None,
    ) -> dict[str, Tensor]:
        """The totals of :meth:`contributions` per group ``[n_groups]`` behind
        :meth:`grouped`, added in place to ``totals`` (those of the windows before: element by
        element, in order, so that windows given in parts total exactly as in one go)."""
        index = group.reshape(-1).long()
        totals = {} if totals is None else totals
        for name, part in self.contributions(predicted, target, scale, mask).items():
            if name not in totals:
                totals[name] = torch.zeros(n_groups, dtype=torch.float64)
            totals[name].index_add_(0, index, part.reshape(-1))
        totals.setdefault("msis_count", torch.zeros(n_groups, dtype=torch.float64))
        return totals

    def ratios(self, totals: dict[str, Tensor]) -> dict[str, Tensor]:
        """The metrics from the totals of :meth:`contributions` (scalars, or one per group)."""
        count = totals["count"]
        result = {"crps": 2.0 * totals["pinball"] / (count * len(self._grid))}
        for i, level in enumerate(self.levels):
            name = level_name(level)
            result[f"coverage_{name}"] = totals[f"covered_{i}"] / count
            result[f"width_{name}"] = totals[f"width_{i}"] / count
        if bool((totals["msis_count"] > 0).any()):
            result["msis"] = totals["msis_sum"] / totals["msis_count"]
        return result
