"""Small building blocks shared by the models."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LANES = 3  # 16-bit random lanes taken from each 64-bit word (its top 15 bits are not used)


def cpu_dropout_mask(shape: torch.Size, p: float) -> Tensor:
    """A keep-mask with P(keep) = 1 - p, p rounded to a multiple of 2**-16.

    torch's CPU dropout draws one 32-bit number per element and costs about as much as a
    matrix product of the same activations; slicing 64-bit random words into 16-bit lanes
    needs a third of the draws and halves the cost of dropout in a training step.
    """
    n = shape.numel()
    words = torch.empty((n + _LANES - 1) // _LANES, dtype=torch.int64).random_()
    lanes = words.view(torch.int16).view(-1, 4)[:, :_LANES]
    keep = lanes >= round(p * 65536) - 32768
    return keep.reshape(-1)[:n].view(shape)


class Dropout(nn.Module):
    """``nn.Dropout`` with a faster mask on CPU; identical to ``F.dropout`` elsewhere."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, True)
        return x * cpu_dropout_mask(x.shape, self.p) * (1.0 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def replace_modules(
    model: nn.Module, match: Callable[[nn.Module], bool], make: Callable[[nn.Module], nn.Module]
) -> None:
    """Replace, in place, every submodule of ``model`` for which ``match`` holds by ``make(it)``."""
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if match(child):
                setattr(parent, name, make(child))


def use_fast_dropout(model: nn.Module) -> None:
    """Swap every ``nn.Dropout`` inside ``model`` (a Hugging Face backbone, say) for
    :class:`Dropout` with the same ``p``; attention code that reads ``.p`` still works."""
    replace_modules(model, lambda m: type(m) is nn.Dropout, lambda m: Dropout(m.p))


def use_torch_dropout(model: nn.Module) -> None:
    """The reverse of :func:`use_fast_dropout`: torch's own masks, same ``p``."""
    replace_modules(model, lambda m: isinstance(m, Dropout), lambda m: nn.Dropout(m.p))
