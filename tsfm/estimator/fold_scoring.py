"""Scoring one fold of a joint cross-validation, each with the fold's own scaler (fitted on
its training rows): its look-back as given, as the model saw it and as read
(:func:`fold_lookback`), its :class:`Scores` and seasonal-naive forecast, and its window as a
:class:`Backtest` for the interval metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tsfm.data.values import fill_forward, last_observed
from tsfm.estimator.accuracy import Scores, season_length
from tsfm.estimator.rolling import Backtest
from tsfm.training.series_metrics import baseline_forecast


def fold_scaling(model: Any) -> Callable:
    """The fold's scaling (its scaler's, fitted on its training rows)."""
    scaler = model.scaler_
    return (lambda v: v) if scaler is None else scaler.transform


def fold_lookback(model: Any, targets: np.ndarray, cutoff: int) -> tuple[np.ndarray, ...]:
    """The fold's look-back as given (NaN where missing), scaled and filled as the model saw
    it (gaps carry the last value, from before the look-back too), and as read, filled alike
    (before any value: the mean, as the scaled 0): the scores' look-back, never unscaled."""
    raw = targets[cutoff - model.lookback_ : cutoff]
    scaled = fold_scaling(model)
    before = last_observed(targets[: cutoff - model.lookback_])
    mean = 0.0 if model.scaler_ is None else model.scaler_.mean
    read = fill_forward(raw, before, mean)
    return raw, fill_forward(scaled(raw), scaled(before[None])[0]), read


def fold_scores(model: Any, looks, actual, forecast, scale=None) -> tuple[Scores, Any]:
    """The fold's :class:`Scores` (scaled with its scaler; ``looks``: its look-back as given,
    as read and scaled (:func:`fold_lookback`); MASE's scale counts the steps between
    observed rows only; ``scale``: the history's) and the seasonal-naive forecast ``[H, N]``
    they compare with (NaN where the window has none, as ``evaluate``'s)."""
    raw_lookback, look_read, look_scaled = looks
    scaled = fold_scaling(model)
    original = (forecast[None], actual[None], look_read[None])
    lag, observed = season_length(model), ~np.isnan(raw_lookback)[None]
    scaled_arrays = (scaled(forecast)[None], scaled(actual)[None], look_scaled[None])
    scores = Scores(original, scaled_arrays, lag, observed=observed, scale=scale)
    return scores, baseline_forecast(original[2], model.horizon, lag, observed)[0]


def fold_window(model, looks, actual, forecast, quantiles) -> Backtest:
    """The fold's one window as a :class:`Backtest` (its look-back as the model saw it, as
    ``evaluate``'s windows), for the interval metrics."""
    raw_lookback, look_read, look_scaled = looks
    scaled = fold_scaling(model)
    return Backtest(
        origins=np.array([len(raw_lookback)]),
        forecast=forecast[None],
        actual=actual[None],
        forecast_scaled=scaled(forecast)[None],
        actual_scaled=scaled(actual)[None],
        quantiles=quantiles[None],
        quantiles_scaled=np.moveaxis(scaled(np.moveaxis(quantiles, -1, 0)), 0, -1)[None],
        lookback_scaled=look_scaled[None],
        lookback=look_read[None],
        lookback_observed=~np.isnan(raw_lookback)[None],
    )
