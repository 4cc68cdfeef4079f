"""Refusing ``None`` for a setting that takes none, when the parameter is given: at
construction and at :meth:`~tsfm.Forecaster.set_params`, not at the next fit.

``Forecaster(levels=None)``, ``season_length=None``, ``max_epochs=None`` keep or switch off a
setting that may be empty; ``conformal_windows=None``, ``lr=None`` or ``d_model=None`` have no
such meaning (the config's field is not Optional), so they are refused by the parameter's
name, with the values it takes (``conformal_windows=0`` switches calibration off). A saved
model's parameters are rebuilt without the check (:func:`restoring`): a save written before
it may hold such a None set after its fit, which only the next fit refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from tsfm.errors import InputError

# What a setting's "off" or usual value is, where None might have been meant as that.
MEANT = {
    "conformal.windows": "0 switches conformal calibration off",
    "conformal.adaptive_rate": "0.0 keeps the calibrated width fixed (no adaptive update)",
    "conformal.normalize": "False scores the plain residuals",
    "callbacks.early_stopping.patience": (
        "early stopping is switched off with callbacks__early_stopping__enabled=False"
    ),
}


_RESTORING: ContextVar[bool] = ContextVar("tsfm_restoring_params", default=False)


@contextmanager
def restoring() -> Iterator[None]:
    """Rebuild saved parameters (``Forecaster.load``) without refusing their None values."""
    token = _RESTORING.set(True)
    try:
        yield
    finally:
        _RESTORING.reset(token)


def refuse_none_values(
    model: str, experiment: str | None, overrides: list[str] | None, params: dict[str, Any]
) -> None:
    """Refuse the extra ``params`` set to None whose config field is not Optional, naming the
    parameter, the kind of value it takes and how to get its default. Names of no setting are left to
    the fit, which refuses them with the nearest ones; nothing is checked when the model
    or the preset cannot be composed (the fit says why)."""
    from tsfm.estimator.params import config_key
    from tsfm.estimator.preset_config import compose_for
    from tsfm.models import REGISTRY

    nones = [name for name, value in params.items() if value is None]
    if not nones or model not in REGISTRY or _RESTORING.get():
        return
    try:
        cfg = compose_for(model, experiment, overrides)
    except (InputError, OmegaConfBaseException):
        return
    for name in nones:
        key = config_key(model, name)
        default = OmegaConf.select(cfg, key, throw_on_missing=False, default=KeyError)
        if default is KeyError:
            continue  # no such setting: the fit names the nearest ones
        try:
            OmegaConf.update(cfg, key, None, merge=False)
        except OmegaConfBaseException:
            raise InputError(_message(name, key, default)) from None


def _message(name: str, key: str, default: Any) -> str:
    shown = OmegaConf.to_container(default) if OmegaConf.is_config(default) else default
    kind = {bool: "True or False", int: "a whole number", float: "a number", str: "text"}.get(
        type(shown), "a value"
    )
    meant = f"; {MEANT[key]}" if key in MEANT else ""
    return (
        f"parameter '{name}' cannot be None: it sets {key}, which takes {kind}, not None; "
        f"leave the parameter out for its default (a Forecaster may size it from the "
        f"data){meant}"
    )
