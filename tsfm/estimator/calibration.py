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
from tsfm.estimator.rolling import backtest
from tsfm.training.conformal import ConformalScores
from tsfm.training.scoring import lookback_spread


def refit_residuals(
    est: Any, rows: SeriesTable, windows: int, step: int, static_df: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Errors ``[k, H, N]`` (original units) of the last ``k`` windows of ``rows``, forecast
    by a helper fitted on the rows before the first, and the same errors divided by each
    window's look-back spread (the normalised scores, which no scaling changes)."""
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
    helper.fit_table(rows.head(first), static_df=static_df, calibrate=False)
    starts = first - lookback + step * np.arange(windows)
    result = backtest(helper, rows, starts=starts, lookbacks=True)
    errors = result.actual - result.forecast
    if np.isnan(errors).any():
        raise ValueError(
            "conformal calibration needs every target of its windows observed; the last "
            f"{windows} windows of the training data have missing values: pass val_df or "
            "val_size, or calibrate on fewer, complete windows"
        )
    spread = lookback_spread(torch.from_numpy(result.lookback_scaled)).double().numpy()
    scaled_errors = np.abs(result.actual_scaled - result.forecast_scaled)
    return errors, scaled_errors / spread


def scores_from_residuals(
    est: Any, errors: np.ndarray, normalized: np.ndarray, normalize: bool, rate: float = 0.0
) -> ConformalScores:
    """The fitted model's conformal scores: the errors in its scaled space, or the
    normalised ones, as the pipeline's calibration computes them."""
    if normalize:
        return ConformalScores(torch.from_numpy(normalized), True, rate)
    std = 1.0 if est.scaler_ is None else est.scaler_.std[: errors.shape[-1]]
    return ConformalScores(torch.from_numpy(np.abs(errors) / std), False, rate)
