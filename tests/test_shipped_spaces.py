"""The shipped search spaces (conf/hparams_search/) against every shipped preset of their
model, before any trial: a choice no trial of the run can use is dropped with a warning (a
space the user did not write), while a value the user wrote is refused with the advice to
change the searched value. No training: the check builds on the meta device."""

from __future__ import annotations

import warnings

import pytest

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tsfm import Forecaster
from tsfm.config import CONF_DIR, compose_config
from tsfm.estimator import search_checks
from tsfm.estimator.search import default_space
from tsfm.tuning.config_study import check_space
from tsfm.tuning.space import parse_space, searched_entries

MODELS = sorted(p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml"))
PRESETS = sorted(
    (model, p.stem) for model in MODELS for p in (CONF_DIR / "experiment").glob(f"{model}_*.yaml")
)


def _checked(overrides: list[str]) -> tuple[dict, list[str]]:
    cfg = compose_config(*overrides)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        space = check_space(cfg, overrides, parse_space(searched_entries(cfg.tune.params)))
    return space, [str(w.message) for w in caught if "search space" in str(w.message)]


@pytest.mark.parametrize(("model", "preset"), PRESETS)
def test_every_shipped_space_passes_the_check_with_every_preset_of_its_model(model, preset):
    space, _ = _checked([f"experiment={preset}", f"hparams_search={model}"])
    assert space  # something is searched


def test_a_shipped_choice_too_long_for_the_look_back_is_dropped_with_one_warning():
    overrides = ["model=s2ip_llm", "hparams_search=s2ip_llm"]  # data.seq_len 96
    space, messages = _checked(overrides)
    assert list(space["model.trend_length"].choices) == [24, 48, 96]
    assert len(messages) == 1 and "model.trend_length: dropped 192" in messages[0]
    assert _checked(overrides)[0] == space  # the same on a rerun: the study hash matches


def test_a_shipped_entry_none_of_whose_choices_fit_is_not_searched():
    space, messages = _checked(["experiment=s2ip_llm_m4_yearly", "hparams_search=s2ip_llm"])
    assert "model.trend_length" not in space and "model.prompt_length" in space
    assert "not searched" in messages[0]


def test_a_value_the_user_wrote_is_refused_with_the_search_space_advice():
    overrides = [
        "model=s2ip_llm",
        "hparams_search=s2ip_llm",
        '+tune.params={model.trend_length:"choice(48,192)"}',
    ]
    cfg = compose_config(*overrides)
    space = parse_space(searched_entries(cfg.tune.params))
    with pytest.raises(ValueError, match="model.trend_length: 192 does not fit") as err:
        check_space(cfg, overrides, space)
    assert """'+tune.params={model.trend_length:"choice(48)"}'""" in str(err.value)


def _s2ip(lookback: int) -> Forecaster:
    backbone = tiny_backbone_dir("gpt2")
    return Forecaster(  # as many blocks as the tiny backbone has
        "s2ip_llm", horizon=24, lookback=lookback, backbone=backbone, n_layers=2, max_epochs=1
    )


@pytest.mark.parametrize("model", MODELS)
def test_forecaster_default_space_passes_with_the_forecasters_defaults(model):
    est = Forecaster(model, horizon=24, lookback=96)
    if model == "s2ip_llm":
        est = _s2ip(96)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = search_checks.check_space(est, parse_space(default_space(model)), shipped=True)
    if model == "s2ip_llm":
        assert list(space["model.trend_length"].choices) == [24, 48, 96]


def test_forecaster_refuses_a_value_the_user_wrote_with_the_search_space_advice():
    with pytest.raises(ValueError, match="trend_length: 192 does not fit") as err:
        _s2ip(96).tune(
            synthetic_frame(240, 2), n_trials=1, search_space={"trend_length": [48, 192]}
        )
    assert "search_space={'model.trend_length': [48], ...}" in str(err.value)
