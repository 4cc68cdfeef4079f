"""Scores of probabilistic forecasts, and the settings they are scored at.

Quantile levels ``tau`` are fractions in (0, 1) (config key and argument ``quantiles``);
interval levels are percentages in (0, 100) (``levels``): the ``L`` % interval runs from the
``(1 - L/100) / 2`` quantile to the ``(1 + L/100) / 2`` quantile (80 -> 0.1 .. 0.9).

- pinball loss of a quantile ``q`` at level ``tau``: ``max(tau (y - q), (tau - 1) (y - q))``;
- CRPS, quantile-weighted: twice the mean pinball loss over a grid of levels. On a grid whose
  levels average 0.5 (a symmetric grid, such as the default) a point forecast, every quantile
  equal, scores exactly its absolute error;
- coverage of an interval: the share of targets inside it; width: its mean length;
- MSIS (the M4 competition's interval score at level ``1 - a``): the mean over the horizon of
  ``(U - L) + 2/a (L - y) [y < L] + 2/a (y - U) [y > U]``, divided by the in-sample mean absolute
  seasonal difference ``mean_t |x_t - x_{t-m}|`` (lag ``m`` = ``season_length``), as MASE.

MASE's and MSIS's scale (``mase_scale``, :mod:`tsfm.data.seasonal_scales`): ``"lookback"``
(default) over the pairs of observed values ``m`` apart inside each window's look-back (a
look-back of ``m`` steps or fewer has none); ``"history"`` over those of the series' rows
before the window's origin (the convention of M4, neuralforecast's ``mase(train_df=...)``
and darts' ``insample``). Both sum the same terms, in the data modules (the history of the
command line's test windows) as in the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from tsfm.errors import InputError

DEFAULT_QUANTILES = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)
DEFAULT_LEVELS = (80.0, 95.0)
MSIS_LEVEL = 95.0
SPREAD_EPS = 1e-5  # as the models' instance normalisation (tsfm.models.InstanceNorm)


def level_name(level: float) -> str:
    """``80.0 -> "80"``, ``97.5 -> "97.5"``: the level as it appears in keys and columns."""
    return f"{float(level):g}"


def level_bounds(level: float) -> tuple[float, float]:
    """The quantile levels of the ``level`` % central interval."""
    alpha = 1.0 - float(level) / 100.0
    return round(alpha / 2, 12), round(1.0 - alpha / 2, 12)


def tau_level(tau: float) -> float:
    """The interval level (percent) one of whose bounds is the quantile ``tau``: ``|2 tau - 1|
    * 100``, rounded to 9 decimals so that equal levels compare equal (:func:`level_bounds`'
    inverse)."""
    return round(abs(2.0 * tau - 1.0) * 100.0, 9)


def refuse_text(values: Any, name: str) -> None:
    """Numbers written as text in the list ``values`` (``["80"]``) are refused, naming the
    numbers meant, as a single string is (and as numbers as text are everywhere else)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        return
    texts = [v for v in values if isinstance(v, (str, bytes))]
    if texts:
        meant = []
        for v in values:
            try:
                meant.append(f"{float(v):g}")
            except (TypeError, ValueError):
                meant.append("...")
        raise InputError(
            f"{name} holds numbers written as text ({', '.join(repr(v) for v in texts)}): give "
            f"numbers, e.g. {name}=[{', '.join(meant)}]"
        )


def sorted_quantiles(quantiles: Any, name: str = "quantiles") -> Any:
    """A list of quantile levels in increasing order, whatever order it was given in (as
    ``predict(quantiles=...)`` takes them), repeats refused; anything else as given, for
    :func:`check_quantiles` to refuse with its message."""
    refuse_text(quantiles, name)
    try:
        values = [float(q) for q in quantiles]
    except (TypeError, ValueError):
        return quantiles
    refuse_repeats(values, name)
    return sorted(values)


def refuse_repeats(values: Sequence[float], name: str) -> None:
    repeated = sorted({v for v in values if list(values).count(v) > 1})
    if repeated:
        once = sorted(set(values))
        raise InputError(
            f"{name} repeats {', '.join(f'{v:g}' for v in repeated)}: give each level once, "
            f"e.g. {name}=[{', '.join(f'{v:g}' for v in once)}]"
        )


