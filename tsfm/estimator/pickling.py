"""Pickling a fitted Forecaster (for scikit-learn's tooling: joblib, multiprocessing).

Its ``config_`` is a structured OmegaConf config whose model schema is a dataclass made at
run time (:func:`tsfm.models.config_schema`), which pickle cannot name; it is pickled as
plain values and rebuilt through the schema on unpickling, as ``load`` rebuilds it. Pickle is
the user's choice: loading one can run code, where ``save``/``load`` never does.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

_PLAIN_CONFIG = "_plain_config"


class PicklableConfig:
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # type: ignore[misc]
        config = state.get("config_")
        if isinstance(config, DictConfig):
            state["config_"] = None
            state[_PLAIN_CONFIG] = OmegaConf.to_container(config, resolve=True)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        plain = state.pop(_PLAIN_CONFIG, None)
        if plain is not None:
            from tsfm.estimator.persistence import structured_config

            state["config_"] = structured_config(plain, "the unpickled Forecaster's config_")
        super().__setstate__(state)  # type: ignore[misc]
