"""The M4 competition's accuracy measures: sMAPE, MASE and OWA against the Naive2 benchmark.

Definitions follow the competition's own R code (``Mcompetitions/M4-methods``, "Benchmarks and
Evaluation.R"):

- sMAPE of a series: ``mean_h 200 |Y - F| / (|Y| + |F|)`` (0 where both are 0).
- MAPE of a series (not a competition measure; reported beside sMAPE): ``mean_h 100 |Y - F| /
  |Y|`` over the steps whose actual is not 0.
- MASE of a series: ``mean_h |Y - F|`` divided by the in-sample mean absolute seasonal
  difference ``mean_t |x_t - x_{t-m}|`` (m = 1 for Yearly, Weekly and Daily).
- A group's sMAPE and MASE are the means over its series; several groups are combined by
  series count (so "Average" is the mean over every series present).
- OWA = ``(MASE / MASE_Naive2 + sMAPE / sMAPE_Naive2) / 2`` from those (weighted) means.
- Naive2: the last value of the seasonally adjusted series, re-seasonalised. A series is
  adjusted only when m > 1, it has at least 3m points and its lag-m autocorrelation passes
  the 90% test; the adjustment is R's classical multiplicative ``decompose``.
- MSIS of a series' ``(1 - a)`` interval ``[L, U]`` (the competition's interval score, a = 0.05):
  ``mean_h [(U - L) + 2/a (L - Y) 1{Y < L} + 2/a (Y - U) 1{Y > U}]`` divided by the MASE scale.
- The seasonal-naive interval baseline (:func:`seasonal_naive_intervals`): the seasonal naive
  forecast with a half-width per lead from the series' own in-sample errors at that lead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from tsfm.errors import InputError

TCRIT = 1.645  # the R code's critical value: one-sided 90%
GROUP_ORDER = ("Yearly", "Quarterly", "Monthly", "Weekly", "Daily", "Hourly")
OTHERS = ("Weekly", "Daily", "Hourly")


def smape(forecast: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-series sMAPE (percent) of ``forecast`` and ``target`` ``[n_series, horizon]``."""
    forecast, target = np.asarray(forecast, np.float64), np.asarray(target, np.float64)
    denominator = np.abs(forecast) + np.abs(target)
    safe = np.where(denominator > 0, denominator, 1.0)  # both zero -> the error is zero too
    return (200.0 * np.abs(forecast - target) / safe).mean(axis=-1)


