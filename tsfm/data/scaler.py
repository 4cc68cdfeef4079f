"""Per-variate standard scaling, fitted on training rows only."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from tsfm.errors import InputError

ROUNDING = 10 * np.finfo(np.float64).eps  # a spread within this share of the mean is none


class StandardScaler:
    """``(x - mean) / std`` per variate, population std (as scikit-learn's StandardScaler).

    A constant variate (one value in all its observed training rows, checked exactly by
    :func:`constant_columns`, or no spread beyond float64 rounding of its mean) has that
    value as its mean and gets ``std = min(|mean|, 1)``
    (:func:`constant_scale`; 1 when the mean is 0), so it is centred, not blown up, and the
    models' normalisation noise (about 1e-3 of the scale) comes back no larger than the
    constant allows: a constant 1e-8 is forecast as 1e-8 to about 1e-3 of it, not with noise
    of 1e-3 absolute units (the std of 1 scalers fitted before gave any constant; they are
    stored with their std and load as they were).
    """

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.std = None if std is None else np.asarray(std, dtype=np.float64)

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    def fit(self, values: np.ndarray, columns: list | None = None) -> StandardScaler:
        """Per-variate mean and std of ``values [T, N]``, NaN (masked) values left out;
        refused (naming ``columns``) when a column has no observed value or its statistics
        overflow float64, as for values beyond about 1e154."""
        values = np.asarray(values, dtype=np.float64)
        names = list(columns) if columns is not None else list(range(values.shape[1]))
        observed = (~np.isnan(values)).sum(axis=0)
        if (observed == 0).any():
            name = names[int(np.argmin(observed))]
            raise InputError(
                f"column '{name}' has no observed value in the training rows, so it cannot be "
                "scaled; drop it or train on rows where it was observed"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            mean = np.nanmean(values, axis=0)
            std = np.nanstd(values, axis=0)
            largest = np.nanmax(np.abs(values), axis=0)
            tiny = (largest > 0) & (largest < 1e-150)  # their squares underflow to zero
            if tiny.any():
                std[tiny] = np.nanstd(values[:, tiny] / largest[tiny], axis=0) * largest[tiny]
        overflow = ~(np.isfinite(mean) & np.isfinite(std))
        if overflow.any():
            bad = [names[j] for j in np.flatnonzero(overflow)]
            largest = float(np.nanmax(np.abs(values[:, overflow])))
            raise InputError(
                f"the values of column(s) {bad} (up to {largest:.3g}) are too large for their "
                "mean and standard deviation to be computed in float64; rescale them (e.g. "
                "divide by a power of ten) before fitting"
            )
        # constant: one value in its observed rows (exactly: the std of a column summed along
        # a row-major array holds the mean's accumulated rounding, 1e-15 of it and more), or no
        # spread beyond float64 rounding of the mean (relative, so that a series of tiny
        # values, 1e-15, keeps its own scale), or none float32 can hold
        self.mean, scale, constant = constant_rule(values, mean, std, ROUNDING)
        tiny = np.finfo(np.float32).tiny
        too_fine = ~constant & (std <= tiny)
        if too_fine.any():
            bad = [names[j] for j in np.flatnonzero(too_fine)]
            raise InputError(
                f"column(s) {bad} vary by less than {tiny:.3g}, the smallest number float32 "
                "(which the models compute in) holds; rescale them (multiply by a power of ten)"
            )
        self.std = scale
        return self

    def _check(self, n: int) -> None:
        if not self.fitted:
            raise RuntimeError("the scaler is not fitted; call fit() first")
        if n != self.mean.shape[0]:
            raise InputError(f"the scaler was fitted on {self.mean.shape[0]} variates, got {n}")

    def transform(self, values: np.ndarray) -> np.ndarray:
        self._check(values.shape[-1])
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std

    def inverse_transform(self, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        self._check(values.shape[-1])
        if isinstance(values, torch.Tensor):
            mean = torch.as_tensor(self.mean, dtype=values.dtype, device=values.device)
            std = torch.as_tensor(self.std, dtype=values.dtype, device=values.device)
            return values * std + mean
        return np.asarray(values) * self.std + self.mean

    def subset(self, index: list[int] | np.ndarray) -> StandardScaler:
        """The scaler of a subset of the variates (``index`` into the fitted ones)."""
        self._check(self.mean.shape[0])
        return StandardScaler(self.mean[index], self.std[index])

    def state_dict(self) -> dict[str, list[float]]:
        """Plain lists, safe to store as JSON."""
        self._check(self.mean.shape[0])
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state_dict(cls, state: dict[str, list[float]]) -> StandardScaler:
        return cls(np.asarray(state["mean"]), np.asarray(state["std"]))


def constant_columns(values: np.ndarray) -> np.ndarray:
    """Whether each column of ``values [T, C]`` holds one value in all its observed (not NaN)
    rows, compared exactly (no rounding tolerance, whatever the array's memory layout); False
    for a column with no observed value."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] == 0:
        return np.zeros(values.shape[1:], dtype=bool)
    with warnings.catch_warnings():  # a column never observed: NaN, so not constant
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=0) == np.nanmin(values, axis=0)


def constant_rule(
    values: np.ndarray, mean: np.ndarray, std: np.ndarray, relative: float, floor: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The constant-column rule of every scaler: ``mean`` and ``std [C]`` (the statistics of
    ``values [T, C]``) with a constant column's (:func:`constant_columns`) mean its value, and
    the scale :func:`constant_scale` of it, or of one whose std is at most ``relative *
    max(|mean|, floor)``; returns ``(mean, scale, constant)``, ``constant`` the columns it
    applied to."""
    values = np.asarray(values, dtype=np.float64)
    constant = constant_columns(values)
    mean = np.array(mean, dtype=np.float64)
    if constant.any():
        mean[constant] = np.nanmax(values[:, constant], axis=0)  # the value itself
    constant |= std <= relative * np.maximum(np.abs(mean), floor)
    return mean, np.where(constant, constant_scale(mean), std), constant


def constant_scale(mean: np.ndarray) -> np.ndarray:
    """The scale of a variate constant at ``mean``: the unit, or its magnitude ``|mean|`` where
    that is smaller (no less than float32's smallest normal number, which the models compute
    in), so that noise relative to the scale is relative to the constant; 1 where it is 0."""
    size = np.clip(np.abs(mean), np.finfo(np.float32).tiny, 1.0)
    return np.where(mean != 0, size, 1.0)
