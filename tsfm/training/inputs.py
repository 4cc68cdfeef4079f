"""How a batch reaches a model, given what the model can take (its :class:`Capabilities`).

- Past covariates reach a model that cannot take them natively as extra input variates
  placed before the targets, and their forecasts are dropped: the official code's
  ``features=MS`` (every variate in, the target scored).
- Future and static covariates need native support; :func:`check_capabilities` refuses them
  otherwise, before anything is built.
- Observation masks reach only models that take them; the others see the filled values.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tsfm.data.batch import Batch, model_inputs
from tsfm.data.contract import ForecastDataModule
from tsfm.models import Capabilities, ModelOutput, as_output

MASK_KEYS = ("x_mask", "past_covariates_mask", "future_covariates_mask")
# window keys that name the target variates: meaningless once covariates join x
VARIATE_KEYS = ("index", "variate", "variates")


def check_capabilities(name: str, capabilities: Capabilities, dims: dict[str, Any]) -> None:
    """Refuse data a model cannot use, naming the model and what to change."""
    wanted = {
        "future covariates": (dims.get("n_future", 0), capabilities.future_covariates),
        "static covariates": (
            dims.get("n_static_real", 0) + len(dims.get("static_cardinalities") or []),
            capabilities.static_covariates,
        ),
    }
    for what, (count, supported) in wanted.items():
        if count and not supported:
            raise ValueError(
                f"model '{name}' cannot use {what} ({count} given): its capabilities "
                f"({capabilities}) do not include them. Give them as past covariates (seen over "
                "the look-back only), drop them, or use a model that takes them (iTransformer)"
            )


def model_dims(capabilities: Capabilities, dims: dict[str, Any]) -> dict[str, Any]:
    """The data dimensions the model is built with (past covariates adapted as variates)."""
    if capabilities.past_covariates or not dims.get("n_past"):
        return dict(dims)
    return {**dims, "n_vars": dims["n_vars"] + dims["n_past"]}


def forward(model: nn.Module, capabilities: Capabilities, batch: Batch) -> ModelOutput:
    """The model's output for ``batch``, its prediction ``[B, S, N]`` over the targets only."""
    inputs = model_inputs(batch)
    if not capabilities.missing_values:
        for key in MASK_KEYS:
            inputs.pop(key, None)
    past = None if capabilities.past_covariates else inputs.pop("past_covariates", None)
    if past is None:
        return as_output(model(**inputs))
    for key in VARIATE_KEYS:
        inputs.pop(key, None)
    inputs["x"] = torch.cat([past.to(inputs["x"].dtype), inputs["x"]], dim=-1)
    output = as_output(model(**inputs))
    output.prediction = output.prediction[..., past.shape[-1] :]
    return output


def bind_training_windows(model: nn.Module, datamodule: ForecastDataModule) -> bool:
    """Give ``model`` the data module's fixed training windows, when both take part (the
    model defines ``bind_training_windows`` and the split has fixed windows)."""
    bind = getattr(model, "bind_training_windows", None)
    windows = datamodule.training_windows() if bind is not None else None
    if windows is None:
        return False
    bind(windows.values, windows.seq_len, windows.stride, windows.n_windows, windows.source)
    return True
