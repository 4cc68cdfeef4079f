"""S2IP-LLM's building blocks: patch tokens, semantic anchors, output heads.

Shapes: ``R`` rows (batch x variates, channels folded into the batch), ``L`` look-back,
``P`` patch size, ``s`` stride, ``Np`` patches, ``D`` backbone width, ``K`` prompts,
``T = K + Np`` tokens, ``S`` horizon.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tsfm.errors import InputError


def l2_normalize(x: Tensor, dim: int = -1, epsilon: float = 1e-12) -> Tensor:
    """``x / ||x||`` with the official code's floor on the squared norm."""
    square_sum = (x * x).sum(dim, keepdim=True)
    return x * torch.rsqrt(square_sum.clamp_min(epsilon))


_ANCHOR_ROWS = 64  # anchor-gradient rows computed at once (64 x 50257 floats: 13 MB)


class _AnchorMap(torch.autograd.Function):
    """The anchors ``W V + b`` (``[pool, D]``; ``V`` the ``[vocab, D]`` vocabulary, ``W`` the
    ``[pool, vocab]`` map) with a backward that only multiplies the anchors that got a
    gradient. Only the retrieved (top-k) anchors do, at most ``rows x top_k`` of the pool, so
    the ``[pool, V] x [V, D]`` weight gradient shrinks to ``[used, V]``; the other rows are
    exactly zero, as in the dense product."""

    @staticmethod
    def forward(
        ctx, weight: Tensor, bias: Tensor, vocabulary: Tensor, weight_copy: Tensor | None = None
    ) -> Tensor:
        """``weight_copy``: ``weight`` already in the autocast dtype, to multiply with instead."""
        ctx.save_for_backward(weight, vocabulary)
        return F.linear(vocabulary.t(), weight if weight_copy is None else weight_copy, bias).t()

    @staticmethod
    def backward(ctx, grad: Tensor):
        weight, vocabulary = ctx.saved_tensors
        grad_weight = grad_bias = grad_vocabulary = None
        if ctx.needs_input_grad[0]:
            used = grad.ne(0).any(1).nonzero().squeeze(1)
            grad_weight = torch.zeros_like(weight)
            transposed = vocabulary.t().to(grad.dtype)
            for chunk in used.split(_ANCHOR_ROWS):  # bounded scratch: [rows, V] at a time
                grad_weight[chunk] = (grad[chunk] @ transposed).to(weight.dtype)
        if ctx.needs_input_grad[1]:
            grad_bias = grad.sum(1).to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_vocabulary = (weight.t().to(grad.dtype) @ grad).to(vocabulary.dtype)
        return grad_weight, grad_bias, grad_vocabulary, None


class LowPrecisionCopies:
    """Copies of the anchor map's operands in the autocast dtype, kept between steps.

    Autocast would cast the frozen ``[V, D]`` vocabulary anew every step and the ``[pool, V]``
    weight into a fresh 100 MB tensor; the vocabulary's copy is made once (remade if it
    changes), the weight's is refreshed in place. Not module state: never saved.
    """

    def __init__(self) -> None:
        self._vocabulary: tuple[tuple, Tensor] | None = None
        self._weight: Tensor | None = None

    def vocabulary(self, vocabulary: Tensor) -> Tensor:
        dtype = torch.get_autocast_dtype(vocabulary.device.type)
        if vocabulary.requires_grad:  # trainable: autocast casts it (and its gradient)
            return vocabulary
        key = (vocabulary.data_ptr(), vocabulary._version, vocabulary.device, dtype)
        if self._vocabulary is None or self._vocabulary[0] != key:
            with torch.inference_mode(False):  # a copy made while forecasting serves training too
                self._vocabulary = (key, vocabulary.detach().to(dtype))
        return self._vocabulary[1]

    def weight(self, weight: Tensor) -> Tensor:
        dtype = torch.get_autocast_dtype(weight.device.type)
        copy = self._weight
        if (
            copy is None
            or copy.shape != weight.shape
            or (copy.dtype, copy.device)
            != (
                dtype,
                weight.device,
            )
        ):
            copy = self._weight = torch.empty_like(weight, dtype=dtype)
        with torch.no_grad():
            return copy.copy_(weight)


