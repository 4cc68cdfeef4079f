"""Test-only models, each getting one thing wrong that the model contract must catch
(tests/models/test_contract_catches.py); registered inside a test, never in tsfm's
REGISTRY. They break the honest models of tests/helpers/fixture_models.py."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from tests.helpers.fixture_models import PerVariateLinear, SharedLinear
from tsfm.models import InstanceNorm

# for variants that transform x before SharedLinear sees it (and its mask)
UNMASKED = replace(SharedLinear.CAPABILITIES, missing_values=False)


class IgnoresMasks(SharedLinear):
    """Declares missing values, never reads a mask."""

    def forward(self, x: Tensor, **inputs: Tensor) -> Tensor:
        kept = {k: v for k, v in inputs.items() if not k.endswith("_mask")}
        return super().forward(x, **kept)


class IgnoresPast(SharedLinear):
    def forward(self, x: Tensor, past_covariates: Tensor | None = None, **inputs) -> Tensor:
        return super().forward(x, **inputs)


class IgnoresFuture(SharedLinear):
    def forward(self, x: Tensor, future_covariates: Tensor | None = None, **inputs) -> Tensor:
        return super().forward(x, **inputs)


class IgnoresStatics(SharedLinear):
    def forward(self, x: Tensor, static_real=None, static_cat=None, **inputs) -> Tensor:
        return super().forward(x, **inputs)


class HidesIndependence(SharedLinear):
    """Takes past covariates as extra variates, which its shared linear map never mixes,
    without declaring itself channel-independent."""

    CAPABILITIES = replace(SharedLinear.CAPABILITIES, past_covariates=False)


class ClaimsIndependence(SharedLinear):
    """Declares itself channel-independent, but adds the spread of the first variate's
    look-back to every variate's forecast."""

    CAPABILITIES = replace(SharedLinear.CAPABILITIES, channel_independent=True)

    def forward(self, x: Tensor, **inputs: Tensor) -> Tensor:
        return super().forward(x, **inputs) + 0.1 * x[..., :1].std(dim=1, keepdim=True)


class BatchStatistics(SharedLinear):
    """Adds the level of the whole batch: a window's forecast depends on its batch."""

    CAPABILITIES = UNMASKED

    def forward(self, x: Tensor, **inputs: Tensor) -> Tensor:
        return super().forward(x, **inputs) + x.mean(dim=(0, 1))


class NeedsCalendar(SharedLinear):
    """Assumes calendar features always come."""

    def forward(self, x: Tensor, x_mark: Tensor | None = None, **inputs: Tensor) -> Tensor:
        return super().forward(x, **inputs) + 0 * x_mark[:, -1:, :1]


class HorizonSteps(SharedLinear):
    """Sizes its output by the horizon, not by ``pred_len`` (horizon x K under a head)."""

    def output_steps(self, pred_len: int, horizon: int | None) -> int:
        return horizon or pred_len


class UnsavedWeights(SharedLinear):
    """Holds a random mixing of the look-back as a plain tensor: not in its state dict."""

    CAPABILITIES = UNMASKED

    def add_parts(self, seq_len: int, pred_len: int, n_vars: int) -> None:
        self.mix = torch.randn(seq_len, seq_len) / seq_len**0.5

    def forward(self, x: Tensor, **inputs: Tensor) -> Tensor:
        return super().forward(torch.einsum("bln,lk->bkn", x, self.mix), **inputs)


class NotDenormalised(SharedLinear):
    """Normalises each look-back and forecasts in those units: every level looks alike."""

    CAPABILITIES = UNMASKED

    def forward(self, x: Tensor, **inputs: Tensor) -> Tensor:
        return super().forward(InstanceNorm(x).normalize(x), **inputs)


class PerVariateClaimsAny(PerVariateLinear):
    """One map per variate, yet declares ``new_variates`` (and has no guard)."""

    CAPABILITIES = SharedLinear.CAPABILITIES

    def project(self, series: Tensor) -> Tensor:
        return self.weighted(series)


class PerVariateTakesAny(PerVariateLinear):
    """Declares ``new_variates=False`` but forecasts any count, reusing maps by position."""

    def project(self, series: Tensor) -> Tensor:
        maps = self.maps[torch.arange(series.shape[1]) % self.n_vars]
        return torch.einsum("bnl,nsl->bns", series, maps) + self.head.bias


class PerVariateWrongError(PerVariateLinear):
    """Refuses other counts, but with torch's shape error, not an InputError."""

    def project(self, series: Tensor) -> Tensor:
        return self.weighted(series)
