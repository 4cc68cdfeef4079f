"""Test-only models, registered inside a test (never in tsfm's REGISTRY): honest linear
forecasters that take every input tsfm has (tests/helpers/broken_models.py breaks them one
thing at a time, for tests/models/test_contract_catches.py; the command line's test of a
checkpoint uses one that forecasts only the variates it was trained on)."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor, nn

from tsfm.errors import InputError
from tsfm.models import Capabilities, InstanceNorm


def _hide(values: Tensor, mask: Tensor | None) -> Tensor:
    return values if mask is None else torch.where(mask > 0, values, 0)


class SharedLinear(nn.Module):
    """Each look-back instance-normalised over its observed values, one
    ``Linear(seq_len -> pred_len)`` shared by every variate, plus linear terms of the past
    covariates' look-back, the future covariates' look-back and horizon and the static
    covariates; the output de-normalised. Masked-out inputs enter as 0.

    Reference: none, a test model.

    Args:
        seq_len, pred_len, horizon, n_vars, n_past, n_future, n_static_real,
        static_cardinalities, masked: from the data.
    """

    SMOKE_SETTINGS: dict = {}

    CAPABILITIES = Capabilities(
        new_variates=True,
        past_covariates=True,
        future_covariates=True,
        static_covariates=True,
        missing_values=True,
    )

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        horizon: int | None = None,
        n_vars: int = 1,
        n_past: int = 0,
        n_future: int = 0,
        n_static_real: int = 0,
        static_cardinalities: list[int] | None = None,
        masked: bool = False,
    ):
        super().__init__()
        pred_len = self.output_steps(pred_len, horizon)
        self.n_vars = n_vars
        self.head = nn.Linear(seq_len, pred_len)
        self.past = nn.Linear(seq_len * n_past, pred_len) if n_past else None
        steps = seq_len + (horizon or pred_len)
        self.future = nn.Linear(steps * n_future, pred_len) if n_future else None
        self.static_real = nn.Linear(n_static_real, pred_len) if n_static_real else None
        self.static_cat = nn.ModuleList(
            nn.Embedding(c + 1, pred_len) for c in static_cardinalities or []
        )
        self.add_parts(seq_len, pred_len, n_vars)

    def output_steps(self, pred_len: int, horizon: int | None) -> int:
        """The steps its maps forecast (a variant may size them otherwise)."""
        return pred_len

    def add_parts(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        """Where a variant builds parts of its own, after the shared ones."""

    def forward(
        self,
        x: Tensor,
        past_covariates: Tensor | None = None,
        future_covariates: Tensor | None = None,
        static_real: Tensor | None = None,
        static_cat: Tensor | None = None,
        x_mask: Tensor | None = None,
        past_covariates_mask: Tensor | None = None,
        future_covariates_mask: Tensor | None = None,
        **_: object,
    ) -> Tensor:
        norm = InstanceNorm(x, mask=x_mask)
        out = self.project(_hide(norm.normalize(x), x_mask).transpose(1, 2))  # [B, N, S]
        if self.past is not None and past_covariates is not None:
            past = _hide(past_covariates, past_covariates_mask).flatten(1)
            out = out + self.past(past)[:, None]
        if self.future is not None and future_covariates is not None:
            future = _hide(future_covariates, future_covariates_mask).flatten(1)
            out = out + self.future(future)[:, None]
        if self.static_real is not None and static_real is not None:
            out = out + self.static_real(static_real)
        if static_cat is not None:
            for j, embedding in enumerate(self.static_cat):
                out = out + embedding(static_cat[..., j])
        return norm.denormalize(out.transpose(1, 2))

    def project(self, series: Tensor) -> Tensor:
        """``[B, N, L]`` -> ``[B, N, S]``."""
        return self.head(series)


class PerVariateLinear(SharedLinear):
    """:class:`SharedLinear` with one map per variate: it forecasts the ``n_vars`` variates
    it was built for only, says so (``new_variates=False``) and refuses other counts."""

    CAPABILITIES = replace(SharedLinear.CAPABILITIES, new_variates=False)

    def add_parts(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        scale = seq_len**-0.5
        self.maps = nn.Parameter(torch.empty(n_vars, pred_len, seq_len).uniform_(-scale, scale))

    def project(self, series: Tensor) -> Tensor:
        if series.shape[1] != self.n_vars:
            raise InputError(
                f"built for {self.n_vars} variates (one map each), got {series.shape[1]}"
            )
        return self.weighted(series)

    def weighted(self, series: Tensor) -> Tensor:
        return torch.einsum("bnl,nsl->bns", series, self.maps) + self.head.bias


class NeedsCalendarRefuses(SharedLinear):
    """Honest about needing calendar features: refuses data without them."""

    def __init__(
        self,
        seq_len: int,
        pred_len: int,
        horizon: int | None = None,
        n_vars: int = 1,
        n_past: int = 0,
        n_future: int = 0,
        n_static_real: int = 0,
        static_cardinalities: list[int] | None = None,
        masked: bool = False,
        n_marks: int = 0,
    ):
        if not n_marks:
            raise InputError("this model needs calendar features: give the data timestamps")
        super().__init__(
            seq_len,
            pred_len,
            horizon,
            n_vars,
            n_past,
            n_future,
            n_static_real,
            static_cardinalities,
            masked,
        )
