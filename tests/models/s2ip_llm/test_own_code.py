"""Backbone folders that ask to run code of their own (a config whose ``auto_map`` names the
folder's .py files, a ``model_type`` transformers does not know) are refused before
transformers reads them, whichever way tsfm reaches the folder: no question on the terminal,
no code run. The terminal is answered "y" here, as a user might: without the refusal,
transformers would run the folder's evil.py, which creates a marker file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.payload import AUTO_MAP, own_code_folder, questions_answered_yes
from tsfm import Forecaster
from tsfm.errors import InputError
from tsfm.models.s2ip_llm import backbone_sources
from tsfm.models.s2ip_llm.backbone_sources import backbone_config, recorded_config
from tsfm.models.s2ip_llm.language_backbones import load_language_backbone, load_tokenizer

REFUSED = "asks to run Python code of its own"


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    return questions_answered_yes(monkeypatch)


def test_transformers_sees_the_test_folder_as_code_to_run(tmp_path):
    from transformers import AutoConfig

    folder, marker = own_code_folder(tmp_path, "evilgpt")  # what the tests below refuse
    with pytest.raises(ValueError, match="custom code"):
        AutoConfig.from_pretrained(str(folder), trust_remote_code=False)
    assert not marker.exists()


@pytest.mark.parametrize("model_type", ["evilgpt", "gpt2"], ids=["unknown-type", "known-type"])
@pytest.mark.parametrize("pretrained", [True, False])
def test_a_backbone_folder_with_code_of_its_own_is_refused_unasked(
    tmp_path, asked, model_type, pretrained
):
    folder, marker = own_code_folder(tmp_path, model_type)
    with pytest.raises(InputError, match=REFUSED) as refused:
        load_language_backbone(str(folder), n_layers=1, pretrained=pretrained)
    message = str(refused.value)
    assert f"model.backbone='{folder}'" in message and "evil.py" in message
    assert "save_pretrained" in message  # the fix: a standard architecture's folder
    if model_type == "evilgpt":
        assert "model_type 'evilgpt' is no model transformers" in message
    assert asked == [] and not marker.exists()


@pytest.mark.parametrize("tokenizer", [True, False], ids=["tokenizer-config", "config"])
def test_a_tokenizer_with_code_of_its_own_is_refused_unasked(tmp_path, asked, tokenizer):
    folder, marker = own_code_folder(tmp_path, "evilgpt", tokenizer=tokenizer)
    with pytest.raises(InputError, match=f"the tokenizer of model.backbone=.*{REFUSED}"):
        load_tokenizer(str(folder), vocab_size=10)
    named = "tokenizer_config.json" if tokenizer else "config.json"
    with pytest.raises(InputError, match=f"the auto_map of its {named} names evil.py"):
        backbone_config(str(folder), pretrained=False)
    assert asked == [] and not marker.exists()


def test_transformers_is_told_to_refuse_code_where_tsfm_did_not_look(tmp_path, asked, monkeypatch):
    """The folder check off: transformers itself refuses, without asking
    (trust_remote_code=False), and its refusal reads as tsfm's."""
    monkeypatch.setattr(backbone_sources, "refuse_own_code", lambda *args, **kwargs: None)
    folder, marker = own_code_folder(tmp_path, "evilgpt")
    with pytest.raises(InputError, match=REFUSED):
        backbone_config(str(folder), pretrained=True, check_hub=False)
    assert asked == [] and not marker.exists()


def test_a_cached_hub_config_with_code_of_its_own_is_refused_offline(tmp_path, asked, monkeypatch):
    from huggingface_hub import constants

    folder, marker = own_code_folder(tmp_path, "evilgpt")
    snapshot = tmp_path / "hub" / "models--someone--evil" / "snapshots" / ("0" * 40)
    shutil.copytree(folder, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match=f"model.backbone='someone/evil' {REFUSED}"):
        load_language_backbone("someone/evil", n_layers=1, pretrained=False)
    assert asked == [] and not marker.exists()


def test_a_recorded_architecture_naming_code_is_refused():
    record = {"model_type": "gpt2", "auto_map": AUTO_MAP}
    with pytest.raises(InputError, match="asks to run code of its own .*evil.py.*damaged"):
        recorded_config(record, "gpt2")


def saved_on(tmp_path: Path, backbone: Path, drop_architecture: bool) -> Path:
    """A tiny S2IP-LLM save whose settings are made to name ``backbone`` instead of the
    clean folder it was fitted on, as a crafted save would."""
    clean = tmp_path / "clean"
    shutil.copytree(tiny_backbone_dir("gpt2"), clean)
    frame = synthetic_frame(n_rows=160, n_vars=2)
    save = tiny("s2ip_llm", backbone=str(clean)).fit(frame).save(tmp_path / "model")
    for name in ("config.yaml", "forecaster.json"):
        (save / name).write_text((save / name).read_text().replace(str(clean), str(backbone)))
    if drop_architecture:
        (save / "architectures.json").unlink()
    return save


def test_a_crafted_save_naming_a_folder_with_code_is_refused_unasked(tmp_path, asked):
    folder, marker = own_code_folder(tmp_path, "evilgpt")
    save = saved_on(tmp_path, folder, drop_architecture=True)  # its config read from the folder
    with pytest.raises(InputError, match=REFUSED):
        Forecaster.load(save)
    assert asked == [] and not marker.exists()


def test_anchor_tokens_of_a_save_naming_a_folder_with_code_are_refused(tmp_path, asked):
    folder, marker = own_code_folder(tmp_path, "evilgpt")  # the save's own architecture loads
    loaded = Forecaster.load(saved_on(tmp_path, folder, drop_architecture=False))
    with pytest.raises(InputError, match=f"the tokenizer of model.backbone=.*{REFUSED}"):
        loaded.module_.model.anchor_tokens([0], top=2)
    assert asked == [] and not marker.exists()
