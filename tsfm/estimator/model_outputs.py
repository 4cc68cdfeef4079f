"""A fitted module's forecasts of a batch of model inputs, outside the Trainer, and the way
back to the data's scale: its forward pass (one sample per variate for channel-independent
models), the quantiles asked for, unscaling, and the refusal of a non-finite forecast."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from tsfm.data.batch import Batch
from tsfm.data.scaler import StandardScaler
from tsfm.training.runtime import fitted_precision, inference

RadiusOf = Callable[[float], torch.Tensor]  # interval level (percent) -> radius [H, N]


def forward(
    est: Any, batch: Batch, taus: Sequence[float] = (), radius_of: RadiusOf | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scaled forecasts ``[B, H, N]`` of a batch of model inputs (in the fit's precision), and
    with ``taus`` their quantiles ``[B, H, N, Q]`` (from the head or the conformal scores, read
    at ``radius_of``'s radii when given; None without)."""
    module = est.module_
    batch = Batch(**{k: v.to(module.device) for k, v in batch.items()})
    with inference(est.config_, module.device, fitted_precision(est)):
        if est.config_.data.channel_independent:
            return _channel_independent(module, batch, taus, radius_of)
        output = module(batch)
        quantiles = module.predictive_quantiles(output, batch, taus, radius_of) if taus else None
        return _numpy(output.prediction), _numpy(quantiles)


def _numpy(values: torch.Tensor | None) -> np.ndarray | None:
    return None if values is None else values.float().cpu().numpy().astype(np.float64)


def _channel_independent(
    module: Any, batch: Batch, taus: Sequence[float], radius_of: RadiusOf | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """One sample per (window, variate), as in training."""
    size, seq_len, n_vars = batch["x"].shape
    inputs = Batch(x=batch["x"].permute(0, 2, 1).reshape(size * n_vars, seq_len, 1))
    inputs["variate"] = torch.arange(n_vars, device=batch["x"].device).repeat(size)
    for key in ("x_mark", "y_mark", "past_covariates", "future_covariates"):
        if key in batch:
            inputs[key] = batch[key].repeat_interleave(n_vars, dim=0)
    output = module(inputs)
    prediction = output.prediction.float().reshape(size, n_vars, -1).permute(0, 2, 1)
    quantiles = None
    if taus:  # [B * N, H, 1, Q] -> [B, H, N, Q]
        quantiles = module.predictive_quantiles(output, inputs, taus, radius_of)
        quantiles = quantiles.reshape(size, n_vars, -1, len(taus)).permute(0, 2, 1, 3)
    return _numpy(prediction), _numpy(quantiles)


def unscale(scaler: StandardScaler | None, values: np.ndarray, n: int) -> np.ndarray:
    """``values [..., n]`` (the first ``n`` columns: the targets) back to the original scale."""
    return values if scaler is None else scaler.subset(np.arange(n)).inverse_transform(values)


def finite(values: np.ndarray, what: str, module: torch.nn.Module | None = None) -> np.ndarray:
    """``values``, or a RuntimeError: a NaN or infinite forecast is never returned. The
    message blames the weights of ``module`` (the model that made them) only where they are
    not finite; finite weights mean the inputs overflowed float32 inside the model."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    said = f"{what} holds {int(bad.sum())} NaN or infinite value(s) of {values.size}"
    weights = None if module is None else _finite_weights(module)
    if weights is False:
        raise RuntimeError(f"{said}: the model's weights are not finite numbers; refit the model")
    overflow = (
        "the inputs overflowed float32 (which the model computes in) inside the model: values "
        "this large, or this far from the training data's mean in its standard deviations, "
        "are beyond it; fix such values, or rescale the data (e.g. divide by a power of ten) "
        "and refit"
    )
    if weights is None:
        overflow = f"the model's weights are not finite numbers (refit the model), or {overflow}"
    raise RuntimeError(f"{said}: {overflow}")


def _finite_weights(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters() if p.is_floating_point())


def unscale_quantiles(scaler: StandardScaler | None, values: np.ndarray | None, n: int) -> Any:
    """``[..., N, Q]`` quantiles back to the original scale (None stays None)."""
    if values is None or scaler is None:
        return values
    return np.moveaxis(unscale(scaler, np.moveaxis(values, -1, 0), n), 0, -1)
