"""The choice of the training rows' scaler (``data.scaler``; the Forecaster's ``scaler``):
``standard`` (mean and standard deviation, the default) or ``robust`` (median and
interquartile range), for the joint data module, a panel of independent series and the
series or variates a loaded Forecaster scales by their own rows.

``robust`` scales each column (each series' column in a panel) by ``(x - median) / s`` over
its observed training rows, ``s`` the first of these that is not zero:

1. the interquartile range / 1.349 (the 25 % and 75 % quantiles, NumPy's default linear
   interpolation as scikit-learn's ``RobustScaler``; 1.349 = 2 * 0.6745, the normal's
   quartiles, so that ``s`` is the standard deviation of normal data and the scaled values
   span what the standard scaler's would without outliers);
2. the 10 %-90 % range / 2.563, then the 1 %-99 % range / 4.653: a column mostly of one value
   (intermittent counts, a flag) has no interquartile range (its median absolute deviation
   is zero as well: at least half of its values are its median), and these are the robust
   standard deviations the extreme-values warning reports (:data:`SPREADS`);
3. the standard deviation (population, as the standard scaler's), and for a column constant
   in its training rows the standard scaler's rule, ``min(|median|, 1)`` (1 where it is 0:
   :func:`~tsfm.data.scaler.constant_scale`).

A spread counts as zero within float64 rounding of the median (10 ulp) or below float32's
smallest normal number (the models compute in float32). The statistics are float64, stored
as the standard scaler's (``mean`` holds the median, ``std`` the scale): a saved robust fit
loads and unscales exactly as it was fitted.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tsfm.data.extreme_values import SPREADS
from tsfm.data.scaler import ROUNDING, StandardScaler
from tsfm.errors import InputError

SCALERS = ("standard", "robust")


def check_scaler_kind(value: Any, name: str = "data.scaler") -> None:
    """Refuse a scaler choice other than :data:`SCALERS` (``name``: the caller's name of it)."""
    if not isinstance(value, str) or value not in SCALERS:
        raise InputError(
            f"{name} must be one of {SCALERS}, got {value!r}: 'standard' (mean and standard "
            "deviation of the training rows, the default) or 'robust' (median and "
            "interquartile range, for training rows holding outliers)"
        )


def check_scaler_setting(data: Any, describe: Callable[[str], str] = str) -> None:
    """Refuse an unknown ``data.scaler``, or a robust one a run would not use: ``data.scale``
    off scales nothing (a panel of independent series is scaled either way)."""
    scaler = data.get("scaler", "standard")
    check_scaler_kind(scaler, describe("data.scaler"))
    if scaler != "standard" and not data.get("scale", True) and data.get("mode") != "independent":
        raise InputError(
            f"{describe('data.scaler')}={scaler!r} chooses the statistics the data is scaled "
            f"with, and {describe('data.scale')}=false scales nothing: drop one of them"
        )


def robust_statistics(values: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale of ``values [T, C]`` (NaN left out; see the module
    docstring), ``fallback [C]`` the scale of a column without a robust spread (the standard
    scaler's: its standard deviation, or for a constant column the constant rule's,
    :func:`~tsfm.data.scaler.constant_rule`, whose mean is the median). A column with no
    observed value gets a NaN median."""
    values = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():  # a column never observed: NaN, handled by the callers
        warnings.simplefilter("ignore", RuntimeWarning)
        center = np.nanmedian(values, axis=0)
        quantiles = np.nanquantile(values, [q for low, _ in SPREADS for q in (low, 1 - low)], 0)
    floor = np.maximum(ROUNDING * np.abs(center), np.finfo(np.float32).tiny)
    scale = np.array(fallback, dtype=np.float64)
    found = np.zeros(center.shape, dtype=bool)
    for k, (_, width) in enumerate(SPREADS):
        with np.errstate(over="ignore", invalid="ignore"):
            spread = (quantiles[2 * k + 1] - quantiles[2 * k]) / width
        usable = ~found & np.isfinite(spread) & (spread > floor)
        scale[usable], found = spread[usable], found | usable
    return center, scale


class RobustScaler(StandardScaler):
    """``(x - median) / s`` per variate (the module docstring defines ``s``); ``mean`` holds
    the median and ``std`` the scale, so that it saves, loads, subsets and unscales as the
    standard scaler does (a loaded one is that affine map, whichever scaler fitted it)."""

    def fit(self, values: np.ndarray, columns: list | None = None) -> RobustScaler:
        """The standard scaler's fit (its refusals: a column never observed, values too large
        for float64 statistics or varying by less than float32 holds), then the median and
        the robust scale, its standard deviation where it has none."""
        super().fit(values, columns)
        self.mean, self.std = robust_statistics(values, self.std)
        return self


def make_scaler(kind: str = "standard") -> StandardScaler:
    """An unfitted scaler of ``kind`` (:data:`SCALERS`)."""
    check_scaler_kind(kind)
    return RobustScaler() if kind == "robust" else StandardScaler()
