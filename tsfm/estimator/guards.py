"""The command line's ways to continue a run (``ckpt_path``, ``resume``) are refused as a
Forecaster's parameters and overrides when they are given (construction, ``set_params``) and
at ``fit``: a Forecaster has no run directory, and Lightning would restore its epoch counter
with the weights (with ``max_epochs=2`` after a 2-epoch run: no epoch trained at all).

Light on imports: the Forecaster's module imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The command line's settings that continue a run from a checkpoint (see the README).
RUN_ONLY = {
    "ckpt_path": "continues a command-line run from a checkpoint file",
    "resume": "continues a command-line run from its run directory's last.ckpt",
}


def run_only(what: str, key: str) -> str:
    """Why ``what`` (a parameter or an override) may not set ``key`` of :data:`RUN_ONLY`."""
    return (
        f"{what} sets {key}, which {RUN_ONLY[key]} (python -m tsfm.run); a Forecaster has no "
        "run directory and takes no checkpoint: fit trains on the frame it is given. To go "
        "on training a fitted Forecaster, fit again with warm_start=True (it continues from "
        "the fitted weights); to use a command-line run's model, Forecaster.from_run(run_dir)"
    )


def override_key(text: str) -> str:
    """The config key (or group) a Hydra override sets: ``+a.b=1`` -> ``a.b``."""
    return text.split("=", 1)[0].lstrip("+~")


def check_run_only(overrides: Any = None, names: Iterable[str] = ()) -> None:
    """Refuse parameter ``names`` and ``overrides`` that set a :data:`RUN_ONLY` key (other
    mistakes in ``overrides`` are refused at ``fit``, with the rest of the config)."""
    for name in names:
        if name in RUN_ONLY:
            raise ValueError(run_only(f"parameter '{name}'", name))
    if isinstance(overrides, (list, tuple)):
        for text in overrides:
            if isinstance(text, str) and override_key(text) in RUN_ONLY:
                raise ValueError(run_only(f"override {text!r}", override_key(text)))
