"""The interval metrics of a fitted Forecaster's windows (``evaluate``, ``cross_validate``):
CRPS, coverage and width per level, MSIS, pooled and per series, from the quantiles a
backtest reads at :func:`~tsfm.estimator.intervals.metric_taus`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tsfm.estimator.accuracy import Scores, reported, window_scales
from tsfm.estimator.intervals import scored_levels
from tsfm.estimator.rolling import Backtest
from tsfm.training.interval_metrics import IntervalMetrics
from tsfm.training.scoring import MSIS_LEVEL, level_name


def pooled_result(
    errors: dict[str, float], intervals: dict[str, float], scores: Scores
) -> dict[str, float]:
    """``evaluate``'s pooled dict from the windows' :func:`~tsfm.estimator.rolling.error_metrics`,
    :func:`interval_metrics` and :class:`Scores`: errors, interval metrics, scale-free metrics
    and baselines (the defined ones) and the season length."""
    out = {**errors, **reported(intervals)}
    out.update(reported(scores.pooled()))
    out["season_length"] = scores.lag
    return out


def interval_names(est: Any) -> list[str]:
    """The interval metrics the model's ``levels`` give, in their order: ``crps``,
    ``coverage_<L>`` and ``width_<L>`` per level, ``msis`` when 95 is one of them. Every set
    of windows reports each of them (NaN where undefined), so folds concatenate."""
    levels = scored_levels(est)
    names = ["crps"]
    for level in levels:
        names += [f"coverage_{level_name(level)}", f"width_{level_name(level)}"]
    if MSIS_LEVEL in levels:
        names.append("msis")
    return names


def _every(est: Any, values: dict[str, Any], missing: Any) -> dict[str, Any]:
    """``values`` with every one of :func:`interval_names`, in that order (``missing`` where
    the windows leave one undefined: MSIS without a usable scale)."""
    return {name: values.get(name, missing) for name in interval_names(est)}


def interval_metrics(est: Any, result: Backtest) -> dict[str, float]:
    """CRPS and width per level (scaled, and ``crps_original``, ``width_*_original``),
    coverage per level and MSIS of every window of a backtest run with :func:`metric_taus`
    (coverage and MSIS of the actuals as read, MSIS over
    :func:`~tsfm.estimator.accuracy.window_scales`: ratios, the same on both scales; NaN
    where undefined)."""
    sums = IntervalSums(est, 1, per_series=False)
    sums.add(result)
    return sums.pooled()


def series_interval_metrics(
    est: Any, result: Backtest, series: np.ndarray | None = None, n_series: int | None = None
) -> dict[str, np.ndarray]:
    """:func:`interval_metrics` of each series, in its own units (``crps``, ``coverage_<L>``,
    ``width_<L>``, ``msis``): series ``j`` is column ``j`` of a joint backtest, or with
    ``series`` (each window's, of ``n_series``) the windows of a panel."""
    n_series = result.actual.shape[2] if series is None else int(n_series)
    sums = IntervalSums(est, n_series, pooled=False)
    sums.add(result, series)
    return sums.per_series()


class IntervalSums:
    """:func:`interval_metrics` (``pooled``) and :func:`series_interval_metrics`
    (``per_series``, of ``n_series``) of windows given a chunk at a time, as float64 sums
    (per series added element by element in order: the same as in one go)."""

    def __init__(self, est: Any, n_series: int, pooled: bool = True, per_series: bool = True):
        cfg = est.config_
        self.est, self.n_series, self.seen = est, n_series, False
        self.scaled, self.original, self.grouping = (
            IntervalMetrics(cfg.quantiles, scored_levels(est)) if on else None
            for on in (pooled, pooled, per_series)
        )
        self.totals: dict[str, torch.Tensor] = {}

    def add(self, result: Backtest, series: np.ndarray | None = None) -> None:
        """The windows of ``result`` (nothing without quantiles); ``series``: each window's
        series (panels), None: variate ``j`` is series ``j``."""
        if result.quantiles is None:
            return
        self.seen = True
        actual = np.nan_to_num(result.actual)
        observed = torch.from_numpy(~np.isnan(result.actual))  # missing targets left out
        scale = None
        if result.lookback is not None or result.scale is not None:
            scale = torch.from_numpy(window_scales(self.est, result))
        quantiles = torch.from_numpy(result.quantiles)
        if self.scaled is not None:
            self.scaled.update(
                torch.from_numpy(result.quantiles_scaled),
                torch.from_numpy(np.nan_to_num(result.actual_scaled)),
                mask=observed,
            )
            self.original.update(quantiles, torch.from_numpy(actual), scale, observed)
        if self.grouping is not None:
            if series is None:
                group = torch.arange(actual.shape[2]).expand(*actual.shape)
            else:
                group = torch.from_numpy(np.asarray(series, np.int64))[:, None, None]
                group = group.expand(*actual.shape)
            self.grouping.group_totals(
                group, self.n_series, quantiles, torch.from_numpy(actual), scale, observed,
                totals=self.totals,
            )  # fmt: skip

    def pooled(self) -> dict[str, float]:
        """:func:`interval_metrics` of every window added ({} for a point model)."""
        if not self.seen:
            return {}
        computed = {name: float(value) for name, value in self.scaled.compute().items()}
        on_original = self.original.compute()
        for name, value in on_original.items():  # coverage and MSIS: of the actuals as read
            if not name.startswith(("crps", "width")):
                computed[name] = float(value)
        metrics = _every(self.est, computed, float("nan"))
        for name, value in on_original.items():
            if name.startswith(("crps", "width")):
                metrics[f"{name}_original"] = float(value)
        return metrics

    def per_series(self) -> dict[str, np.ndarray]:
        """:func:`series_interval_metrics` of every window added ({} for a point model)."""
        if not self.seen:
            return {}
        grouped = self.grouping.ratios(self.totals)
        values = {name: value.numpy() for name, value in grouped.items()}
        return _every(self.est, values, np.full(self.n_series, np.nan))
