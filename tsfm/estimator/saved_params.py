"""forecaster.json's parameters against config.yaml (read by ``Forecaster.load``).

``params`` are the Forecaster's parameters when it was saved (``get_params``). Training
settings (``lr``, ``seed``, ``max_epochs``, ``precision``, ``batch_size``, ...) may change by
``set_params`` after a fit, and take effect at the next fit: the saved model is still the one
the fit built, as ``config.yaml`` says. Such a save also holds ``fitted_params``, the
parameters the model was fitted with (written only when they differ from ``params``):
``config.yaml`` must agree with those, and ``params`` may differ from them in training
settings only (a parameter that shapes the model changed since fit is refused by ``save``).
A save without ``fitted_params`` (every save from before them) was fitted with ``params``.
Anything else is a file edited by hand, refused.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.estimator.checks import model_changes
from tsfm.estimator.validation import SavedForecasterError, check_params


def check_saved_params(cls: type, meta: dict[str, Any], cfg: DictConfig, path: Path) -> None:
    """The parameters the model was fitted with agree with config.yaml, and the saved ones
    differ from them in training settings only."""
    fitted = meta.get("fitted_params")
    if fitted is None:
        check_params_agree(cls, meta, cfg, path)
        return
    check_params(cls, fitted, path / "forecaster.json")
    check_params_agree(cls, {**meta, "params": fitted}, cfg, path)
    est = cls(**meta["params"])
    est.fitted_params_ = fitted_params(cls, fitted)
    changes = model_changes(est)
    if changes:
        raise SavedForecasterError(
            f"{path / 'forecaster.json'} has parameters that shape the model changed since "
            f"its fit ({changes}), which save() never writes: the files of this save "
            "disagree; save the Forecaster again"
        )


def fitted_params(cls: type, fitted: dict[str, Any]) -> dict[str, Any]:
    """Every parameter of a Forecaster fitted with ``fitted`` (those missing at their defaults)."""
    return copy.deepcopy(cls(**fitted).get_params())


def check_params_agree(cls: type, meta: dict[str, Any], cfg: DictConfig, path: Path) -> None:
    """The saved parameters set what config.yaml says: a parameter edited in one file only
    would be reported by get_params (and used by the next fit) but not be the model's."""
    from tsfm.estimator.params import config_key

    own, params = set(cls._get_param_names()), meta["params"]
    pairs = [("mode", params.get("mode", "joint"), meta.get("mode", "joint"))]
    for name, value in params.items():
        if name not in own and value is not None:
            saved = OmegaConf.select(cfg, config_key(params["model"], name))
            plain = OmegaConf.to_container(saved) if OmegaConf.is_config(saved) else saved
            pairs.append((name, value, plain))
    for name, value, saved in pairs:
        if isinstance(value, list | tuple):  # a list (nonnegative's may be a bool instead)
            if name == "quantiles":  # given in any order, fitted in increasing order
                value = sorted(value)
            same = isinstance(saved, list | tuple) and list(value) == list(saved)
        else:
            same = value == saved
        if not same:
            raise SavedForecasterError(
                f"{path / 'forecaster.json'} has {name}={value!r} but the model was fitted with "
                f"{saved!r}: the files of this save disagree; save the Forecaster again"
            )
