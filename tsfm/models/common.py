"""What every model shares: the output type, the capability table, instance normalisation,
patching, small blocks (a fast CPU dropout, module swaps) and the switch that builds
pretrained parts as bare architectures when saved weights will replace them.

A fourth model takes what it needs from here instead of writing it again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.errors import InputError


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


@dataclass(frozen=True)
class Capabilities:
    """What a model can take and do, declared once per model (``CAPABILITIES`` on its class);
    the front doors check it before training.

    Attributes:
        new_variates: a trained model forecasts variates it was not trained on (other names,
            another count), because no weight belongs to a variate (e.g. iTransformer's shared
            token embedding, channel-independent models). Without it, ``forward`` refuses
            a count of variates other than the ``n_vars`` it was built for (InputError).
        past_covariates: ``forward`` takes ``past_covariates [B, L, P]``. Models without it
            get them as extra input variates whose forecasts are dropped (the official
            code's ``features=MS``).
        future_covariates: ``forward`` takes ``future_covariates [B, L + H, F]``; others
            cannot use covariates known for the horizon (the front doors refuse them).
        static_covariates: ``forward`` takes ``static_real [B, N, Sr]`` and
            ``static_cat [B, N, Sc]`` (its constructor ``n_static_real`` and
            ``static_cardinalities``).
        missing_values: ``forward`` takes the observation masks (``x_mask``, ...) and reads
            them: hiding observed steps changes its output. Missing inputs arrive filled
            (last observation) for every model; the others get no mask.
        aux_losses: the names of the auxiliary losses ``forward`` may return in
            ``ModelOutput.aux_losses`` (logged as ``train/<name>``; a run may monitor them).
        channel_independent: each variate's forecast reads its own look-back only (the
            variates are folded into the batch). Past covariates given to it as extra input
            variates (no ``past_covariates``) would never reach a target's forecast, so the
            front doors refuse them, ``features=MS`` included, and never advise them.
    """

    new_variates: bool = False
    past_covariates: bool = False
    future_covariates: bool = False
    static_covariates: bool = False
    missing_values: bool = False
    aux_losses: tuple[str, ...] = ()
    channel_independent: bool = False

    @property
    def uses_past_covariates(self) -> bool:
        """Whether past covariates reach the forecasts: natively, or as extra input variates
        of a model that mixes its variates."""
        return self.past_covariates or not self.channel_independent


class InstanceNorm:
    """Per-sample, per-variate normalisation over the look-back window (RevIN without affine).

    With ``mask`` (1 where observed) the statistics use the observed values only. ``mean`` is
    detached; ``std = sqrt(var + eps)`` with the population variance. Whether the
    std is detached differs between the official codes (iTransformer: no; S2IP-LLM's M4 code:
    yes), hence ``detach_std``.
    """

    def __init__(
        self,
        x: Tensor,
        dim: int = 1,
        eps: float = 1e-5,
        detach_std: bool = False,
        mask: Tensor | None = None,
    ):
        if mask is None:
            self.mean = x.mean(dim, keepdim=True).detach()
            var = torch.var(x - self.mean, dim=dim, keepdim=True, unbiased=False)
        else:  # statistics of the observed values only (none observed: mean 0, var 0)
            count = mask.sum(dim, keepdim=True).clamp(min=1)
            self.mean = ((x * mask).sum(dim, keepdim=True) / count).detach()
            var = ((x - self.mean).square() * mask).sum(dim, keepdim=True) / count
        std = torch.sqrt(var + eps)
        self.std = std.detach() if detach_std else std

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, y: Tensor) -> Tensor:
        return y * self.std + self.mean


def n_patches(seq_len: int, patch_len: int, stride: int) -> int:
    """Patches of a look-back after the end padding of :func:`patchify`: ``(L - P) // s + 2``."""
    return (seq_len - patch_len) // stride + 2


