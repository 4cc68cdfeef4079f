"""How a batch reaches a model, given what the model can take (its :class:`Capabilities`).

- Past covariates reach a model that cannot take them natively as extra input variates
  placed before the targets, and their forecasts are dropped: the official code's
  ``features=MS`` (every variate in, the target scored).
- Future and static covariates need native support; :func:`check_capabilities` refuses them
  otherwise, before anything is built, and past covariates of a channel-independent model
  (its variates never meet, so they could not reach a target's forecast).
- Observation masks reach only models that take them; the others see the filled values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from tsfm.data.batch import Batch, model_inputs
from tsfm.errors import InputError
from tsfm.models import REGISTRY, Capabilities, ModelOutput, as_output
from tsfm.models import capabilities as model_capabilities
from tsfm.models.common import restoring, restoring_to_train

if TYPE_CHECKING:  # Lightning comes with it: not imported to forecast
    from tsfm.data.contract import ForecastDataModule

MASK_KEYS = ("x_mask", "past_covariates_mask", "future_covariates_mask")
# window keys that name the target variates: meaningless once covariates join x
VARIATE_KEYS = ("index", "variate", "variates")
INDEPENDENT = "it is channel-independent, forecasting each variate from its own look-back only"
# a fresh fit of a wide table: its past covariates are named, or features=MS made them
FRESH_PAST = (
    "Drop them: past_covariates=None (data.past_covariates=null on the command line), or "
    "where features=MS made them (every column but the target one) use S for the target "
    "alone, or M to forecast every column"
)
# a fresh fit of a panel (mode='independent'), which takes no features setting
PANEL_PAST = (
    "Drop them: past_covariates=None, and their columns from the frame, where every column "
    "needs a role (on the command line data.past_covariates=null, and the columns from the "
    "file); a panel takes no features setting"
)
# a warm fit of a model saved with them (before they were refused): it keeps the fitted
# inputs, so dropping them (or features=MS) is no fix there
WARM_PAST = (
    "This model was saved with them (they never reached its forecasts), and warm_start=True "
    "trains it further on the inputs it was fitted with, so it cannot be trained further: it "
    "still forecasts as saved (predict). To train, fit a fresh model without them: "
    "set_params(warm_start=False) with past_covariates=None (or, where "
    "data__features='MS' made them, data__features='S')"
)


def check_capabilities(
    name: str, capabilities: Capabilities, dims: dict[str, Any], panel: bool = False
) -> None:
    """Refuse data a model cannot use, naming the model, what it takes and what to change
    (``panel``: the data is a panel of independent series, whose fixes differ). Past
    covariates of a channel-independent model are let through only to forecast with a
    model saved before they were refused (they never reached its forecasts)."""
    n_past, n_future = dims.get("n_past", 0), dims.get("n_future", 0)
    n_real = dims.get("n_static_real", 0)
    n_cat = len(dims.get("static_cardinalities") or [])
    takes = f"it takes {_what_it_takes(capabilities)}"
    uses_past = capabilities.uses_past_covariates
    if n_past and not uses_past and not (restoring() and not restoring_to_train()):
        others = _or_use(name, "uses_past_covariates", "past covariates").removeprefix("drop them")
        fix = WARM_PAST if restoring_to_train() else PANEL_PAST if panel else FRESH_PAST
        raise InputError(
            f"model '{name}' cannot use past covariates ({n_past} given): {INDEPENDENT}, so "
            "covariates joining its input as extra variates would never reach a target's "
            f"forecast. {fix}{others}"
        )
    if n_future and not capabilities.future_covariates:
        instead = (
            "Give them as past covariates instead (their look-back values then join the "
            "input as extra variates; their horizon values go unused), "
            if uses_past
            else ""
        )
        refusal = _or_use(name, "future_covariates", "future covariates")
        raise InputError(
            f"model '{name}' cannot use future covariates (values known over the horizon; "
            f"{n_future} given): {takes}. {_sentence(instead + refusal)}"
        )
    if (n_real or n_cat) and not capabilities.static_covariates:
        given = ", ".join(
            f"{count} {kind}"
            for count, kind in ((n_real, "numeric"), (n_cat, "categorical"))
            if count
        )
        advice = []
        if n_real and uses_past:
            advice.append(
                "a numeric one can be repeated over time as a column of each series and given "
                "as a past covariate (it then joins the input as an extra variate)"
            )
        if n_cat and uses_past:
            advice.append("a categorical one has no numeric form to give")
        advice_text = "; ".join(advice)
        advice_text = f"{_sentence(advice_text)}. Otherwise " if advice else ""
        refusal = _or_use(name, "static_covariates", "static covariates")
        raise InputError(
            f"model '{name}' cannot use static covariates (one value per series; {given} "
            f"given): {takes}. {_sentence(advice_text + refusal)}"
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _or_use(name: str, capability: str, kind: str) -> str:
    """ "drop them, or use" the other registered models whose capability table says they take
    what model ``name`` cannot (``capability``, a :class:`Capabilities` attribute; ``kind``:
    its words)."""
    takers = [m for m in REGISTRY if m != name and getattr(model_capabilities(m), capability)]
    if not takers:
        return f"drop them (no registered model takes {kind})"
    names = " or ".join(f"'{m}'" for m in takers)
    return f"drop them, or use a model that takes {kind}: {names}"


def _what_it_takes(capabilities: Capabilities) -> str:
    kinds = []
    if capabilities.past_covariates:
        kinds.append("past covariates")
    elif capabilities.uses_past_covariates:
        kinds.append("past covariates only (as extra input variates over the look-back)")
    if capabilities.future_covariates:
        kinds.append("future covariates")
    if capabilities.static_covariates:
        kinds.append("static covariates")
    text = " and ".join(kinds) or "no covariates"
    if not capabilities.uses_past_covariates:
        text += f" ({INDEPENDENT})"
    return text


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
