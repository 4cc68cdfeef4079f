"""Output heads: what a model's outputs mean, chosen by the loss, for every registered model.

Every registered model ends in a linear map onto ``pred_len`` steps and de-normalises its
output, so a head needs no change to the models: the training module builds the model with
``pred_len * K`` steps, and the head reads its output ``[B, S * K, N]`` as ``K`` blocks of
``S`` steps (output ``k`` is steps ``k * S .. (k + 1) * S - 1``), i.e. ``[B, S, N, K]``, and
turns them into the forecast's parameters ``[B, S, N, K]``:

==========================  ==================  ==============================  ================
loss                        K                   parameters ``[..., K]``         point forecast
==========================  ==================  ==============================  ================
``mse mae huber smape``     1                   the forecast                    itself
``quantile``                ``len(quantiles)``  quantiles, ascending            the median (0.5)
``normal``                  2                   location, scale                 the location
``student_t``               3                   location, scale, degrees        the location
==========================  ==================  ==============================  ================

The point forecast is what the error metrics (MSE, MAE), ``predict`` and plots use. The
quantile head sorts its ``K`` outputs (a monotone rearrangement), so its quantiles never
cross whatever the network outputs; distribution quantiles are monotone by construction.
The training loss is the multi-quantile pinball loss, the distributions' negative
log-likelihood (see :mod:`tsfm.training.distributions` for the parametrisation), or the point
loss; validation's ``val/loss`` is the same function.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from tsfm.errors import InputError
from tsfm.training import distributions as dist
from tsfm.training.losses import LOSSES
from tsfm.training.scoring import (
    DEFAULT_QUANTILES,
    check_quantiles,
    index_of,
    level_bounds,
    level_name,
    lookback_spread,
    pinball,
    run_levels,
)

PROBABILISTIC_LOSSES = ("quantile", "normal", "student_t")
KNOWN_LOSSES = tuple(sorted([*LOSSES, *PROBABILISTIC_LOSSES]))
HEAD_PARAMS = "head_params"  # the key of a probabilistic head's parameters in ModelOutput.extras


def _masked_mean(values: Tensor, mask: Tensor | None) -> Tensor:
    """Mean over every element; masked-out ones count as zero (the losses' convention)."""
    if mask is None:
        return values.mean()
    while mask.dim() < values.dim():
        mask = mask.unsqueeze(-1)
    return (values * mask).mean()


class Head:
    """Base: ``size`` outputs per step; subclasses say what they mean."""

    name: str = "point"
    size: int = 1
    probabilistic: bool = True

    def split(self, raw: Tensor) -> Tensor:
        """``[B, S * K, N]`` -> ``[B, S, N, K]`` (output ``k`` is the ``k``-th block of steps)."""
        batch, steps, n_vars = raw.shape
        return raw.reshape(batch, self.size, steps // self.size, n_vars).permute(0, 2, 3, 1)

    def params(self, raw: Tensor, x: Tensor) -> Tensor:
        """The forecast's parameters ``[B, S, N, K]`` from the model's output and look-back."""
        raise NotImplementedError

    def point(self, params: Tensor) -> Tensor:
        return params[..., 0]

    def loss(self, params: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        raise NotImplementedError

    def quantiles(self, params: Tensor, taus: Sequence[float]) -> Tensor:
        """Quantiles ``[B, S, N, Q]`` at ``taus``."""
        raise NotImplementedError


class PointHead(Head):
    """One output per step, trained with a point loss (``mse``, ``mae``, ``huber``, ``smape``)."""

    probabilistic = False

    def __init__(self, loss: str):
        self.name, self.loss_fn = loss, LOSSES[loss]

    def params(self, raw: Tensor, x: Tensor) -> Tensor:
        return raw.unsqueeze(-1)

    def loss(self, params: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.loss_fn(params[..., 0], target, mask)

    def quantiles(self, params: Tensor, taus: Sequence[float]) -> Tensor:
        raise InputError(
            f"a model trained with loss={self.name} forecasts points only; for intervals train "
            f"with loss in {list(PROBABILISTIC_LOSSES)} or calibrate conformal intervals "
            "(conformal.windows on the command line, conformal_windows in Python)"
        )


class QuantileHead(Head):
    """``len(quantiles)`` outputs per step, sorted, trained with the mean pinball loss."""

    name = "quantile"

    def __init__(self, quantiles: Sequence[float]):
        self.levels = tuple(quantiles)
        self.size = len(self.levels)
        self.median = index_of(self.levels, 0.5)
        self._taus = torch.tensor(self.levels)

    def params(self, raw: Tensor, x: Tensor) -> Tensor:
        return torch.sort(self.split(raw.float()), dim=-1).values

    def point(self, params: Tensor) -> Tensor:
        return params[..., self.median]

    def loss(self, params: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        taus = self._taus.to(params.device, params.dtype)
        return _masked_mean(pinball(params, target.to(params.dtype), taus), mask)

    def quantiles(self, params: Tensor, taus: Sequence[float]) -> Tensor:
        missing = [t for t in taus if not any(abs(t - q) < 1e-9 for q in self.levels)]
        if missing:
            raise InputError(
                f"the quantile model predicts the quantiles {list(self.levels)}, not {missing}; "
                "add them to quantiles (an L % interval needs (1 - L/100)/2 and (1 + L/100)/2)"
            )
        return params[..., [index_of(self.levels, t) for t in taus]]


class NormalHead(Head):
    """Location and scale per step, trained by the Normal negative log-likelihood."""

    name, size = "normal", 2

    def params(self, raw: Tensor, x: Tensor) -> Tensor:
        out = self.split(raw.float())
        scale = dist.scale_from(out[..., 0], out[..., 1])
        return torch.stack([out[..., 0], scale], dim=-1)

    def loss(self, params: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        nll = dist.normal_nll(params[..., 0], params[..., 1], target.to(params.dtype))
        return _masked_mean(nll, mask)

    def quantiles(self, params: Tensor, taus: Sequence[float]) -> Tensor:
        levels = torch.tensor(list(taus), device=params.device)
        return dist.normal_quantiles(params[..., 0], params[..., 1], levels)


class StudentTHead(Head):
    """Location, scale and degrees of freedom per step, trained by the Student-t NLL."""

    name, size = "student_t", 3

    def params(self, raw: Tensor, x: Tensor) -> Tensor:
        out, spread = self.split(raw.float()), lookback_spread(x)
        scale = dist.scale_from(out[..., 0], out[..., 1])
        df = dist.df_from(out[..., 0], out[..., 2], spread)
        return torch.stack([out[..., 0], scale, df], dim=-1)

    def loss(self, params: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        loc, scale, df = params.unbind(-1)
        return _masked_mean(dist.student_t_nll(loc, scale, df, target.to(params.dtype)), mask)

    def quantiles(self, params: Tensor, taus: Sequence[float]) -> Tensor:
        loc, scale, df = params.unbind(-1)
        return dist.student_t_quantiles(loc, scale, df, torch.tensor(list(taus)))


# count distributions other libraries offer: not here (tsfm.training.nonnegative says why)
COUNT_LOSSES = {"poisson", "negative_binomial", "negbin", "negbinomial", "nbinom", "tweedie"}
COUNT_HINT = (
    ". Count distributions are not offered (the models forecast standardised values, where "
    "a count's support has no meaning); for counts, demand or other values that cannot go "
    "below zero, nonnegative=True (or a list of targets) floors the forecasts, interval "
    "bounds, quantiles and sample paths at zero"
)


def make_head(
    loss: str,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    levels: Sequence[float] | None = None,
) -> Head:
    """The head of ``loss``, with ``quantiles`` and ``levels`` checked (ValueError naming the
    config keys, which are also the Forecaster's argument names); ``levels=None``: those
    :func:`~tsfm.training.scoring.default_levels` gives."""
    quantiles = check_quantiles(quantiles)
    levels = run_levels(loss, quantiles, levels)
    if loss in LOSSES:
        return PointHead(loss)
    if loss == "normal":
        return NormalHead()
    if loss == "student_t":
        return StudentTHead()
    if loss != "quantile":
        count = str(loss).lower().replace("-", "_") in COUNT_LOSSES
        hint = COUNT_HINT if count else ""
        raise InputError(f"unknown loss '{loss}'; choose one of {list(KNOWN_LOSSES)}{hint}")
    if not any(abs(q - 0.5) < 1e-9 for q in quantiles):
        raise InputError(
            f"loss=quantile needs the median 0.5 in quantiles (it is the point forecast); "
            f"quantiles={list(quantiles)}"
        )
    for level in levels:
        needed = [b for b in level_bounds(level) if not any(abs(b - q) < 1e-9 for q in quantiles)]
        if needed:
            raise InputError(
                f"levels has {level_name(level)}, whose interval needs the quantiles {needed}, "
                f"which quantiles={list(quantiles)} lacks; add them to quantiles or drop the level"
            )
    return QuantileHead(quantiles)


def head_dims(dims: dict[str, int], size: int) -> dict[str, int]:
    """The data dimensions a model is built with under a head of ``size`` outputs per step: it
    forecasts ``pred_len * size`` values (read as ``size`` blocks), while its inputs still
    cover the real ``horizon`` (future covariates)."""
    return {**dims, "pred_len": dims["pred_len"] * size, "horizon": dims["pred_len"]}
