"""Conformal calibration of a Forecaster fitted without validation rows.

With ``val_df`` or ``val_size`` the shared pipeline calibrates on the validation rows
(:func:`tsfm.training.conformal_plan.calibrate`, the same code as the command line). Without them,
the calibration windows are the last ``k`` windows of the training data, ``step`` rows apart,
and a helper model is first fitted on the rows before the first of them (a refit, as
neuralforecast's conformal intervals do): the model that forecasts afterwards is fitted on
every row, and its scores are those of the helper, which saw none of the calibration targets.
A warm fit's helper is warm-started as the fit is (the fitted weights, the kept scaler), so its
errors are those of the model being trained further; as those weights were trained on the
fitted rows, the calibration windows must forecast none of them (:func:`check_unseen`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tsfm.data.frames import SeriesTable
from tsfm.errors import InputError
from tsfm.estimator.rolling import backtest
from tsfm.training.calibration_step import calibration_step
from tsfm.training.conformal import ConformalScores, pooling
from tsfm.training.scoring import lookback_spread, tau_level

if TYPE_CHECKING:
    from tsfm.estimator.warm_start import WarmStart


def timed_refit(
    est: Any, rows: SeriesTable, cfg: Any, run_cfg: Any, static_df: Any, warm: WarmStart | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """:func:`refit_residuals` within the fit's one ``max_time``: the helper trains for half
    of it at most, and ``run_cfg`` (the final training's) gets what the helper left (at least
    :data:`~tsfm.estimator.fit_metrics.MIN_SECONDS`); the helper's ``fit_metrics_`` come back
    with the ``seconds`` it took."""
    from tsfm.estimator.fit_metrics import MIN_SECONDS, time_budget

    budget, started = time_budget(cfg), time.monotonic()
    share = None if budget is None else budget / 2
    windows = cfg.conformal.windows
    step = calibration_step(cfg.conformal.step, est.horizon, windows, cfg.season_length)
    errors, normalized, helper = refit_residuals(est, rows, windows, step, static_df, warm, share)
    helper = {**helper, "seconds": time.monotonic() - started}
    if budget is not None:  # one budget per fit: the final training gets what is left
        run_cfg.trainer.max_time = max(budget - helper["seconds"], MIN_SECONDS)
    return errors, normalized, helper


def refit_residuals(
    est: Any,
    rows: SeriesTable,
    windows: int,
    step: int,
    static_df: Any = None,
    warm: WarmStart | None = None,
    max_time: float | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Errors ``[k, H, N]`` (original units) of the last ``k`` windows of ``rows``, forecast
    by a helper fitted on the rows before the first (warm-started from ``warm``, as the fit
    is; within ``max_time`` seconds, its share of the fit's time limit), the same errors
    divided by each window's look-back spread (the normalised residuals, whose absolute
    values are the normalised scores, which no scaling changes), and the helper's
    ``fit_metrics_``."""
    from sklearn.base import clone

    horizon, lookback = est.horizon, est.lookback_
    first = len(rows) - horizon - (windows - 1) * step
    needed = lookback + horizon
    if first < needed:
        raise InputError(
            f"conformal_windows={windows}, {step} rows apart, at the end of the training data "
            f"leave {max(first, 0)} rows to fit the calibration model on, fewer than lookback "
            f"+ horizon = {needed}; pass val_df or val_size (calibration then uses the "
            "validation rows), fewer windows, a smaller conformal_step or a longer frame"
        )
    starts = first - lookback + step * np.arange(windows)
    if warm is not None:
        check_unseen(warm, rows, starts + lookback, horizon)
    helper = clone(est)
    helper.lookback = lookback  # the fit's, not one chosen again on fewer rows
    helper.fit_table(
        rows.head(first), static_df=static_df, calibrate=False, warm=warm, max_time=max_time
    )
    result = backtest(helper, rows, starts=starts, lookbacks=True)
    errors = result.actual - result.forecast  # NaN where the target is missing: no score
    spread = lookback_spread(torch.from_numpy(result.lookback_scaled)).double().numpy()
    scaled_errors = result.actual_scaled - result.forecast_scaled  # signed: sample paths
    return errors, scaled_errors / spread, helper.fit_metrics_


def check_unseen(warm: WarmStart, rows: SeriesTable, origins: np.ndarray, horizon: int) -> None:
    """Refuses a warm fit's calibration windows (first targets at rows ``origins``) that
    forecast rows the fitted model was fitted on: the helper starts from its weights, so
    errors there are in-sample and the intervals too narrow. Without timestamps (or a record
    of them) nothing is checked."""

    from tsfm.data.frames.dates import show_time
    from tsfm.estimator.fitted_record import reached

    seen = warm.fitted_rows
    times = rows.times
    if seen is None or times is None or np.asarray(seen.end).dtype.kind != times.dtype.kind:
        return
    first, last = times[origins], times[origins + horizon - 1]
    reach = reached(seen, first, last)
    if not reach.any():
        return
    end = max(fit.end[0] for fit in seen.fits())
    starts = [fit.start[0] for fit in seen.fits() if fit.start is not None]
    since = f"{show_time(min(starts), rows.tz)} to " if len(starts) == len(seen.fits()) else ""
    after = int((first > end).sum())
    fewer = f", fewer conformal_windows (the last {after} forecast later rows)" if after else ""
    raise InputError(
        f"warm_start=True with conformal_windows={len(origins)} and no validation rows: the "
        f"calibration model starts from the fitted weights, which were fitted on the rows "
        f"{since}{show_time(end, rows.tz)}, and {int(reach.sum())} of the last "
        f"{len(origins)} windows of this frame (its calibration windows) forecast those rows, "
        "so their errors are in-sample and the intervals would be too narrow: fit a frame "
        f"whose calibration windows come after {show_time(end, rows.tz)} (new rows)"
        f"{fewer}, pass val_df with rows after them, or warm_start=False for a fresh model"
    )


def check_residuals(
    errors: np.ndarray, quantiles: Sequence[float], levels: Sequence[float], names: list[str]
) -> None:
    """Refuses, before the final fit, levels and quantiles the observed calibration errors
    cannot give (a missing target gives no score), naming a series with none observed."""
    observed = (~np.isnan(errors)).sum(axis=0).min(axis=0)  # [N]: fewest over the steps
    per_series = pooling(errors.shape[0], errors.shape[2])[0]  # pooled: others fill in
    if per_series and errors.shape[2] == len(names) and (observed == 0).any():
        empty = [n for n, count in zip(names, observed, strict=True) if count == 0]
        raise InputError(
            f"conformal calibration: {empty} have no observed target in the last "
            f"{errors.shape[0]} windows of the training data, so no calibration error: fill "
            "the gaps, leave those series out, or calibrate where they are observed (val_df, "
            "val_size)"
        )
    scores = ConformalScores(torch.from_numpy(np.abs(errors)))
    for level in sorted({float(v) for v in levels} | {tau_level(t) for t in quantiles} - {0.0}):
        scores.radius(level)


def scores_from_residuals(
    est: Any, errors: np.ndarray, normalized: np.ndarray, normalize: bool, rate: float = 0.0
) -> ConformalScores:
    """The fitted model's conformal scores: the errors in its scaled space, or the
    normalised ones, as the pipeline's calibration computes them (their signs kept)."""
    if normalize:
        return ConformalScores.from_residuals(torch.from_numpy(normalized), True, rate)
    std = 1.0 if est.scaler_ is None else est.scaler_.std[: errors.shape[-1]]
    return ConformalScores.from_residuals(torch.from_numpy(errors / std), False, rate)
