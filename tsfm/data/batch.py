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
    """A batch of ``B`` windows with look-back ``L``, horizon ``H``, ``N`` variates, ``C``
    calendar features. Values are scaled (the data module's scaler); only ``x`` is required.

    Attributes:
        x: ``[B, L, N]`` look-back values.
        y: ``[B, H, N]`` target values (never given to the model).
        x_mark, y_mark: ``[B, L, C]`` and ``[B, H, C]`` calendar features.
        x_mask: ``[B, L, N]`` 1 where a look-back value exists, 0 where it was padded.
        y_mask: ``[B, H, N]`` 1 where a target exists; the loss and metrics ignore the rest
            (never given to the model).
        index: ``[B]`` the window's fixed position in its split (a valid cache key).
        series: ``[B]`` the series (row of a panel) of each sample, for sampled windows that
            have no fixed position.
        variate: ``[B]`` channel-independent samples: the variate each sample holds.
        variates: ``[k]`` the variates sampled for the whole batch (efficient training).
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


BATCH_KEYS: tuple[str, ...] = tuple(Batch.__annotations__)
TARGET_KEYS: tuple[str, ...] = ("y", "y_mask")
"""Entries a model never sees: what it must forecast."""


def model_inputs(batch: Batch) -> dict[str, Tensor]:
    """The entries of ``batch`` a model's ``forward`` receives (all but the targets)."""
    return {k: v for k, v in batch.items() if k not in TARGET_KEYS}


def batch_to(batch: Batch, device: torch.device | str) -> Batch:
    """``batch`` with every tensor on ``device``."""
    return Batch(**{k: v.to(device) for k, v in batch.items()})
