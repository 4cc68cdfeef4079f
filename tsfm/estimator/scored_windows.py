"""Which forecasts the scores of ``evaluate``, ``backtest`` and ``cross_validate`` count.

A series' window whose look-back holds no observed value of the series (``missing="mask"``:
a series that starts later or has a long gap; a panel series padded before its start) is
forecast from nothing observed: ``predict`` warns of such a forecast. The scoring functions
forecast it too (it stays in the returned forecasts, its ``snaive`` missing) but leave it out
of that series' scores, every metric alike, so that ``mae``, ``mase`` and ``skill_mae``
describe the same windows; one warning names the series and how many of their windows.

A series' ``windows`` (per-series frames) counts the windows its scores rest on: those with
at least one observed target, left-out ones excluded (:func:`scored_counts`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.rolling import Backtest


def empty_lookbacks(result: Backtest) -> np.ndarray | None:
    """``[W, N]``: whether window ``w``'s look-back observes nothing of variate ``n`` (None
    when every look-back value was observed)."""
    if result.lookback_observed is None:
        return None
    empty = ~result.lookback_observed.any(axis=1)
    return empty if empty.any() else None


def without(result: Backtest, empty: np.ndarray | None) -> Backtest:
    """``result`` with the targets of the ``empty`` ``[W, N]`` (window, variate) pairs
    missing, so that no metric counts them."""
    if empty is None:
        return result
    gone = empty[:, None, :]
    return replace(
        result,
        actual=np.where(gone, np.nan, result.actual),
        actual_scaled=np.where(gone, np.nan, result.actual_scaled),
    )


def left_counts(empty: np.ndarray | None, n: int, series: np.ndarray | None = None) -> np.ndarray:
    """Each of ``n`` series' windows left out (``empty``: :func:`empty_lookbacks`): per
    variate, or with ``series`` (each window's, panels: one variate per window) per series."""
    if empty is None:
        return np.zeros(n, dtype=np.int64)
    if series is None:
        return empty.sum(axis=0)
    return np.bincount(np.asarray(series)[empty[:, 0]], minlength=n)


def warn_left_windows(names: list, counts: np.ndarray, lookback: int, what: str) -> set:
    """:func:`warn_left_out` of windows left out of the scores, ``counts[j]`` of series
    ``names[j]``; the names of those series."""
    found = [j for j, c in enumerate(counts) if c]
    labels = [
        f"{names[j]!r} ({int(counts[j])} window{'s' if counts[j] > 1 else ''})" for j in found
    ]
    warn_left_out(what, labels, lookback)
    return {names[j] for j in found}


def warn_left_out(what: str, found: list[str], lookback: int) -> None:
    """One warning for every left-out window: ``found`` names each series with how many of
    its windows (or its folds)."""
    if not found:
        return
    more = f", ... ({len(found)} series)" if len(found) > 10 else ""
    warn_user(
        f"{what}: windows whose look-back (the {lookback} rows before the origin) holds no "
        f"observed value of a series are left out of that series' scores, as their forecast "
        f"rests on no observation (predict warns of such a forecast): {', '.join(found[:10])}"
        f"{more}. They stay in the returned forecasts (snaive missing); to score a series "
        "there, give it observed values in those look-backs"
    )


def scored_counts(
    actual: np.ndarray, series: np.ndarray | None = None, n_series: int | None = None
) -> np.ndarray:
    """Each series' windows with at least one observed target in ``actual [W, H, N]`` (NaN
    where missing or left out): per variate, or with ``series`` per series of
    ``n_series``."""
    scored = (~np.isnan(actual)).any(axis=1)  # [W, N]
    if series is None:
        return scored.sum(axis=0)
    return np.bincount(np.asarray(series), weights=scored[:, 0], minlength=n_series).astype(int)


FOLDS = (
    "the folds count back from the end of each series, so drop its trailing rows without a "
    "target (future rows) or "
)


def require_observed(actuals: list[np.ndarray], what: str = "evaluate") -> None:
    """Refuse ``actuals`` (each a set of windows' targets, NaN where missing or left out, as
    scored: one per fold of a cross-validation, ``what="folds"``) without one to score."""
    if all(np.isnan(actual).all() for actual in actuals):
        refuse_unscored(what)


def refuse_unscored(what: str = "evaluate") -> None:
    """The refusal of windows (or folds) without one target to score (every target missing
    or left out)."""
    windows, hint = ("fold", FOLDS) if what == "folds" else ("window of the frame", "")
    raise InputError(
        f"{what}: no {windows} has an observed target with an observed value in its "
        f"look-back, so there is nothing to score; {hint}pass rows where the series are "
        "observed (the horizon rows and the look-back before them)"
    )


def fold_left_out(empty: Any, names: list, fold: int) -> list[tuple[Any, int]]:
    """``(series, fold)`` of one fold's left-out series (``empty``: ``[N]``, or None)."""
    return [] if empty is None else [(names[j], fold) for j in np.flatnonzero(empty)]


def warn_left_out_folds(pairs: list[tuple[Any, int]], lookback: int) -> None:
    """:func:`warn_left_out` for the ``(series, fold)`` pairs left out of a fold's scores."""
    folds: dict[Any, list[int]] = {}
    for series, fold in pairs:
        folds.setdefault(series, []).append(fold)
    found = [f"{s!r} (fold {', '.join(map(str, f))})" for s, f in folds.items()]
    warn_left_out("folds", found, lookback)
