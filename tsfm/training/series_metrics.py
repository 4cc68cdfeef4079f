"""Point-forecast accuracy per series, beside seasonal-naive and naive baselines on the very
same windows, accumulated as float64 sums (never dependent on the batch size; summed exactly
across DDP ranks).

For every forecast value ``f`` of a target ``y`` (missing targets left out) of series ``n``:

- ``mae``, ``mse``, ``rmse`` in the units of the values given (original scale: each series in
  its own units, which is why pooling is left to the scaled values);
- ``smape``: the mean of ``200 |y - f| / (|y| + |f|)`` (percent; M4's definition);
- ``mape``: the mean of ``100 |y - f| / |y|`` (percent) over the values whose actual is not 0
  (undefined there: left out; a series whose every actual is 0 has no MAPE). Neither
  percentage means much for a series whose actuals change sign: ``zeros``, ``positive`` and
  ``negative`` count its observed actuals so that callers can say so;
- ``mase``: the mean of ``|y - f| / s``, where ``s`` is by default the window's *look-back*
  in-sample scale, ``mean_t |x_t - x_{t-m}|`` over the observed pairs of the look-back ``x``
  with ``m = season_length`` (as MSIS, :func:`~tsfm.data.seasonal_scales.seasonal_scale`), or the
  scale the caller passes (``mase_scale="history"``: from the series' rows before the
  window's origin, :func:`~tsfm.data.seasonal_scales.history_scale`); windows with ``s = 0`` (no
  seasonal variation, or no pair) or ``s`` no more than the rounding of the window's values
  (:mod:`tsfm.training.flat_windows`) are left out of MASE, and a series whose every window
  has such an ``s`` has no MASE. ``few_pairs`` counts the windows whose look-back scale rests on fewer
  than ``m`` pairs (unstable: one nearly flat look-back dominates the mean);
- ``snaive_mae``, ``snaive_mse``: the errors of the seasonal-naive forecast of the same window
  (:func:`~tsfm.training.scoring.seasonal_naive` with lag ``m``, from the look-back as the
  model saw it: missing inputs filled with the last observation); ``naive_mae``: of the
  naive forecast (the look-back's last value). With ``lookback_observed``, a window whose
  baseline would repeat a value from before the look-back's first observed row (padding
  before a short series' start) has no such baseline and is left out of it
  (:func:`has_baselines`);
- ``skill_mae = 1 - mae / snaive_mae`` and ``skill_mse = 1 - mse / snaive_mse`` over the
  windows with a seasonal-naive forecast: positive when the model beats it, 0 when it ties,
  negative when it loses; undefined when it is exact (``snaive_mae = 0``; a window where it is
  exact up to the rounding of its values counts as exact: :mod:`tsfm.training.flat_windows`)
  or there is none;
  ``skill_mae_naive = 1 - mae / naive_mae`` the same against the naive forecast, over the
  windows that have one (a model can beat the seasonal naive forecast and lose to the naive
  one, where the last value says more than last season's: national_illness, M4 Weekly).

Undefined values are NaN in :meth:`SeriesMetrics.compute`; the front doors never report them
as numbers (:func:`defined`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from tsfm.data.seasonal_scales import seasonal_sums
from tsfm.errors import InputError
from tsfm.training.flat_windows import Flat, flat_windows
from tsfm.training.scoring import mape_terms, seasonal_naive, seasonal_naive_error, smape_terms

COUNTS = ("zeros", "positive", "negative", "few_pairs")  # behind metric_notes' warnings
POOLED_ORIGINAL = ("smape", "mape", "mase")
POOLED_SCALED = (
    "snaive_mae",
    "snaive_mse",
    "naive_mae",
    "skill_mae",
    "skill_mse",
    "skill_mae_naive",
)
SUMS = (
    *("count", "abs", "sq", "smape", "mase", "mase_count", "mape", "mape_count"),
    *COUNTS,
    *("snaive_count", "snaive_abs", "snaive_sq", "paired_abs", "paired_sq", "naive_count", "naive"),
    "naive_paired_abs",  # the model's absolute errors where there is a naive forecast
)


class SeriesMetrics(Metric):
    """Accuracy of each of ``n_series`` series, and its baselines (see the module docstring).

    :meth:`update` takes forecasts and targets ``[B, H, N]``, the look-backs ``[B, L, N]`` the
    forecasts were made from (all on one scale), optionally a mask ``[B, H, N]`` (1 where the
    target was observed) and ``series``: which series each variate is, ``[B]`` (one per
    sample, N = 1: channel-independent batches) or ``[B, N]``; None: variate ``j`` is series
    ``j``; ``scale [B, N]``: MASE's scale of each window (in the units of the values) instead
    of the look-back's; ``flat``: which windows' scale and baselines are zero up to rounding,
    :func:`~tsfm.training.flat_windows.flat_windows` of the values as read (scaled values
    take those of the values they were scaled from; None: decided on the values given).
    """

    full_state_update = False

    def __init__(self, n_series: int, season_length: int) -> None:
        super().__init__()
        if n_series < 1 or season_length < 1:
            raise InputError(f"n_series ({n_series}) and season_length ({season_length}) >= 1")
        self.n_series, self.season_length = n_series, season_length
        for name in SUMS:
            default = torch.zeros(n_series, dtype=torch.float64)
            self.add_state(name, default=default, dist_reduce_fx="sum")

    def update(
        self,
        forecast: Tensor,
        target: Tensor,
        lookback: Tensor,
        mask: Tensor | None = None,
        series: Tensor | None = None,
        lookback_observed: Tensor | None = None,
        scale: Tensor | None = None,
        flat: Flat | None = None,
    ) -> None:
        if flat is None:  # decided on these values (pass the values as read's when scaled)
            flat = flat_windows(
                target, lookback, self.season_length, mask, lookback_observed, scale
            )
        forecast, target = forecast.detach().double(), target.detach().double()
        lookback = lookback.detach().double()
        if forecast.shape != target.shape or lookback.shape[::2] != target.shape[::2]:
            raise InputError(
                f"forecast {tuple(forecast.shape)} and target {tuple(target.shape)} must be "
                f"[B, H, N] and the look-back {tuple(lookback.shape)} [B, L, N]"
            )
        observed = None if mask is None else mask.bool()
        if observed is not None or target.sum().isnan():  # else every element counts
            observed = ~target.isnan() if observed is None else observed & ~target.isnan()
            target = torch.where(observed, target, forecast)  # masked elements add 0
        horizon = target.shape[1]
        # Sums over the horizon, one term at a time and in place where possible: a [B, H, N]
        # float64 temporary costs more to allocate than to compute. Masked elements add 0:
        # their error is 0 (target = forecast above), the baselines' are multiplied by the mask.
        error = torch.sub(forecast, target).abs_()
        lag = self.season_length
        if scale is None:  # the look-back's, from its pairs of observed values lag apart
            total, pairs = seasonal_sums(lookback, lag, lookback_observed)  # [B, N]
            scale, few = total / pairs.clamp(min=1), (pairs > 0) & (pairs < lag)
        else:
            scale = scale.detach().double().to(error.device)
            few = torch.zeros_like(scale, dtype=torch.bool)
        usable = ~flat.scale.to(scale.device)  # a scale above rounding
        safe = torch.where(usable, scale, torch.ones_like(scale))
        snaive_error = seasonal_naive_error(lookback, target, self.season_length)
        naive_error = torch.sub(lookback[:, -1:], target).abs_()
        # a baseline exact up to rounding has no error (flat_windows)
        snaive_error.masked_fill_(flat.snaive.to(error.device).unsqueeze(1), 0.0)
        naive_error.masked_fill_(flat.naive.to(error.device).unsqueeze(1), 0.0)
        if observed is None:
            count = torch.full_like(scale, float(horizon))
        else:
            snaive_error, naive_error = snaive_error.mul_(observed), naive_error.mul_(observed)
            count = observed.sum(1, dtype=torch.float64)
        absolute, squared = error.sum(1), torch.linalg.vecdot(error, error, dim=1)  # [B, N]
        zero = torch.zeros_like(absolute)
        seen = torch.ones_like(target, dtype=torch.bool) if observed is None else observed
        nonzero = seen & (target != 0)
        percent = torch.where(nonzero, mape_terms(forecast, target, error), 0.0)
        seasonal, naive = has_baselines(lookback_observed, self.season_length, absolute)
        per_variate = {
            "count": count,
            "abs": absolute,
            "sq": squared,
            "smape": smape_terms(forecast, target, error).sum(1),
            "mase": torch.where(usable, absolute / safe, zero),
            "mase_count": torch.where(usable, count, zero),
            "mape": percent.sum(1),
            "mape_count": nonzero.sum(1, dtype=torch.float64),
            "zeros": (seen & (target == 0)).sum(1, dtype=torch.float64),
            "positive": (seen & (target > 0)).sum(1, dtype=torch.float64),
            "negative": (seen & (target < 0)).sum(1, dtype=torch.float64),
            "few_pairs": (few & (count > 0)).double(),
            "snaive_count": torch.where(seasonal, count, zero),
            "snaive_abs": torch.where(seasonal, snaive_error.sum(1), zero),
            "snaive_sq": torch.where(
                seasonal, torch.linalg.vecdot(snaive_error, snaive_error, dim=1), zero
            ),
            "paired_abs": torch.where(seasonal, absolute, zero),  # the model's, for the skill
            "paired_sq": torch.where(seasonal, squared, zero),
            "naive_count": torch.where(naive, count, zero),
            "naive": torch.where(naive, naive_error.sum(1), zero),
            "naive_paired_abs": torch.where(naive, absolute, zero),
        }
        index = self._index(series, target.shape[0], target.shape[2], target.device).reshape(-1)
        for name, values in per_variate.items():
            getattr(self, name).index_add_(0, index, values.reshape(-1))

    def _index(self, series: Tensor | None, size: int, n: int, device: torch.device) -> Tensor:
        if series is None:
            if n != self.n_series:
                raise InputError(f"{n} variates per sample but {self.n_series} series to score")
            return torch.arange(n, device=device).expand(size, n)
        series = series.to(device).long()
        return series.view(size, 1).expand(size, n) if series.dim() == 1 else series

    def compute(self) -> dict[str, Tensor]:
        """Every metric per series (NaN where undefined) and, as ``pooled_<name>``, over all
        series together, with the counts ``zeros``, ``positive``, ``negative`` and
        ``few_pairs`` (see the module docstring); synced across DDP ranks (torchmetrics may squeeze one series' values
        to 0-d: read them with :meth:`per_series` and :meth:`pooled`)."""
        sums = {name: getattr(self, name) for name in SUMS}
        pooled = ratios({name: value.sum(0, keepdim=True) for name, value in sums.items()})
        return {**ratios(sums), **{f"pooled_{k}": v.squeeze(0) for k, v in pooled.items()}}

    def per_series(self) -> dict[str, Tensor]:
        """Each metric per series, ``[n_series]``."""
        values = self.compute()
        return {k: v.reshape(-1) for k, v in values.items() if not k.startswith("pooled_")}

    def pooled(self) -> dict[str, Tensor]:
        """Each metric over all series together (meaningful on a common scale: the scaled
        values, or series in one unit; sMAPE, MAPE, MASE and the skills are unit-free)."""
        return {k[7:]: v for k, v in self.compute().items() if k.startswith("pooled_")}


def ratios(sums: dict[str, Tensor]) -> dict[str, Tensor]:
    """The metrics from the sums (NaN where a denominator is 0)."""
    nan = torch.full_like(sums["count"], math.nan)

    def divide(numerator: Tensor, denominator: Tensor) -> Tensor:
        return torch.where(denominator > 0, numerator / denominator.clamp(min=1e-300), nan)

    count, paired = sums["count"], sums["snaive_count"]
    result = {
        "mae": divide(sums["abs"], count),
        "mse": divide(sums["sq"], count),
        "smape": divide(sums["smape"], count),
        "mape": divide(sums["mape"], sums["mape_count"]),
        "mase": divide(sums["mase"], sums["mase_count"]),
        "snaive_mae": divide(sums["snaive_abs"], paired),
        "snaive_mse": divide(sums["snaive_sq"], paired),
        "naive_mae": divide(sums["naive"], sums["naive_count"]),
    }
    result["rmse"] = result["mse"].sqrt()
    # the model against the seasonal naive forecast on the same windows (those that have one)
    result["skill_mae"] = 1.0 - divide(sums["paired_abs"], sums["snaive_abs"])
    result["skill_mse"] = 1.0 - divide(sums["paired_sq"], sums["snaive_sq"])
    result["skill_mae_naive"] = 1.0 - divide(sums["naive_paired_abs"], sums["naive"])
    result.update({k: sums[k] for k in COUNTS})
    return result


def pooled_values(original: SeriesMetrics, scaled: SeriesMetrics) -> dict[str, float]:
    """The pooled scale-free metrics (of ``original``) and baselines and skill (of ``scaled``,
    the series' own standard deviations), NaN where undefined."""
    on_original, on_scaled = original.pooled(), scaled.pooled()
    values = {k: float(on_original[k]) for k in POOLED_ORIGINAL}
    values.update({k: float(on_scaled[k]) for k in POOLED_SCALED})
    return values


def has_baselines(observed: Tensor | None, lag: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """Which windows ``[B, N]`` have a seasonal-naive and a naive forecast: an observed
    look-back value at or before the one each repeats (before the first observed one there is
    only padding, or a value carried in from outside the look-back); all, without
    ``observed [B, L, N]``. ``like``: a ``[B, N]`` tensor for the device."""
    if observed is None:
        every = torch.ones_like(like, dtype=torch.bool)
        return every, every
    observed = observed.to(like.device).bool()
    return observed[:, : observed.shape[1] - lag + 1].any(1), observed.any(1)


def baseline_forecast(
    lookback: np.ndarray, horizon: int, lag: int, observed: np.ndarray | None = None
) -> np.ndarray:
    """The seasonal-naive forecast ``[W, H, N]`` of look-backs ``[W, L, N]`` as the metrics
    count it: NaN for a window without one (:func:`has_baselines`)."""
    forecast = seasonal_naive(torch.from_numpy(lookback), horizon, lag)
    seen = None if observed is None else torch.from_numpy(observed)
    seasonal, _ = has_baselines(seen, lag, forecast[:, 0])
    return torch.where(seasonal[:, None], forecast, math.nan).numpy()