def check_quantiles(quantiles: Sequence[float], *, name: str = "quantiles") -> tuple[float, ...]:
    """``quantiles`` as a tuple of floats, or a ValueError naming the problem and the fix."""
    refuse_text(quantiles, name)
    try:
        values = tuple(float(q) for q in quantiles)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list of numbers in (0, 1), got {quantiles!r}") from None
    if not values:
        raise InputError(f"{name} is empty; give quantile levels in (0, 1), e.g. [0.1, 0.5, 0.9]")
    bad = [q for q in values if not 0.0 < q < 1.0]
    if bad:
        raise InputError(f"{name} must lie strictly between 0 and 1; {bad} do not")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        refuse_repeats(values, name)
        raise InputError(
            f"{name} must be in increasing order, got {list(values)}: give {name}={sorted(values)}"
        )
    alike = [(a, b) for a, b in zip(values, values[1:], strict=False) if f"{a:g}" == f"{b:g}"]
    if alike:
        raise InputError(
            f"{name} {list(alike[0])} would both be named {alike[0][0]:g} (columns -q-"
            f"{alike[0][0]:g}): quantiles must differ in their first 6 significant digits; "
            "keep one of them"
        )
    return values


def check_levels(levels: Sequence[float], *, name: str = "levels") -> tuple[float, ...]:
    """Interval levels in percent, sorted, or a ValueError naming the problem and the fix."""
    refuse_text(levels, name)
    try:
        values = tuple(float(level) for level in levels)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list of percentages, e.g. [80, 95]") from None
    bad = [v for v in values if not 1.0 < v < 100.0]
    if bad:
        raise InputError(
            f"{name} are percentages strictly between 1 and 100 (80 for an 80 % interval, "
            f"not 0.8); {bad} are not"
        )
    if len(set(values)) != len(values):
        raise InputError(f"{name} has repeats: {list(values)}")
    named: dict[str, list[float]] = {}
    for v in values:
        named.setdefault(level_name(v), []).append(v)
    for label, group in named.items():
        if len(group) > 1:
            raise InputError(
                f"{name} {group} would all be named {label!r} (columns -lo-{label}, metrics "
                f"coverage_{label}): levels must differ in their first 6 significant digits; "
                "keep one of them"
            )
    return tuple(sorted(values))


def default_levels(loss: str, quantiles: Sequence[float]) -> tuple[float, ...]:
    """The interval levels scored when none are given (``levels=None``): ``DEFAULT_LEVELS``,
    except for a quantile model, which can only score the central intervals its quantiles
    bound: those of ``DEFAULT_LEVELS`` it has, or, where it has none of them, every central
    interval it has (``[0.1, 0.5, 0.9]`` -> 80; ``[0.25, 0.5, 0.75]`` -> 50; none without a
    pair ``tau``, ``1 - tau``)."""
    if loss != "quantile":
        return DEFAULT_LEVELS
    taus = check_quantiles(quantiles)
    held = sorted(
        {tau_level(t) for t in taus if t < 0.5 and any(math.isclose(1.0 - t, u) for u in taus)}
    )
    defaults = tuple(level for level in DEFAULT_LEVELS if level in held)
    return defaults or tuple(held)


def run_levels(
    loss: str, quantiles: Sequence[float], levels: Sequence[float] | None
) -> tuple[float, ...]:
    """The levels a run scores: ``levels`` as given (checked), or :func:`default_levels`."""
    return default_levels(loss, quantiles) if levels is None else check_levels(levels)


def grid_taus(quantiles: Sequence[float], levels: Sequence[float]) -> tuple[float, ...]:
    """Every quantile level a scorer needs: the CRPS grid and the bounds of each interval."""
    bounds = [b for level in levels for b in level_bounds(level)]
    return tuple(sorted({round(float(t), 12) for t in (*quantiles, *bounds)}))


def index_of(taus: Sequence[float], tau: float) -> int:
    for i, t in enumerate(taus):
        if math.isclose(t, tau, abs_tol=1e-9):
            return i
    raise KeyError(tau)


