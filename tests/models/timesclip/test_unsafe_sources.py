"""TimesCLIP's sources never run code: a CLIP whose Hugging Face text tower
(``text_cfg.hf_model_name``) asks to run code of its own is refused before open_clip hands
it to transformers, however the CLIP is named (a ``local-dir:`` folder, a JSON config, a
save's recorded architecture), and never with a question on the terminal; a weights file
(``clip_weights``, ``vision_weights``, a ``local-dir:`` folder's) that is a pickle of more
than tensors is refused in tsfm's words, naming what it refers to and how to re-save it."""

from __future__ import annotations

import json

import pytest
import torch

from tests.helpers.payload import RunsCommand, own_code_folder, questions_answered_yes
from tsfm.errors import InputError
from tsfm.models.timesclip import clip_backbones
from tsfm.models.timesclip.clip_architectures import create_recorded
from tsfm.models.timesclip.clip_backbones import CONFIG_DIR, create_clip
from tsfm.models.timesclip.timm_towers import create_timm_encoder

REFUSED = "asks to run Python code of its own"
TINY_CLIP = json.loads((CONFIG_DIR / "tsfm-tiny-clip.json").read_text())


@pytest.fixture
def asked(monkeypatch) -> list[str]:
    return questions_answered_yes(monkeypatch)


def hf_text_clip(tmp_path, text_tower) -> dict:
    """The tiny CLIP's config with a Hugging Face text tower read from ``text_tower``."""
    text_cfg = {"hf_model_name": str(text_tower), "hf_tokenizer_name": str(text_tower)}
    text_cfg.update(hf_proj_type="linear", hf_pooler_type="mean_pooler", context_length=32)
    return {**TINY_CLIP, "text_cfg": text_cfg, "custom_text": True}


def clip_folder(tmp_path, config: dict, weights: dict | None = None):
    folder = tmp_path / "clip-dir"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    torch.save(weights or {}, folder / "open_clip_pytorch_model.bin")
    return folder


def test_a_local_dir_clip_whose_text_tower_has_code_is_refused_unasked(tmp_path, asked):
    tower, marker = own_code_folder(tmp_path, "evilgpt")
    folder = clip_folder(tmp_path, hf_text_clip(tmp_path, tower))
    with pytest.raises(InputError, match=f"model.clip's text tower.*='{tower}' {REFUSED}"):
        create_clip(f"local-dir:{folder}", None, True)
    with pytest.raises(InputError, match=f"model.vision's text tower.*{REFUSED}"):
        create_clip(f"local-dir:{folder}", None, True, field="model.vision")
    assert asked == [] and not marker.exists()


def test_a_json_or_recorded_clip_whose_text_tower_has_code_is_refused_unasked(tmp_path, asked):
    tower, marker = own_code_folder(tmp_path, "evilgpt")
    config = tmp_path / "hf-text-clip.json"
    config.write_text(json.dumps(hf_text_clip(tmp_path, tower)))
    with pytest.raises(InputError, match=REFUSED):
        create_clip(str(config), None, False)  # random weights: transformers reads the config
    with pytest.raises(InputError, match=f"model.vision's text tower.*{REFUSED}"):
        create_recorded(hf_text_clip(tmp_path, tower), "model.vision")  # a crafted save's
    assert asked == [] and not marker.exists()


def test_a_text_tower_of_a_standard_architecture_still_builds(tmp_path, asked):
    from tests.helpers.backbones import tiny_backbone_dir

    config = tmp_path / "hf-text-clip.json"
    config.write_text(json.dumps(hf_text_clip(tmp_path, tiny_backbone_dir("bert"))))
    clip = create_clip(str(config), None, False)  # only code of its own is refused
    assert type(clip.text).__name__ == "HFTextEncoder" and asked == []


def test_open_clip_builds_without_a_question_where_tsfm_did_not_look(tmp_path, asked, monkeypatch):
    """The text tower check off: transformers refuses the code without asking, and its
    refusal reads as tsfm's."""
    monkeypatch.setattr(clip_backbones, "refuse_text_tower_code", lambda *args: None)
    tower, marker = own_code_folder(tmp_path, "evilgpt")
    config = tmp_path / "hf-text-clip.json"
    config.write_text(json.dumps(hf_text_clip(tmp_path, tower)))
    with pytest.raises(InputError, match=f"the text tower of model.clip='{config}' {REFUSED}"):
        create_clip(str(config), None, False)
    assert asked == [] and not marker.exists()


def pickled_state(model: torch.nn.Module, marker) -> dict:
    return {**model.state_dict(), "extra": RunsCommand(marker)}


def test_pickled_clip_weights_are_refused_naming_what_they_refer_to(tmp_path):
    tiny = str(CONFIG_DIR / "tsfm-tiny-clip.json")
    marker = tmp_path / "code-ran"
    weights = tmp_path / "clip.pt"
    torch.save(pickled_state(create_clip(tiny, None, False), marker), weights)
    with pytest.raises(InputError, match=f"model.clip_weights={weights} not loaded") as refused:
        create_clip(tiny, str(weights), True)
    message = str(refused.value)
    assert "(it refers to posix.system)" in message and "never runs code" in message
    assert "safetensors.torch.save_file(tensors, 'clip.safetensors')" in message
    assert "pass model.clip_weights=/path/to/clip.safetensors" in message
    assert "will likely succeed" not in message and "internet access" not in message
    assert refused.value.__suppress_context__  # torch's own advice is not shown either
    folder = clip_folder(tmp_path, TINY_CLIP, pickled_state(create_clip(tiny, None, False), marker))
    with pytest.raises(InputError, match=f"{folder}/open_clip_model.safetensors"):
        create_clip(f"local-dir:{folder}", None, True)
    assert not marker.exists()


def test_pickled_timm_weights_are_refused_naming_what_they_refer_to(tmp_path):
    import timm

    marker = tmp_path / "code-ran"
    weights = tmp_path / "vit.pth"
    torch.save(pickled_state(timm.create_model("test_vit", num_classes=0), marker), weights)
    with pytest.raises(InputError, match=f"model.vision_weights={weights} not loaded") as refused:
        create_timm_encoder("test_vit", str(weights), True, 160)
    message = str(refused.value)
    assert "(it refers to posix.system)" in message and "never runs code" in message
    assert "pass model.vision_weights=/path/to/vision.safetensors" in message
    assert refused.value.__suppress_context__ and not marker.exists()


def test_weights_given_as_urls_are_refused():
    from tsfm.models.timesclip.vision_towers import check_backbones

    url = "https://example.com/weights.pt"
    with pytest.raises(InputError, match=f"model.clip_weights='{url}' is a URL"):
        check_backbones("ViT-B-16", url, None, None, True, 160, 4)
    with pytest.raises(InputError, match=f"model.vision_weights='{url}' is a URL"):
        check_backbones("tsfm-tiny-clip", None, "timm:test_vit", url, False, 160, 4, True)
