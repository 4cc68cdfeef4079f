"""Adaptive conformal inference (ACI; Gibbs and Candès, NeurIPS 2021) over a sequence of
forecast windows.

Split conformal assumes the calibration windows and the forecast windows are exchangeable.
When the errors drift (the validation period of ETTh1 is harder than its test period), its
coverage drifts with them. ACI keeps the calibration scores but moves the level each interval
is read at: after every outcome it sees, the miss rate ``alpha`` of step ``h`` of series ``j``
is nudged by ``rate * (alpha_nominal - miss)``, so that a run of misses widens the intervals
and a run of hits narrows them, and coverage over the sequence tends to the nominal level.

Outcomes arrive when they are observed: the target of step ``h`` of the window whose first
target is row ``o`` is known to the windows whose look-back ends at or after row ``o + h``,
so a window's intervals never depend on a value after its origin (delayed feedback, as in a
rolling deployment). The working level is kept in ``[0, 1]``; at 0 the interval is the
largest calibration score (ACI proper would make it infinite; tsfm reports no infinite bound)
and at 1 it is the point forecast. Missing targets teach nothing. ``rate=0`` is split
conformal exactly. Gibbs and Candès use ``rate = 0.005``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor

from tsfm.errors import InputError
from tsfm.training.scoring import tau_level


def check_rate(rate: object, name: str = "conformal.adaptive_rate") -> None:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise InputError(
            f"{name} must be a number in [0, 1] (0: split conformal; 0.005 as Gibbs and "
            f"Candès), got {rate!r}"
        )


CHUNK = 256  # windows per yielded block: memory stays bounded on long test splits


def interval_levels(taus: Sequence[float]) -> list[float]:
    """The levels (percent) whose bounds are ``taus``, sorted, the median's 0 left out: what
    ACI tracks a level for."""
    return sorted({tau_level(tau) for tau in taus} - {0.0})


def aci_radii(*args, **options) -> Tensor:
    """Radii ``[W, L, S, N]``: the blocks of :func:`aci_blocks` (same arguments), joined."""
    return torch.cat([radii for _, radii in aci_blocks(*args, **options)])


def aci_blocks(
    sorted_scores: Tensor,
    scores: Tensor,
    origins: Tensor,
    levels: Sequence[float],
    rate: float,
    observed: Tensor | None = None,
    chunk: int = CHUNK,
    counts: Tensor | None = None,
) -> Iterator[tuple[int, Tensor]]:
    """``(first window, radii [c, L, S, N])`` of the ``levels`` % intervals, ``chunk``
    windows at a time, for windows in increasing origin order, nested across the levels
    (:func:`nested`).

    Args:
        sorted_scores: calibration scores sorted along dim 0, ``[n, S, N]`` (or ``[n, S, 1]``).
        scores: the windows' own nonconformity scores ``[W, S, N]`` (same definition), each
            used only once its target is observed.
        origins: row of each window's first target ``[W]``, increasing.
        levels: interval levels in percent, each in (0, 100).
        rate: the step size ``gamma``.
        observed: ``[W, S, N]``, False where the target is missing.
        counts: observed calibration scores of each interval ``[S, N]`` (or ``[S, 1]``;
            missing ones are NaN, sorted last); None: all ``n`` are.
    """
    n_windows, steps, series = scores.shape
    if origins.ndim != 1 or len(origins) != n_windows:
        raise InputError(f"origins must be [{n_windows}], got {tuple(origins.shape)}")
    if n_windows > 1 and not bool((origins[1:] > origins[:-1]).all()):
        raise InputError("adaptive conformal needs windows in increasing origin order")
    n, n_levels = sorted_scores.shape[0], len(levels)
    table = sorted_scores.double().permute(1, 2, 0).expand(n_levels, steps, series, n)
    n_scores = torch.full((1, 1), n) if counts is None else counts
    n_scores = n_scores.double().expand(n_levels, steps, series)
    nominal = torch.tensor([1.0 - v / 100.0 for v in levels], dtype=torch.float64)
    nominal = nominal.view(-1, 1, 1)
    alpha = nominal.expand(-1, steps, series).clone()  # [L, S, N]
    if observed is None:
        observed = torch.ones_like(scores, dtype=torch.bool)
    step_ids = torch.arange(steps)
    # known[w, h]: how many windows have their step-h outcome observed before window w
    known = torch.searchsorted(origins, origins[:, None] - step_ids[None, :])
    # running counts of misses and of observed outcomes, kept for the windows still waiting
    # for an outcome only; an outcome not observed counts in neither, so it moves nothing
    ring = int((torch.arange(n_windows) - known[:, -1]).max()) + 2 if n_windows else 1
    misses = torch.zeros(ring, n_levels, steps, series, dtype=torch.float64)
    seen = torch.zeros(ring, steps, series, dtype=torch.float64)
    before = torch.zeros(steps, dtype=torch.long)
    for start in range(0, n_windows, chunk):
        block = torch.empty(min(chunk, n_windows - start), n_levels, steps, series).double()
        for w in range(start, start + len(block)):
            now = known[w]
            if rate and bool((now > before).any()):
                arrived = seen[now % ring, step_ids] - seen[before % ring, step_ids]
                gained = misses[now % ring, :, step_ids] - misses[before % ring, :, step_ids]
                step = rate * (arrived.unsqueeze(0) * nominal - gained.permute(1, 0, 2))
                alpha = (alpha + step).clamp(0.0, 1.0)
            before = now
            rank = torch.ceil((n_scores + 1) * (1.0 - alpha) - 1e-9).clamp(min=0)
            rank = torch.minimum(rank, n_scores).long()
            picked = torch.gather(table, 3, (rank - 1).clamp(min=0).unsqueeze(-1))[..., 0]
            radius = torch.where(rank > 0, picked, torch.zeros((), dtype=torch.float64))
            block[w - start] = radius
            miss = (scores[w] > radius) & observed[w]  # a missing target moves nothing
            misses[(w + 1) % ring] = misses[w % ring] + miss.double()
            seen[(w + 1) % ring] = seen[w % ring] + observed[w].double()
        yield start, nested(block, levels)


def nested(radii: Tensor, levels: Sequence[float]) -> Tensor:
    """``radii [c, L, S, N]`` made monotone in the level (a running maximum in increasing
    level order): each level's alpha moves on its own, so a lower level's radius can exceed a
    higher one's; the reported bounds are rearranged, the recursions are left as they are."""
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    out = radii.clone()
    out[:, order] = radii[:, order].cummax(dim=1).values
    return out