def pinball(quantiles: Tensor, target: Tensor, taus: Tensor) -> Tensor:
    """Elementwise pinball loss of ``quantiles [..., Q]`` at ``taus [Q]`` for ``target [...]``."""
    error = target.unsqueeze(-1) - quantiles
    return torch.maximum(taus * error, (taus - 1.0) * error)


def lookback_spread(x: Tensor) -> Tensor:
    """Per-sample, per-variate spread of the look-back ``x [B, L, N]`` -> ``[B, 1, N]``:
    ``sqrt(var + eps)``, the statistic the models' instance normalisation divides by."""
    x = x.float()
    centred = x - x.mean(1, keepdim=True)
    return torch.sqrt(centred.square().mean(1, keepdim=True) + SPREAD_EPS)


MASE_SCALES = ("lookback", "history")


def check_mase_scale(mase_scale: str, *, name: str = "mase_scale") -> str:
    """``mase_scale`` if it is one of :data:`MASE_SCALES`, else a ValueError with the fix."""
    if mase_scale not in MASE_SCALES:
        raise InputError(
            f"{name}={mase_scale!r}: use 'lookback' (MASE's and MSIS's scale from each "
            "window's look-back, the default) or 'history' (from the series' rows before each "
            "window's origin, as M4, neuralforecast and darts)"
        )
    return mase_scale


def interval_score(lower: Tensor, upper: Tensor, target: Tensor, level: float) -> Tensor:
    """Elementwise interval (Winkler) score of the ``level`` % interval: MSIS before scaling."""
    alpha = 1.0 - level / 100.0
    below = (lower - target).clamp(min=0)
    above = (target - upper).clamp(min=0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def smape_terms(forecast: Tensor, target: Tensor, error: Tensor | None = None) -> Tensor:
    """Elementwise sMAPE terms in percent, ``200 |y - f| / (|y| + |f|)`` (0 where both are 0):
    the M4 competition's sMAPE (:func:`tsfm.data.m4.metrics.smape`) before the mean;
    ``error``: ``|y - f|`` when the caller has it already. A NaN stays NaN."""
    denominator = forecast.abs().add_(target.abs())
    error = (forecast - target).abs() if error is None else error
    return (error / denominator).masked_fill_(denominator == 0, 0.0).mul_(200.0)


def mape_terms(forecast: Tensor, target: Tensor, error: Tensor | None = None) -> Tensor:
    """Elementwise MAPE terms in percent, ``100 |y - f| / |y|``; NaN where the actual ``y`` is
    0 (undefined there: the caller leaves those out) or missing."""
    error = (forecast - target).abs() if error is None else error
    magnitude = target.abs()
    return (error / magnitude).masked_fill_(magnitude == 0, math.nan).mul_(100.0)


def seasonal_naive(x: Tensor, horizon: int, lag: int) -> Tensor:
    """The seasonal-naive forecast ``[B, H, N]`` from the look-back ``x [B, L, N]``: step
    ``h`` (0-based) repeats ``x[L - lag + (h mod lag)]``, the value one season earlier (lag 1:
    the naive forecast, the last value repeated)."""
    if not 0 < lag <= x.shape[1]:
        raise InputError(f"season_length={lag} must be between 1 and the look-back ({x.shape[1]})")
    steps = torch.arange(horizon, device=x.device) % lag
    return x[:, x.shape[1] - lag + steps]


def seasonal_naive_error(x: Tensor, target: Tensor, lag: int) -> Tensor:
    """``|seasonal_naive(x, H, lag) - target|`` for ``target [B, H, N]``; without gathering
    the forecast when ``lag`` divides ``H`` (the look-back's last season, broadcast)."""
    batch, horizon, n = target.shape
    if horizon % lag or not 0 < lag <= x.shape[1]:
        return (seasonal_naive(x, horizon, lag) - target).abs()
    season = x[:, x.shape[1] - lag :].unsqueeze(1)  # [B, 1, lag, N]
    difference = target.reshape(batch, horizon // lag, lag, n) - season
    return difference.abs_().view(batch, horizon, n)
