"""Training losses by name. Each takes ``(prediction, target, mask=None)`` and returns a scalar.

With a ``mask`` (1 where the target exists, 0 where a window ran past the end of its series,
as in M4 training), masked-out elements contribute zero and the mean is still taken over
every element: the convention of the M4 losses in the official code (TSLib
``utils/losses.py``), which the other losses follow so that all of them mean the same.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from tsfm.errors import InputError

LossFn = Callable[..., Tensor]


class _Maskable:
    """An elementwise torch loss taking a mask (a class, not a closure: a fitted Forecaster
    holding it pickles)."""

    def __init__(self, elementwise: Callable[..., Tensor]) -> None:
        self.elementwise = elementwise
        self.__name__ = elementwise.__name__

    def __call__(self, prediction: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is None:
            return self.elementwise(prediction, target)
        return (self.elementwise(prediction, target, reduction="none") * mask).mean()


def smape(prediction: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """sMAPE in percent, ``200 |F - Y| / (|F| + |Y|)``, as the official M4 training loss: the
    forecast in the denominator carries no gradient, and 0/0 counts as 0."""
    denominator = prediction.detach().abs() + target.abs()
    ratio = (prediction - target).abs() / torch.where(denominator > 0, denominator, 1.0)
    if mask is not None:
        ratio = ratio * mask
    return 200.0 * ratio.mean()


LOSSES: dict[str, LossFn] = {
    "mse": _Maskable(F.mse_loss),
    "mae": _Maskable(F.l1_loss),
    "huber": _Maskable(F.huber_loss),
    "smape": smape,
}


def get_loss(name: str) -> LossFn:
    try:
        return LOSSES[name]
    except KeyError:
        raise InputError(f"unknown loss '{name}'; choose one of {sorted(LOSSES)}") from None