def adaptive_quantiles(
    conformal: Any, point: Tensor, target: Tensor, taus: Sequence[float], *args, **options
) -> Tensor:
    """Quantiles ``[W, S, N, Q]`` at ``taus``: the blocks of :func:`adaptive_blocks` (same
    arguments) put back in the windows' order."""
    out = torch.empty(*point.shape, len(taus), dtype=torch.float64)
    for members, quantiles in adaptive_blocks(conformal, point, target, taus, *args, **options):
        out[members] = quantiles
    return out


def adaptive_blocks(
    conformal: Any,
    point: Tensor,
    target: Tensor,
    taus: Sequence[float],
    origins: Tensor,
    *,
    observed: Tensor | None = None,
    columns: Tensor | None = None,
    spread: Tensor | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """``(windows [c], quantiles [c, S, N, Q])`` at ``taus`` of the point forecasts ``point
    [W, S, N]`` under ACI at ``conformal.adaptive_rate``, from the targets ``[W, S, N]``
    (scaled), a block of windows at a time (float64, on the CPU).

    ``origins [W]`` need not be sorted; windows are grouped by ``columns [W]`` (the series of
    channel-independent samples, each its own sequence) and ordered by origin within a group.
    ``spread [W, 1, N]``: the look-back spread, required with normalised scores.
    """
    point, origins = point.detach().cpu(), origins.cpu()
    scores, observed, scale = window_scores(conformal, point, target, observed, spread)
    levels = interval_levels(taus)
    for level in levels:
        conformal.radius(level)  # refuses a level the calibration cannot give
    groups = torch.zeros(len(origins), dtype=torch.long) if columns is None else columns.cpu()
    for group in groups.unique().tolist():
        members = (groups == group).nonzero()[:, 0]
        members = members[torch.argsort(origins[members], stable=True)]
        table, counts = conformal.sorted_scores, conformal.counts
        if columns is not None and table.shape[2] > 1:
            table, counts = table[:, :, group : group + 1], counts[:, group : group + 1]
        blocks = aci_blocks(
            table,
            scores[members],
            origins[members],
            levels,
            conformal.adaptive_rate,
            observed[members],
            counts=counts,
        )
        for start, radii in blocks:
            chosen = members[start : start + len(radii)]
            if conformal.normalized:
                radii = radii * scale[chosen].unsqueeze(1)
            centre = point[chosen].double()
            out = []
            for tau in taus:
                level = tau_level(tau)
                radius = radii[:, levels.index(level)] if level else torch.zeros_like(centre)
                out.append(centre + radius if tau >= 0.5 else centre - radius)
            yield chosen, torch.stack(out, dim=-1)


def window_scores(
    conformal: Any,
    point: Tensor,
    target: Tensor,
    observed: Tensor | None = None,
    spread: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """The windows' nonconformity scores ``[W, S, N]`` (float64, on the CPU; 0 where not
    observed), where they are observed (``observed`` and a finite target), and the scale they
    were divided by (the look-back spread ``[W, 1, N]`` with normalised scores, else 1): the
    one definition of an outcome for ``evaluate``'s windows and ``predict``'s history."""
    if conformal.normalized and spread is None:
        raise InputError("normalised conformal scores need the look-back spread")
    one = torch.ones(1, dtype=torch.float64)
    scale = spread.detach().double().cpu() if conformal.normalized else one
    scores = (target.detach().cpu().double() - point.detach().cpu().double()).abs() / scale
    if observed is None:
        observed = torch.ones_like(scores, dtype=torch.bool)
    observed = observed.bool().cpu() & torch.isfinite(scores)
    return torch.nan_to_num(scores, nan=0.0, posinf=0.0), observed, scale


class SequentialTestPass:
    """A test pass's scaled forecasts under adaptive conformal, kept until the pass ends: a
    window's interval depends on the outcomes of earlier windows, which may sit in another
    batch (or, under DDP, on another rank), so they are scored together at the end."""

    SAMPLE_KEYS = ("variate",)

    def __init__(self) -> None:
        self.parts: list[dict[str, Tensor]] = []

    def add(
        self,
        point: Tensor,
        batch: dict,
        spread: Tensor,
        scale: Tensor | None,
        stride: int,
        kept: dict[str, Tensor] | None = None,
    ) -> None:
        """Keeps a batch's windows; ``scale``: MSIS's, None where nothing is scored;
        ``kept``: more per-window values to keep as they are (the targets as read)."""
        part = {
            "point": point.detach().float(),
            "y": batch["y"].detach().float(),
            "spread": spread.detach().float(),
            "origin": batch["index"].detach() * stride,
        }
        if scale is not None:
            part["scale"] = scale.detach().float()
        if "y_mask" in batch:
            part["mask"] = batch["y_mask"].detach().bool()
        part.update({key: batch[key].detach() for key in self.SAMPLE_KEYS if key in batch})
        part.update({key: value.detach() for key, value in (kept or {}).items()})
        self.parts.append(part)

    def take(self, gather) -> dict[str, Tensor] | None:
        """Every collected window, concatenated (and passed through ``gather``, which joins
        the ranks' shares under DDP); None when nothing was collected."""
        parts, self.parts = self.parts, []
        if not parts:
            return None
        return {key: gather(torch.cat([p[key] for p in parts])) for key in parts[0]}
