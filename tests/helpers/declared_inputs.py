"""A registered model built with, and given, every input its capabilities declare (past,
future and static covariates, observation masks), for the behaviour contract
(tests/models/test_model_behaviour.py)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tests.helpers.models import DIMS, batch, make, predict
from tsfm.models import capabilities

N_PAST, N_FUTURE, N_STATIC_REAL, CARDINALITIES = 2, 2, 2, [3, 4]


def declared_dims(name: str, **changes) -> dict:
    """The data dimensions ``name`` is built with: :data:`DIMS` plus a size for each kind
    of covariate it declares, and ``masked`` when it declares missing values."""
    caps = capabilities(name)
    dims: dict = dict(DIMS)
    if caps.past_covariates:
        dims["n_past"] = N_PAST
    if caps.future_covariates:
        dims["n_future"] = N_FUTURE
    if caps.static_covariates:
        dims |= {"n_static_real": N_STATIC_REAL, "static_cardinalities": CARDINALITIES}
    if caps.missing_values:
        dims["masked"] = True
    return dims | changes


def build(name: str, seed: int = 0, **changes) -> nn.Module:
    """``name`` with its tiny settings and :func:`declared_dims`, weights drawn with
    ``seed``, in eval mode."""
    return make(name, seed=seed, dims=declared_dims(name, **changes)).eval()


def declared_batch(
    name: str, size: int = 4, n_vars: int = 3, seed: int = 1, horizon: int | None = None
) -> dict[str, Tensor]:
    """A random batch with every input ``name`` declares; future covariates cover the
    look-back and ``horizon`` steps (default: ``pred_len``). Masks hide about a quarter of
    the values."""
    caps = capabilities(name)
    b = batch(n_vars=n_vars, size=size, seed=seed)
    g = torch.Generator().manual_seed(seed + 100)
    length = DIMS["seq_len"]
    steps = length + (horizon or DIMS["pred_len"])

    def mask(*shape: int) -> Tensor:
        return (torch.rand(*shape, generator=g) > 0.25).float()

    if caps.past_covariates:
        b["past_covariates"] = torch.randn(size, length, N_PAST, generator=g)
    if caps.future_covariates:
        b["future_covariates"] = torch.randn(size, steps, N_FUTURE, generator=g)
    if caps.static_covariates:
        b["static_real"] = torch.randn(size, n_vars, N_STATIC_REAL, generator=g)
        cats = [torch.randint(1, c + 1, (size, n_vars, 1), generator=g) for c in CARDINALITIES]
        b["static_cat"] = torch.cat(cats, dim=-1)
    if caps.missing_values:
        b["x_mask"] = mask(size, length, n_vars)
        if caps.past_covariates:
            b["past_covariates_mask"] = mask(size, length, N_PAST)
        if caps.future_covariates:
            b["future_covariates_mask"] = mask(size, steps, N_FUTURE)
    return b


def rows(b: dict[str, Tensor], i: int) -> dict[str, Tensor]:
    """Window ``i`` of batch ``b``, as a batch of one."""
    return {k: v[i : i + 1] for k, v in b.items()}


def forecast(model: nn.Module, b: dict[str, Tensor]) -> Tensor:
    """The model's prediction for ``b`` (its targets ``y`` left out), without gradients."""
    with torch.no_grad():
        return predict(model, b)
