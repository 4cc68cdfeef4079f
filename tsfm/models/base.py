"""What every model returns, and the instance normalisation the three papers share."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass
class ModelOutput:
    """A model's forward result.

    Attributes:
        prediction: ``[B, pred_len, N]`` forecast in the (scaled) input space.
        aux_losses: extra training-loss terms, already weighted (e.g. S2IP-LLM's alignment,
            TimesCLIP's contrastive loss). They are added to the training loss only; validation
            and early stopping use the forecast loss alone.
        extras: anything else worth returning (attention maps, retrieved anchors); kept out of
            the loss.
    """

    prediction: Tensor
    aux_losses: dict[str, Tensor] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)


def as_output(result: Tensor | ModelOutput) -> ModelOutput:
    return result if isinstance(result, ModelOutput) else ModelOutput(result)


class InstanceNorm:
    """Per-sample, per-variate normalisation over the look-back window (RevIN without affine).

    ``mean`` is detached; ``std = sqrt(var + eps)`` with the population variance. Whether the
    std is detached differs between the official codes (iTransformer: no; S2IP-LLM's M4 code:
    yes), hence ``detach_std``.
    """

    def __init__(self, x: Tensor, dim: int = 1, eps: float = 1e-5, detach_std: bool = False):
        self.mean = x.mean(dim, keepdim=True).detach()
        std = torch.sqrt(torch.var(x - self.mean, dim=dim, keepdim=True, unbiased=False) + eps)
        self.std = std.detach() if detach_std else std

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, y: Tensor) -> Tensor:
        return y * self.std + self.mean
