"""Which model a search space is for: each ``conf/hparams_search/<name>.yaml`` names it
(``tune.model``), so ``python -m tsfm.tune`` refuses a space of another model before the first
trial (its ``model.*`` keys would not be there, or would search another model's settings),
and ``Forecaster.tune`` finds its model's default space by that key."""

from __future__ import annotations

from collections.abc import Sequence

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from tsfm.config import CONF_DIR
from tsfm.errors import InputError
from tsfm.models import REGISTRY

SPACES = CONF_DIR / "hparams_search"


def space_models() -> dict[str, str | None]:
    """``{search space name: the model it names}`` of the shipped spaces (None: names none)."""
    return {
        path.stem: OmegaConf.load(path).get("tune", {}).get("model")
        for path in sorted(SPACES.glob("*.yaml"))
    }


def space_for(model: str) -> str:
    """The shipped search space of ``model`` (``hparams_search=<it>``): the one that names the
    model (``tune.model``), ``<model>.yaml`` first where several do."""
    names = [name for name, named in space_models().items() if named == model]
    if not names:
        raise InputError(
            f"no search space for model '{model}': no conf/hparams_search/*.yaml names it "
            f"(tune.model: {model}); pass search_space={{'model.<setting>': 'choice(...)', "
            f"...}} to tune, or add conf/hparams_search/{model}.yaml with tune.model: {model} "
            "and tune.params"
        )
    return model if model in names else names[0]


def check_space_model(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """Refuse a run whose search space names another model than the run's (``tune.model``, set
    by the ``hparams_search`` file; null: a space written for this run)."""
    named = cfg.tune.get("model")
    if named is None or named == cfg.model.name:
        return
    space = _hparams_search(overrides)
    what = f"hparams_search={space}" if space else f"the search space (tune.model={named})"
    if named not in REGISTRY:
        raise InputError(
            f"{what} is a search space for model '{named}', which is not a registered model "
            f"({', '.join(REGISTRY)}): set tune.model to the model it searches"
        )
    presets = sorted(p.stem for p in (CONF_DIR / "experiment").glob(f"{named}_*.yaml"))
    preset = f"experiment={presets[0]}" if presets else "experiment=<a preset of it>"
    raise InputError(
        f"{what} is a search space for model {named}, but the run's model is "
        f"{cfg.model.name}: add model={named} (or {preset}, or another preset of that model)"
    )


def _hparams_search(overrides: Sequence[str]) -> str | None:
    """The ``hparams_search`` choice of the run (inside the running app or composed anew)."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices.get("hparams_search")
    from tsfm.tuning.config_study import compose

    return compose(overrides, return_hydra_config=True).hydra.runtime.choices.get("hparams_search")
