"""A CLIP checkpoint file that is there but holds another architecture (or one tower only) is
refused as an input error naming the tensors that differ and the setting to change, not as
missing weights with advice to download them; a file or JSON that is not there is an input
error that is also a FileNotFoundError; ``pretrained=false`` with weights to load is refused
rather than silently building random weights."""

from __future__ import annotations

import json

import pytest
import torch

from tests.helpers.models import DIMS, TINY
from tsfm.errors import InputError, MissingFileError
from tsfm.models import build_model
from tsfm.models.timesclip.clip_backbones import CONFIG_DIR, create_clip, resolve_architecture

DOWNLOAD = "machine with internet"


def _checkpoint(path, clip: str, keep=lambda key: True) -> str:
    import open_clip

    state = open_clip.create_model(resolve_architecture(clip)).state_dict()
    torch.save({k: v for k, v in state.items() if keep(k)}, path)
    return str(path)


def _refusal(weights: str, clip: str = "tsfm-tiny-clip") -> str:
    with pytest.raises(InputError) as info:
        create_clip(clip, weights, pretrained=True, image_size=32)
    message = str(info.value)
    assert DOWNLOAD not in message and "Missing key(s)" not in message
    return message


def test_a_checkpoint_of_another_known_architecture_names_it(tmp_path):
    message = _refusal(_checkpoint(tmp_path / "small.pt", "tsfm-small-clip"))
    assert "does not match model.clip='tsfm-tiny-clip': the file holds another architecture" in (
        message
    )
    assert "positional_embedding is [77, 128] in the checkpoint but [32, 32]" in message
    assert "set model.clip='tsfm-small-clip'" in message


def test_a_checkpoint_of_an_unknown_architecture_says_to_set_model_clip_to_it(tmp_path):
    config = json.loads((CONFIG_DIR / "tsfm-tiny-clip.json").read_text())
    config["text_cfg"]["width"] = 48
    wider = tmp_path / "wider-tiny-clip.json"
    wider.write_text(json.dumps(config))
    message = _refusal(_checkpoint(tmp_path / "wider.pt", str(wider)))
    assert "[32, 48] in the checkpoint but [32, 32] in tsfm-tiny-clip" in message
    assert "Set model.clip to the architecture the checkpoint was saved from" in message


@pytest.mark.parametrize(
    ("tower", "lacks"),
    [("visual.", "it lacks the vision tower ("), ("", "tensors of the text tower and heads")],
)
def test_a_checkpoint_of_one_tower_says_both_are_needed(tmp_path, tower, lacks):
    keep = (lambda k: not k.startswith("visual.")) if tower else (lambda k: k.startswith("visual."))
    message = _refusal(_checkpoint(tmp_path / "part.pt", "tsfm-tiny-clip", keep))
    assert "the file holds only part of tsfm-tiny-clip" in message and lacks in message
    assert "takes a whole CLIP of that architecture, both towers" in message


def test_a_missing_weights_file_or_json_is_an_input_error_and_a_file_not_found(tmp_path):
    for clip, weights in (
        ("tsfm-tiny-clip", str(tmp_path / "nope.pt")),
        (str(tmp_path / "missing.json"), None),
    ):
        with pytest.raises(MissingFileError) as info:
            create_clip(clip, weights, pretrained=weights is not None)
        assert isinstance(info.value, InputError) and isinstance(info.value, FileNotFoundError)


def build(**settings):
    return build_model({"name": "timesclip", **TINY["timesclip"], **settings}, DIMS)


@pytest.mark.parametrize(
    "settings",
    [
        {"clip_weights": "/some/clip.pt"},
        {"clip_weights": "laion2b_s34b_b88k"},
        {"vision": "open_clip:tsfm-tiny-clip", "vision_weights": "/some/tower.pt"},
    ],
)
def test_pretrained_false_with_weights_to_load_is_refused(settings):
    setting = next(k for k in settings if k.endswith("_weights"))
    with pytest.raises(InputError, match=rf"model.{setting}=.* names weights to load, but "):
        build(pretrained=False, **settings)


def test_pretrained_false_with_the_default_tag_or_none_builds():
    assert build(pretrained=False, clip_weights="openai") is not None
    assert build(pretrained=False, clip_weights=None) is not None
