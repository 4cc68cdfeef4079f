"""Conformal calibration of a Forecaster fitted without validation rows.

With ``val_df`` or ``val_size`` the shared pipeline calibrates on the validation rows
(:func:`tsfm.training.conformal.calibrate`, the same code as the command line). Without them,
the calibration windows are the last ``k`` windows of the training data, ``step`` rows apart,
and a helper model is first fitted on the rows before the first of them (a refit, as
neuralforecast's conformal intervals do): the model that forecasts afterwards is fitted on
every row, and its scores are those of the helper, which saw none of the calibration targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tsfm.data.frames import SeriesTable
from tsfm.estimator.inference import backtest
from tsfm.training.conformal import ConformalScores
from tsfm.training.scoring import lookback_spread


def refit_residuals(
    est: Any, rows: SeriesTable, windows: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """Errors ``[k, H, N]`` and look-backs ``[k, L, N]`` (original units) of the last ``k``
    windows of ``rows``, forecast by a helper fitted on the rows before the first."""
    from sklearn.base import clone

    horizon, lookback = est.horizon, est.lookback
    first = len(rows) - horizon - (windows - 1) * step
    needed = lookback + horizon
    if first < needed:
        raise ValueError(
            f"conformal_windows={windows}, {step} rows apart, at the end of the training data "
            f"leave {max(first, 0)} rows to fit the calibration model on, fewer than lookback "
            f"+ horizon = {needed}; pass val_df or val_size (calibration then uses the "
            "validation rows), fewer windows, a smaller conformal_step or a longer frame"
        )
    helper = clone(est)
    helper.fit_table(rows.head(first), calibrate=False)
    starts = first - lookback + step * np.arange(windows)
    result = backtest(helper, rows, starts=starts)
    lookbacks = rows.values[starts[:, None] + np.arange(lookback)]
    return result.actual - result.forecast, lookbacks


def scores_from_residuals(
    est: Any, errors: np.ndarray, lookbacks: np.ndarray, normalize: bool
) -> ConformalScores:
    """The fitted model's conformal scores: errors in its scaled space (divided by each
    look-back's spread when ``normalize``), as the pipeline's calibration computes them."""
    scaler = est.scaler_
    std = 1.0 if scaler is None else scaler.std
    scores = np.abs(errors) / std
    if normalize:
        scaled = lookbacks if scaler is None else scaler.transform(lookbacks)
        scores = scores / lookback_spread(torch.from_numpy(scaled)).double().numpy()
    return ConformalScores(torch.from_numpy(scores), normalize)