def patchify(series: Tensor, patch_len: int, stride: int) -> Tensor:
    """``[..., L]`` -> ``[..., Np, patch_len]``: the last value repeated ``stride`` times (the
    official S2IP-LLM ``ReplicationPad1d((0, stride))``, PatchTST's end padding), then patches
    of ``patch_len`` every ``stride`` steps, so ``Np = n_patches(L, patch_len, stride)``."""
    shape = series.shape
    rows = series.reshape(-1, 1, shape[-1])
    padded = F.pad(rows, (0, stride), mode="replicate")
    patches = padded.unfold(-1, patch_len, stride)  # [R, 1, Np, P]
    return patches.reshape(*shape[:-1], patches.shape[-2], patch_len)


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
            raise InputError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, True)
        keep, scale = cpu_dropout_mask(x.shape, self.p).to(x.dtype), 1.0 / (1 - self.p)
        if x.dtype in (torch.float32, torch.float64):  # the mask holds the scale exactly as
            return x * keep.mul_(scale)  # x * scale rounds it: one product each way, same bits
        return x * keep * scale  # bf16/fp16 multiply by the scale in fp32: not in the mask

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


_RESTORING: ContextVar[dict[str, Any] | None] = ContextVar(
    "tsfm_restoring_saved_weights", default=None
)
_TO_TRAIN: ContextVar[bool] = ContextVar("tsfm_restoring_to_train", default=False)


@contextmanager
def restoring_saved_weights(
    architectures: Mapping[str, Any] | None = None, to_train: bool = False
) -> Iterator[None]:
    """Models built inside take their weights from a state dict loaded right after (a saved
    Forecaster, a run's checkpoint): pretrained parts are built as architectures only, with
    random weights and without reading their pretrained source, so a saved model loads on a
    machine that has no copy of (and no network for) the backbone it was trained from. The
    models' settings, and so every refit, still name and load that source.

    ``architectures``: the architecture configs the save recorded for those parts (a model's
    ``backbone_architectures``, keyed by the setting that names each part's source, e.g.
    ``{"backbone": <config.json's content>}``): they are built from these copies
    (:func:`recorded_architecture`), so that the source's config, changed or gone since,
    neither changes nor breaks the model. Saves written before tsfm recorded them have none:
    their parts' architectures are read from the source, as then.

    ``to_train``: the model is trained further (a warm fit), so frozen parts a state dict
    leaves out (TimesCLIP's frozen vision tower, which training uses) are still read from
    their source, whose architecture must be the recorded one; only what the state dict
    holds is built as an architecture only."""
    architectures = copy.deepcopy(dict(architectures or {}))
    token, train_token = _RESTORING.set(architectures), _TO_TRAIN.set(to_train)
    try:
        yield
    finally:
        _TO_TRAIN.reset(train_token)
        _RESTORING.reset(token)


def restoring() -> bool:
    """Whether a model is being built inside :func:`restoring_saved_weights`."""
    return _RESTORING.get() is not None


def restoring_to_train() -> bool:
    """Whether a model is being built inside ``restoring_saved_weights(to_train=True)``: the
    parts its state dict leaves out must be built from their source."""
    return restoring() and _TO_TRAIN.get()


def recorded_architecture(setting: str) -> dict[str, Any] | None:
    """Inside :func:`restoring_saved_weights`: a copy of the architecture config recorded for
    the pretrained part whose source the model setting ``setting`` names (``backbone``,
    ``clip``, ``vision``); None when the save recorded none, or outside it."""
    recorded = (_RESTORING.get() or {}).get(setting)
    return copy.deepcopy(recorded) if recorded is not None else None


# Entries of an architecture config that say where, by which version and in which dtype it was
# written (a transformers config.json's: save_pretrained adds dtype), not what is built.
BOOKKEEPING = (
    "_name_or_path",
    "transformers_version",
    "architectures",
    "_commit_hash",
    "dtype",
    "torch_dtype",
)


def architecture_differences(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The entries in which two architecture configs differ, as ``"key: saved -> now"``
    (nested keys dotted; the top-level :data:`BOOKKEEPING` entries are not compared)."""

    def flat(node: Any, where: str = "") -> dict[str, Any]:
        if not isinstance(node, Mapping):
            return {where: node}
        items = {f"{where}{k}": v for k, v in node.items() if where or k not in BOOKKEEPING}
        return {key: leaf for k, v in items.items() for key, leaf in flat(v, f"{k}.").items()}

    a, b = flat(saved), flat(now)
    return [
        f"{key.rstrip('.')}: {a.get(key)!r} -> {b.get(key)!r}"
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]
