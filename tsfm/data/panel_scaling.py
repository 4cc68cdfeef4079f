"""Each independent series scaled by its own observed values (its statistics, and the refusal
of a series with none), apart from the panel data module, which imports Lightning: a loaded
``mode="independent"`` Forecaster scales new series with them when it forecasts."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.data.robust_scaling import check_scaler_kind, robust_statistics
from tsfm.data.scaler import constant_rule
from tsfm.errors import InputError


def series_statistics(
    values: list[np.ndarray], rows: Sequence[int], scaler: str = "standard"
) -> tuple[np.ndarray, ...]:
    """Per-series, per-column mean and std ``[S, C]`` of the first ``rows[i]`` rows; with
    ``scaler="robust"`` the median and robust scale (:mod:`tsfm.data.robust_scaling`)."""
    with warnings.catch_warnings():  # a column never observed: 0 and 1, below
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.stack([np.nanmean(v[:n], axis=0) for v, n in zip(values, rows, strict=True)])
        std = np.stack([np.nanstd(v[:n], axis=0) for v, n in zip(values, rows, strict=True)])
    mean, std = np.nan_to_num(mean), np.nan_to_num(std)
    # a constant series: its own value and magnitude (as StandardScaler's), 1 where it is 0;
    # exactly one value in its observed rows, or a spread within 1e-12 of its mean (or of 1)
    ruled = [
        constant_rule(v[:n], m, s, 1e-12, 1.0)
        for v, n, m, s in zip(values, rows, mean, std, strict=True)
    ]
    mean, std = np.stack([m for m, _, _ in ruled]), np.stack([s for _, s, _ in ruled])
    if scaler == "standard":
        return mean, std
    check_scaler_kind(scaler)
    robust = [robust_statistics(v[:n], s) for v, n, s in zip(values, rows, std, strict=True)]
    return np.nan_to_num(np.stack([c for c, _ in robust])), np.stack([s for _, s in robust])


def require_observed(
    names: Sequence[Any], values: list[np.ndarray], rows: Sequence[int], n_targets: int, what: str
) -> None:
    """Refuse series whose first ``rows[i]`` rows observe none of a target's values: a series is
    scaled by its own observed values, and forecasting one from nothing would be made up."""
    empty = [
        s
        for s, v, n in zip(names, values, rows, strict=True)
        if np.isnan(v[:n, :n_targets]).all(axis=0).any()
    ]
    if empty:
        empty = list(dict.fromkeys(empty))  # evaluate asks once per window
        raise InputError(
            f"series {empty[:5]} have no observed target value in their {what} (every one is "
            "missing): a series is scaled by, and forecast from, its own observed values; "
            "drop it, or give it observed rows there"
        )