def mape(forecast: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-series MAPE (percent) of ``forecast`` and ``target`` ``[n_series, horizon]``, over
    the steps whose actual is not 0 (NaN for a series whose every actual is 0)."""
    forecast, target = np.asarray(forecast, np.float64), np.asarray(target, np.float64)
    defined = target != 0
    terms = 100.0 * np.abs(forecast - target) / np.where(defined, np.abs(target), 1.0)
    counts = defined.sum(axis=-1)
    return np.where(counts > 0, (terms * defined).sum(axis=-1) / np.maximum(counts, 1), np.nan)


def mase_scale(insample: np.ndarray, period: int) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (lag ``period``)."""
    insample = np.asarray(insample, np.float64)
    if len(insample) <= period:
        raise InputError(
            f"MASE needs more than {period} in-sample points (the seasonal period); "
            f"the series has {len(insample)}"
        )
    return float(np.abs(insample[period:] - insample[:-period]).mean())


def mase(
    forecast: np.ndarray, target: np.ndarray, insamples: Sequence[np.ndarray], period: int
) -> np.ndarray:
    """Per-series MASE; ``insamples[i]`` is the history of series i (its own length)."""
    errors = np.abs(np.asarray(forecast, np.float64) - np.asarray(target, np.float64))
    scales = np.array([mase_scale(x, period) for x in insamples])
    return errors.mean(axis=-1) / scales


def msis(
    lower: np.ndarray,
    upper: np.ndarray,
    target: np.ndarray,
    insamples: Sequence[np.ndarray],
    period: int,
    level: float = 95.0,
) -> np.ndarray:
    """Per-series MSIS of the ``level`` % intervals ``[lower, upper]`` ``[n_series, horizon]``."""
    lower, upper, target = (np.asarray(v, np.float64) for v in (lower, upper, target))
    alpha = 1.0 - level / 100.0
    penalty = (2.0 / alpha) * (np.clip(lower - target, 0, None) + np.clip(target - upper, 0, None))
    scales = np.array([mase_scale(x, period) for x in insamples])
    return ((upper - lower) + penalty).mean(axis=-1) / scales


def seasonal_naive_intervals(
    insamples: Sequence[np.ndarray], horizon: int, period: int, level: float = 95.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seasonal naive forecasts ``[n, horizon]`` and their ``level`` % intervals, per series.

    Step ``h`` repeats the value ``k = ceil(h / m)`` seasons back; its half-width is the
    ``ceil((n + 1) level / 100)``-th smallest of the ``n`` in-sample errors at the same lead,
    ``|x_t - x_{t - k m}|`` (split conformal's rank over the series' own history, the rule of
    tsfm's conformal intervals). Returns ``(forecast, lower, upper)``.
    """
    forecasts, radii = [], []
    steps = np.arange(1, horizon + 1)
    lags = period * np.ceil(steps / period).astype(int)
    for x in insamples:
        x = np.asarray(x, np.float64)
        if len(x) <= lags.max():
            raise InputError(
                f"a seasonal-naive interval at lead {horizon} needs more than {lags.max()} "
                f"in-sample points; a series has {len(x)}"
            )
        forecasts.append(x[len(x) - 1 + steps - lags])
        radius = {}
        for lag in np.unique(lags):
            errors = np.sort(np.abs(x[lag:] - x[:-lag]))
            rank = min(len(errors), math.ceil((len(errors) + 1) * level / 100.0 - 1e-9))
            radius[lag] = errors[rank - 1]
        radii.append([radius[lag] for lag in lags])
    forecast, radius = np.array(forecasts), np.array(radii)
    return forecast, forecast - radius, forecast + radius


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations ``r_1 .. r_max_lag`` as R's ``acf`` computes them."""
    centred = np.asarray(x, np.float64) - np.mean(x)
    total = float(centred @ centred)
    if total == 0.0:
        return np.zeros(max_lag)
    return np.array([centred[k:] @ centred[:-k] for k in range(1, max_lag + 1)]) / total


def is_seasonal(x: np.ndarray, period: int) -> bool:
    """The M4 seasonality test: ``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)``."""
    n = len(x)
    if period <= 1 or n < 3 * period:
        return False
    # R's acf stops at lag.max = floor(10 log10 n); beyond it r_m is NA and the test says no.
    if period > min(n - 1, math.floor(10 * math.log10(n))):
        return False
    r = autocorrelation(x, period)
    limit = TCRIT / math.sqrt(n) * math.sqrt(1.0 + 2.0 * float(np.sum(r[: period - 1] ** 2)))
    return bool(abs(r[period - 1]) > limit)


def seasonal_indices(x: np.ndarray, period: int) -> np.ndarray:
    """Seasonal factors of R's ``decompose(type="multiplicative")``, one per point of ``x``.

    Trend: the centred moving average of order ``period`` (2 x m for even m); the factor of
    each phase is the mean of ``x / trend`` over that phase (counted from the first point),
    normalised to average 1.
    """
    x = np.asarray(x, np.float64)
    n = len(x)
    if period % 2:
        weights = np.full(period, 1.0 / period)
    else:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(x, weights, mode="valid")
    ratio = x / trend
    figure = np.array([np.nanmean(ratio[phase::period]) for phase in range(period)])
    figure /= figure.mean()
    return np.tile(figure, n // period + 1)[:n]


def naive2(x: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The Naive2 forecast of one series (seasonally adjusted naive)."""
    x = np.asarray(x, np.float64)
    if is_seasonal(x, period):
        seasonal = seasonal_indices(x, period)
        future = np.tile(seasonal[-period:], horizon // period + 1)[:horizon]
        return x[-1] / seasonal[-1] * future
    return np.full(horizon, x[-1])


def naive2_forecasts(insamples: Iterable[np.ndarray], horizon: int, period: int) -> np.ndarray:
    return np.stack([naive2(x, horizon, period) for x in insamples])


@dataclass(frozen=True)
class GroupScores:
    """Mean sMAPE/MASE of a set of series and of Naive2 on the same series."""

    n_series: int
    smape: float
    mase: float
    naive2_smape: float
    naive2_mase: float

    @property
    def owa(self) -> float:
        return 0.5 * (self.mase / self.naive2_mase + self.smape / self.naive2_smape)

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "owa": self.owa}


def score_group(
    forecast: np.ndarray,
    target: np.ndarray,
    insamples: Sequence[np.ndarray],
    period: int,
    naive2_forecast: np.ndarray | None = None,
) -> GroupScores:
    """Scores of ``forecast [n, H]`` against ``target [n, H]`` given each series' history."""
    forecast, target = np.asarray(forecast, np.float64), np.asarray(target, np.float64)
    if forecast.shape != target.shape or forecast.ndim != 2:
        raise InputError(
            f"forecast {forecast.shape} and target {target.shape} must both be [series, horizon]"
        )
    if len(insamples) != len(target):
        raise InputError(f"{len(insamples)} histories for {len(target)} series")
    if not np.isfinite(forecast).all():
        raise InputError("the forecasts contain NaN or inf")
    if naive2_forecast is None:
        naive2_forecast = naive2_forecasts(insamples, target.shape[1], period)
    return GroupScores(
        n_series=len(target),
        smape=float(smape(forecast, target).mean()),
        mase=float(mase(forecast, target, insamples, period).mean()),
        naive2_smape=float(smape(naive2_forecast, target).mean()),
        naive2_mase=float(mase(naive2_forecast, target, insamples, period).mean()),
    )


def combine(scores: Iterable[GroupScores]) -> GroupScores:
    """Several groups as one: every mean weighted by its series count."""
    scores = list(scores)
    total = sum(s.n_series for s in scores)

    def weighted(name: str) -> float:
        return sum(getattr(s, name) * s.n_series for s in scores) / total

    return GroupScores(
        total, *(weighted(k) for k in ("smape", "mase", "naive2_smape", "naive2_mase"))
    )


def summarize(groups: Mapping[str, GroupScores]) -> dict[str, GroupScores]:
    """Rows of the papers' M4 table for the groups present: each group, ``Others`` (Weekly +
    Daily + Hourly, when any is present) and ``Average`` (weighted over every group present)."""
    unknown = sorted(set(groups) - set(GROUP_ORDER))
    if unknown:
        raise InputError(f"unknown M4 group(s) {unknown}; known: {list(GROUP_ORDER)}")
    rows = {g: groups[g] for g in GROUP_ORDER if g in groups}
    others = [groups[g] for g in OTHERS if g in groups]
    if others:
        rows["Others"] = combine(others)
    if groups:
        rows["Average"] = combine(groups.values())
    return rows
