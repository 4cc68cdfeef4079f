"""S²IP-LLM keeps at most the blocks its backbone has, with its weights or without, and the
shipped tuning space's ``n_layers`` is narrowed to that depth before the first trial (issue:
``choice(3, 6)`` on a 2-block backbone failed every trial, then NoBestTrial; and
``pretrained=False`` built 6 blocks from a 2-block folder's config, silently)."""

from __future__ import annotations

import warnings

import pytest

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tsfm import Forecaster
from tsfm.errors import ArchitectureError
from tsfm.estimator import search_checks
from tsfm.estimator.search import default_space
from tsfm.tuning.space import parse_space

SMALL = {"pool_size": 16, "prompt_length": 2, "max_epochs": 1, "verbose": 0}


def _checked_space(backbone: str, **settings) -> tuple[dict, list[str]]:
    est = Forecaster("s2ip_llm", horizon=12, lookback=48, backbone=backbone, **settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        space = parse_space(default_space("s2ip_llm"))
        space = search_checks.check_space(est, space, shipped=True)
    return space, [str(w.message) for w in caught if "search space" in str(w.message)]


@pytest.mark.parametrize("pretrained", [True, False])
def test_more_blocks_than_the_backbone_has_are_refused_before_training(pretrained):
    est = Forecaster(
        "s2ip_llm", horizon=12, lookback=48, backbone=tiny_backbone_dir("gpt2"), n_layers=6,
        pretrained=pretrained, **SMALL,
    )  # fmt: skip
    with pytest.raises(ArchitectureError, match=r"n_layers must be in \[0, 2\].*got 6"):
        est.fit(synthetic_frame(200, 2))
    assert not hasattr(est, "module_")


def test_the_shipped_choices_are_narrowed_to_the_backbones_depth():
    # the run's own n_layers (the default 6) exceeds the 3 blocks; the searched 3 fits
    space, messages = _checked_space(tiny_backbone_dir("gpt2", weights=False, layers=3))
    assert list(space["model.n_layers"].choices) == [3]
    assert len(messages) == 1 and "model.n_layers: dropped 6, searching 3" in messages[0]
    assert "n_layers must be in [0, 3]" in messages[0]


def test_an_entry_none_of_whose_choices_fit_keeps_the_runs_own_depth():
    space, messages = _checked_space(tiny_backbone_dir("gpt2"), n_layers=2)
    assert "model.n_layers" not in space
    assert "model.n_layers: dropped 3, 6, not searched" in messages[0]


def test_a_study_no_depth_can_run_is_refused_before_its_first_trial():
    with pytest.raises(ArchitectureError, match=r"every trial would fail before training: "):
        _checked_space(tiny_backbone_dir("gpt2"))  # 2 blocks; the run's 6, the space's 3, 6


def test_tune_completes_its_trials_on_a_shallow_backbone():
    est = Forecaster(
        "s2ip_llm", horizon=12, lookback=48, backbone=tiny_backbone_dir("gpt2"), n_layers=2,
        patch_len=8, stride=4, **SMALL,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.tune(synthetic_frame(240, 2), n_trials=2, refit=False)
    states = {trial.state.name for trial in est.study_.trials}
    assert states == {"COMPLETE"}  # each with the run's own 2 blocks
    assert "model.n_layers" not in est.study_.trials[0].params
