"""A backbone source that is not there, or not a backbone folder, is an input error (also a
FileNotFoundError, which code catching it as before still catches) whose message says what is
wrong with the path given and what to pass; the download advice is kept for Hub ids, not
given for a local folder that is merely incomplete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.backbones import tiny_backbone_dir
from tsfm.errors import InputError, MissingFileError
from tsfm.models.s2ip_llm.backbone_sources import backbone_config
from tsfm.models.s2ip_llm.language_backbones import load_language_backbone

DOWNLOAD = "on a machine with internet access"


def _refusal(name: str, pretrained: bool = True) -> str:
    with pytest.raises(InputError) as info:
        load_language_backbone(name, n_layers=1, pretrained=pretrained, local_files_only=True)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, MissingFileError)
    return str(info.value)


def test_a_path_that_is_not_there_is_named_as_such(tmp_path):
    message = _refusal(str(tmp_path / "no-such-gpt2"))
    assert "does not exist" in message and "folder with config.json" in message


def test_a_file_given_for_the_folder_names_the_folder_to_pass():
    folder = tiny_backbone_dir("gpt2")
    message = _refusal(f"{folder}/config.json")
    assert "is a file, not a backbone folder" in message and "does not exist" not in message
    assert f"model.backbone='{Path(folder).resolve()}'" in message


@pytest.mark.parametrize("pretrained", [True, False])
def test_an_empty_folder_or_one_without_config_json_says_config_json_is_missing(
    tmp_path, pretrained
):
    empty = tmp_path / "empty"
    empty.mkdir()
    message = _refusal(str(empty), pretrained)
    assert "has no config.json (it is empty)" in message and "model_type" not in message
    weights_only = tmp_path / "weights-only"
    shutil.copytree(tiny_backbone_dir("gpt2"), weights_only)
    (weights_only / "config.json").unlink()
    message = _refusal(str(weights_only), pretrained)
    assert "has no config.json (it holds ['model.safetensors'])" in message


def test_a_local_folder_without_weights_is_told_so_without_download_advice():
    message = _refusal(tiny_backbone_dir("gpt2", weights=False))
    assert "holds config.json but no weights" in message and "model.pretrained=false" in message
    assert DOWNLOAD not in message and "from_pretrained(" not in message


def test_a_hub_id_not_on_this_machine_keeps_the_download_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    message = _refusal("someone-else/not-cached-model")
    assert DOWNLOAD in message and "nor is there a folder" in message


def test_pretrained_false_builds_from_a_folder_with_weights():
    """Legitimate: the architecture comes from config.json, the weights stay unread."""
    backbone = load_language_backbone(tiny_backbone_dir("gpt2"), n_layers=1, pretrained=False)
    assert backbone.n_layers == 1
    assert backbone_config(tiny_backbone_dir("gpt2"), pretrained=False).model_type == "gpt2"
