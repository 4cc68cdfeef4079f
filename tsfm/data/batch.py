"""The batch contract: every key a batch may carry, named once.

The window datasets build batches, the training module and the estimator's inference path
read them, and models take the keys they need as keyword arguments of ``forward`` (every
key but the targets). A new input (a covariate, a mask) is added here first.
"""

from __future__ import annotations

from typing import TypedDict

import torch
from torch import Tensor


class Batch(TypedDict, total=False):
    """A batch of ``B`` windows with look-back ``L``, horizon ``H``, ``N`` target variates,
    ``C`` calendar features, ``P`` past and ``F`` future covariates, ``S`` static ones. Values
    are scaled (the data module's scalers); only ``x`` is required.

    Attributes:
        x: ``[B, L, N]`` look-back values of the targets.
        y: ``[B, H, N]`` target values (never given to the model).
        x_mark, y_mark: ``[B, L, C]`` and ``[B, H, C]`` calendar features.
        x_mask: ``[B, L, N]`` 1 where a look-back value was observed, 0 where it was missing
            or padded (its value is then filled).
        y_mask: ``[B, H, N]`` 1 where a target exists; the loss and metrics ignore the rest
            (never given to the model).
        past_covariates: ``[B, L, P]`` covariates observed up to the forecast origin only.
        past_covariates_mask: ``[B, L, P]`` 1 where observed (with ``missing="mask"``).
        future_covariates: ``[B, L + H, F]`` covariates known over the look-back and the
            horizon (calendar, holidays, day-ahead forecasts, planned prices).
        future_covariates_mask: ``[B, L + H, F]`` 1 where observed.
        static_real: ``[B, N, Sr]`` numeric static covariates of each target's series.
        static_cat: ``[B, N, Sc]`` categorical static covariates of each target's series, as
            embedding indices (0 is reserved for categories unseen in training).
        index: ``[B]`` the window's fixed position in its split (a valid cache key).
        series: ``[B]`` the series (row of a panel) of each sample, for sampled windows that
            have no fixed position.
        variate: ``[B]`` channel-independent samples: the variate each sample holds.
        variates: ``[k]`` the variates sampled for the whole batch (efficient training).
        x_original, y_original: ``[B, L, N]`` and ``[B, H, N]`` the look-back's and the
            horizon's target values as the data was read, in its units and precision
            (float64), gaps filled as in ``x`` and ``y`` (``x_mask``/``y_mask`` say where):
            what original-unit metrics, baselines and written actuals use, never values
            scaled and back. Evaluation batches only (validation and test); never given to
            the model. Without them (a data module that does not carry them) the scaled
            values are unscaled instead.
    """

    x: Tensor
    y: Tensor
    x_mark: Tensor
    y_mark: Tensor
    x_mask: Tensor
    y_mask: Tensor
    index: Tensor
    series: Tensor
    variate: Tensor
    variates: Tensor
    past_covariates: Tensor
    past_covariates_mask: Tensor
    future_covariates: Tensor
    future_covariates_mask: Tensor
    static_real: Tensor
    static_cat: Tensor
    x_original: Tensor
    y_original: Tensor


BATCH_KEYS: tuple[str, ...] = tuple(Batch.__annotations__)
TARGET_KEYS: tuple[str, ...] = ("y", "y_mask")
"""Entries a model never sees: what it must forecast."""
ORIGINAL_KEYS: tuple[str, ...] = ("x_original", "y_original")
"""The targets as read, for scoring only: a model never sees them either."""


def model_inputs(batch: Batch) -> dict[str, Tensor]:
    """The entries of ``batch`` a model's ``forward`` receives (all but the targets)."""
    return {k: v for k, v in batch.items() if k not in TARGET_KEYS and k not in ORIGINAL_KEYS}


def batch_to(batch: Batch, device: torch.device | str) -> Batch:
    """``batch`` with every tensor on ``device`` (float64 ones in float32 on MPS, which has
    no float64: the metrics are float32 there too)."""
    mps = torch.device(device).type == "mps"

    def moved(value: Tensor) -> Tensor:
        if mps and value.dtype == torch.float64:
            value = value.float()
        return value.to(device)

    return Batch(**{k: moved(v) for k, v in batch.items()})