class SemanticAnchors(nn.Module):
    """A pool of anchors ``A = W V + b``: learned mixtures of the frozen vocabulary ``V``.

    ``forward`` retrieves, for every row, the ``top_k`` anchors most cosine-similar to the mean
    token embedding and returns them un-normalised as prompts, with the indices and the
    alignment score ``sum_{rows, k} cos(q, A_k) / R`` (official ``reduce_sim``).
    """

    def __init__(self, vocab_size: int, pool_size: int, top_k: int):
        super().__init__()
        if not 1 <= top_k <= pool_size:
            raise InputError(f"prompt_length ({top_k}) must be in [1, pool_size={pool_size}]")
        self.top_k = top_k
        self.prototype = nn.Linear(vocab_size, pool_size)
        self._cache: tuple[tuple, Tensor] | None = None
        self._low_precision = LowPrecisionCopies()

    def anchors(self, vocabulary: Tensor) -> Tensor:
        """``[pool, D]`` from the vocabulary ``[V, D]``; cached while nothing can change it."""
        weight, copy, source = self.prototype.weight, None, vocabulary
        if torch.is_autocast_enabled(weight.device.type):  # low-precision copies, kept
            vocabulary = self._low_precision.vocabulary(vocabulary)
            copy = self._low_precision.weight(weight) if torch.is_grad_enabled() else None
        compute = partial(_AnchorMap.apply, weight, self.prototype.bias)
        if torch.is_grad_enabled():
            self._cache = None
            return compute(vocabulary, copy)
        key = (
            self.prototype.weight._version,
            self.prototype.bias._version,
            self.prototype.weight.data_ptr(),
            source._version,  # the parameter's: its copy may be an inference tensor
            source.data_ptr(),
            torch.is_autocast_enabled(vocabulary.device.type),
        )
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, compute(vocabulary, None))
        return self._cache[1]

    def forward(self, tokens: Tensor, vocabulary: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``tokens [R, Np, D]`` -> prompts ``[R, K, D]``, indices ``[R, K]``, score (scalar).

        Retrieval and the alignment score are computed in float32 even under autocast: in
        bf16 the cosines of close anchors tie or swap, which changes the prompts chosen."""
        anchors = self.anchors(vocabulary)
        with torch.autocast(tokens.device.type, enabled=False):
            query = l2_normalize(tokens.mean(1, dtype=torch.float32))
            keys = l2_normalize(anchors.float())
            similarity = query @ keys.t()  # [R, pool]
            indices = similarity.topk(self.top_k, dim=1).indices
            score = (keys[indices] * query.unsqueeze(1)).sum() / tokens.shape[0]
        return anchors[indices], indices, score

    def nearest_tokens(self, vocabulary: Tensor, top: int = 5) -> Tensor:
        """``[pool, top]`` ids of the vocabulary tokens most cosine-similar to each anchor."""
        with torch.no_grad():
            keys = l2_normalize(self.anchors(vocabulary).float())
            return (keys @ l2_normalize(vocabulary.float()).t()).topk(top, dim=1).indices


class ChunkSumHead(nn.Module):
    """The official head: the flattened ``[T * D]`` hidden state is cut into three contiguous
    chunks (token ranges, not components), one shared ``Linear(T*D/3 -> S)`` maps each, and the
    three results are summed."""

    def __init__(self, tokens: int, width: int, pred_len: int):
        super().__init__()
        if (tokens * width) % 3:
            raise InputError(
                f"head='chunk_sum' needs tokens x width divisible by 3, got {tokens} x {width}; "
                "use head='component' or another prompt_length"
            )
        self.linear = nn.Linear(tokens * width // 3, pred_len)

    def forward(self, hidden: Tensor) -> tuple[Tensor, None]:
        rows = hidden.shape[0]
        return self.linear(hidden.reshape(rows * 3, -1)).view(rows, 3, -1).sum(1), None


class ComponentHead(nn.Module):
    """One ``Linear(T*D -> S)`` per component (trend, seasonal, residual), summed, as the paper
    describes; also returns the per-component forecasts ``[R, 3, S]``."""

    def __init__(self, tokens: int, width: int, pred_len: int):
        super().__init__()
        self.pred_len = pred_len
        self.linear = nn.Linear(tokens * width, 3 * pred_len)

    def forward(self, hidden: Tensor) -> tuple[Tensor, Tensor]:
        parts = self.linear(hidden.flatten(1)).view(hidden.shape[0], 3, self.pred_len)
        return parts.sum(1), parts


HEADS = {"chunk_sum": ChunkSumHead, "component": ComponentHead}
