"""Split-conformal prediction intervals for any trained point model.

Calibration: the model forecasts ``k`` rolling-origin windows it did not train on (the last
``k`` windows of the validation data, ``step`` rows apart; ``step`` defaults to the horizon,
or a few rows less where the horizon would start every window at the same point of the
season, :mod:`tsfm.training.calibration_step`), and keeps the nonconformity score of every
value: ``|y - y_hat|`` in the scaled space (the data's standardisation), or with
``normalize`` that score divided by the window's look-back spread (the statistic of the
models' instance normalisation), so that intervals widen and narrow with each window's
recent variability (locally adaptive conformal prediction, Lei et al. 2018). The scores
keep their residuals' signs (:attr:`ConformalScores.residuals`), whole windows of which
sample paths resample (:mod:`tsfm.estimator.sample_paths`); the calibration itself is
:func:`tsfm.training.conformal_plan.calibrate`.

Intervals: the ``L`` % interval of horizon step ``h`` of series ``j`` is ``y_hat +- r``, with
``r`` the ``ceil((n + 1) L / 100)``-th smallest of ``n`` scores: split conformal's
finite-sample rank, which covers a new window with probability at least ``L`` % when windows
are exchangeable. The scores of step ``h`` are those of series ``j`` alone (``n = k``) when
``k >= PER_SERIES_MIN`` (19, the least ``k`` for which a 95 % interval exists per series) or
there is one series, and otherwise pooled over the series (``n = k * N``; scaled scores make
series of different scales comparable). A target missing in a calibration window (data with
masks) gives a NaN score, which no interval reads: ``n`` counts each interval's observed
scores. A level whose rank exceeds ``n`` is refused (before training, by
:mod:`tsfm.training.conformal_plan`). The
quantile at level ``tau`` is ``y_hat - r(1 - 2 tau)`` below the median and ``y_hat +
r(2 tau - 1)`` above it, so CRPS can be scored on any grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from tsfm.errors import InputError
from tsfm.training.adaptive_conformal import check_rate
from tsfm.training.scoring import level_name, tau_level

PER_SERIES_MIN = 19


@dataclass
class ConformalConfig:
    """Conformal intervals for a point model (``conformal.`` in the run config; Python:
    ``Forecaster(conformal_windows=k, conformal_step=..., conformal_normalize=...,
    conformal_adaptive_rate=...)``).

    Attributes:
        windows: calibration windows ``k`` (0: no conformal intervals). The command line
            calibrates on the validation split after training and reports test coverage,
            width, CRPS and MSIS; 19 windows are the least for a 95 % interval per series.
        step: rows between the origins of consecutive calibration windows, kept as given;
            null: the horizon, or the step up to half a season shorter that spreads the
            origins over the season (:mod:`tsfm.training.calibration_step`).
        normalize: divide every score by the window's look-back spread (locally adaptive).
        adaptive_rate: step size ``gamma`` of adaptive conformal inference over a sequence of
            windows (the test split, ``evaluate``); 0: split conformal. See
            :mod:`tsfm.training.adaptive_conformal`.
    """

    windows: int = 0
    step: int | None = None
    normalize: bool = False
    adaptive_rate: float = 0.0


def check_conformal(
    windows: Any, step: Any, rate: Any = 0.0, *, prefix: str = "conformal."
) -> None:
    if isinstance(windows, bool) or not isinstance(windows, int) or windows < 0:
        raise InputError(f"{prefix}windows must be a whole number >= 0, got {windows!r}")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise InputError(f"{prefix}step must be a positive whole number or null, got {step!r}")
    check_rate(rate, f"{prefix}adaptive_rate")
    if rate and not windows:
        raise InputError(
            f"{prefix}adaptive_rate={rate} adapts conformal intervals, and there are none: "
            f"set {prefix}windows (calibration windows) too, or leave the rate at 0"
        )


class TooFewScores(InputError):
    """A refusal of intervals wider than the calibration scores give; ``scores``: how many
    the fewest-scored interval has (a caller that chose the levels may narrow them to it)."""

    def __init__(self, message: str, scores: int):
        super().__init__(message)
        self.scores = scores


def needed_windows(level: float) -> int:
    """The least ``n`` with ``ceil((n + 1) L / 100) <= n``."""
    alpha = 1.0 - level / 100.0
    return max(1, math.ceil(level / 100.0 / alpha - 1e-9))


def pooling(windows: int, n_series: int) -> tuple[bool, int]:
    """Whether scores stay per series, and how many scores each interval is taken from."""
    per_series = windows >= PER_SERIES_MIN or n_series == 1
    return per_series, windows if per_series else windows * n_series


def finite_sample_rank(counts: Tensor, level: float) -> Tensor:
    """``ceil((n + 1) L / 100)`` for each count ``n`` (above ``n``: no finite interval)."""
    return torch.ceil((counts.double() + 1) * level / 100.0 - 1e-9).long()


class ConformalScores:
    """Calibration scores ``[n, S, C]`` (windows, horizon steps, series) and the intervals
    they give; see the module docstring. ``pooled_series``: where each of the ``n`` windows is
    one of that many independent series' (panels, M4; ``C = 1``), for messages; 0 otherwise.
    ``signs``: the residuals' signs (-1, 0, +1 per score), or None."""

    signs: Tensor | None = None  # scores pickled before the signs were kept have none

    def __init__(
        self,
        scores: Tensor,
        normalized: bool = False,
        adaptive_rate: float = 0.0,
        pooled_series: int = 0,
        signs: Tensor | None = None,
    ):
        scores = torch.as_tensor(scores, dtype=torch.float32).detach().cpu()
        if scores.ndim != 3 or scores.shape[0] < 1:
            raise InputError(
                f"conformal scores must be [windows, horizon, series], got {scores.shape}"
            )
        if torch.isinf(scores).any() or (scores < 0).any():
            raise InputError("conformal scores must be finite and >= 0 (NaN: a missing target)")
        check_rate(adaptive_rate, "adaptive_rate")
        self.scores, self.normalized = scores, bool(normalized)
        self.adaptive_rate = float(adaptive_rate)
        self.pooled_series = int(pooled_series)
        self.signs = None if signs is None else _checked_signs(signs, scores)
        n, steps, series = scores.shape
        self.per_series = pooling(n, series)[0]
        pooled = scores if self.per_series else scores.permute(0, 2, 1).reshape(-1, steps, 1)
        self._sorted = pooled.sort(dim=0).values  # [n_eff, S, C or 1]; NaN (missing) last
        self._counts = (~pooled.isnan()).sum(dim=0)  # observed scores of each interval
        self._radius: dict[float, Tensor] = {}

    @classmethod
    def from_residuals(
        cls, residuals: Tensor, normalized: bool = False, rate: float = 0.0, pooled: int = 0
    ) -> ConformalScores:
        """The scores of signed residuals ``[n, S, C]`` (``y - y_hat``, scaled or normalised;
        NaN: a missing target), keeping their signs for :meth:`residuals`."""
        residuals = torch.as_tensor(residuals, dtype=torch.float32).detach().cpu()
        signs = torch.nan_to_num(torch.sign(residuals)).to(torch.int8)
        return cls(residuals.abs(), normalized, rate, pooled, signs)

    @property
    def residuals(self) -> Tensor | None:
        """The signed calibration residuals ``[n, S, C]`` (NaN: a missing target), whole
        vectors over the horizon steps, which sample paths resample; None for scores saved
        without their signs (before tsfm kept them)."""
        return None if self.signs is None else self.scores * self.signs.float()

    @property
    def sorted_scores(self) -> Tensor:
        """The scores each interval is read from, sorted: ``[n, S, C]`` (``C = 1`` pooled),
        missing ones (NaN) last."""
        return self._sorted

    @property
    def counts(self) -> Tensor:
        """How many observed scores each interval is read from, ``[S, C]``."""
        return self._counts

    @property
    def n_windows(self) -> int:
        return self.scores.shape[0]

    def radius(self, level: float) -> Tensor:
        """Half-width of the ``level`` % interval, ``[S, C]`` (``[S, 1]`` when pooled): the
        ``ceil((n + 1) L / 100)``-th smallest of each interval's ``n`` observed scores."""
        if level not in self._radius:
            rank = finite_sample_rank(self._counts, level)
            if (rank > self._counts).any():
                self._refuse(level)
            picked = self._sorted.gather(0, (rank - 1).clamp(min=0).unsqueeze(0))[0]
            self._radius[level] = torch.where(rank > 0, picked, torch.zeros(()))
        return self._radius[level]

    def _refuse(self, level: float) -> None:
        n, series, owners = self.n_windows, self.scores.shape[2], self.pooled_series
        fewest, needed = int(self._counts.min()), needed_windows(level)
        missing = "" if fewest == pooling(n, series)[1] else " observed (targets missing in others)"
        if owners > 1:  # each window is one series': k windows of each, in one pool
            where = f"pooled over the {owners} series"
            windows = f"{n // owners} windows of each" if n % owners == 0 else f"{n} windows"
            each = -(-needed // owners)
            enough = f"; {each} of each give {each * owners}"
        else:
            where = "per series" if self.per_series else f"pooled over the {series} series"
            windows, enough = f"{n} windows", ""
        raise TooFewScores(
            f"a {level_name(level)} % conformal interval needs at least {needed} calibration "
            f"scores {where}; {windows} give {fewest}{missing}: calibrate on more windows "
            f"(conformal.windows, conformal_windows{enough}) or ask for a lower level",
            fewest,
        )

    def quantiles(
        self,
        point: Tensor,
        taus: Sequence[float],
        columns: Tensor | None = None,
        spread: Tensor | None = None,
        radius_of: Callable[[float], Tensor] | None = None,
    ) -> Tensor:
        """Quantiles ``[B, S, N, Q]`` around the point forecast ``[B, S, N]``.

        ``columns [B]``: the series of each sample when samples hold one series each
        (channel-independent batches); ``spread [B, 1, N]``: the look-back spread, required
        with normalised scores; ``radius_of(level)``: the radius ``[S, C]`` to read each level
        at instead of :meth:`radius` (adaptive conformal's, for a forecast after a history).
        """
        out = []
        for tau in taus:
            level = tau_level(tau)
            radius = self._for_batch((radius_of or self.radius)(level), point, columns)
            if self.normalized:
                if spread is None:
                    raise InputError("normalised conformal scores need the look-back spread")
                radius = radius * spread
            out.append(point + radius if tau >= 0.5 else point - radius)
        return torch.stack(out, dim=-1)

    def _for_batch(self, radius: Tensor, point: Tensor, columns: Tensor | None) -> Tensor:
        radius = radius.to(point.device, point.dtype)
        n_series = radius.shape[1]
        if columns is not None and n_series > 1:
            return radius[:, columns.to(point.device)].T.unsqueeze(-1)  # [B, S, 1]
        if n_series not in (1, point.shape[-1]):
            raise InputError(
                f"conformal scores were calibrated for {n_series} series, the forecast has "
                f"{point.shape[-1]}; per-series intervals exist only for the calibrated series"
            )
        return radius.unsqueeze(0)

    def state_dict(self) -> dict[str, Tensor]:
        """Tensors only, so ``torch.load(weights_only=True)`` reads it back."""
        return {
            "scores": self.scores.clone(),
            "normalized": torch.tensor(self.normalized),
            "adaptive_rate": torch.tensor(self.adaptive_rate, dtype=torch.float64),
            "pooled_series": torch.tensor(self.pooled_series),
            **({} if self.signs is None else {"signs": self.signs.clone()}),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Tensor]) -> ConformalScores:
        rate = float(state["adaptive_rate"]) if "adaptive_rate" in state else 0.0  # older saves
        owners = int(state["pooled_series"]) if "pooled_series" in state else 0
        signs = state.get("signs")  # older saves: the scores without their signs
        return cls(state["scores"], bool(state["normalized"]), rate, owners, signs)


def _checked_signs(signs: Tensor, scores: Tensor) -> Tensor:
    """The residuals' signs, -1, 0 or +1 per score."""
    signs = torch.as_tensor(signs).detach().cpu()
    if signs.shape != scores.shape:
        shapes = f"{tuple(signs.shape)} and {tuple(scores.shape)}"
        raise InputError(f"conformal residual signs and scores differ in shape: {shapes}")
    return signs.sign().to(torch.int8)


def supports(n: int, level: float) -> bool:
    """Whether ``n`` scores give a finite ``level`` % interval."""
    return math.ceil((n + 1) * level / 100.0 - 1e-9) <= n
