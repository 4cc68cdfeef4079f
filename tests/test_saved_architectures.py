"""Saves and run checkpoints keep a copy of each pretrained backbone's architecture config
(S2IP-LLM's config.json, TimesCLIP's open_clip JSON) and are built from it: a backbone
config changed since can neither change nor break a loaded model, a save loads with the
backbone's folder gone, and a moved backbone is given to load / from_run (checked against
the saved architecture). Saves from before the copy load from the source, as then."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.estimator.validation import SavedForecasterError
from tsfm.models.common import restoring_saved_weights
from tsfm.models.timesclip.clip_backbones import CONFIG_DIR, create_clip
from tsfm.run import run
from tsfm.training.checkpoints import load_checkpoint, module_of


def backbone_copy(folder: Path) -> str:
    shutil.copytree(tiny_backbone_dir("gpt2"), folder)
    return str(folder)


def edit_json(path: Path, change) -> None:
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def more_heads(config: dict) -> None:  # same weight shapes, another attention
    config["n_head"] *= 2


def fitted_s2ip(tmp_path: Path):
    """A tiny S2IP-LLM fitted on a backbone folder of its own and saved: the backbone folder,
    the save, the forecasts and the frame."""
    backbone = backbone_copy(tmp_path / "gpt2")
    frame = synthetic_frame(n_rows=160, n_vars=2)
    est = tiny("s2ip_llm", backbone=backbone).fit(frame)
    return Path(backbone), est.save(tmp_path / "model"), est.predict(), frame


def test_a_changed_backbone_config_does_not_change_a_loaded_model(tmp_path):
    backbone, save, before, frame = fitted_s2ip(tmp_path)
    edit_json(backbone / "config.json", more_heads)
    loaded = Forecaster.load(save)
    assert loaded.module_.model.backbone.config.n_head == 2  # the saved architecture's
    assert loaded.predict().equals(before)
    assert json.loads((save / "architectures.json").read_text())["backbone"]["n_head"] == 2
    # a warm fit trains the saved architecture too, not the one the folder describes now
    loaded.set_params(warm_start=True, verbose=0).fit(frame)
    assert loaded.module_.model.backbone.config.n_head == 2


def test_a_save_loads_without_its_backbone_folder_and_takes_where_it_moved(tmp_path):
    backbone, save, before, frame = fitted_s2ip(tmp_path)
    shutil.rmtree(backbone)
    loaded = Forecaster.load(save)
    assert loaded.predict().equals(before)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        loaded.fit(frame)  # a refit reads the source the settings name: gone

    moved = backbone_copy(tmp_path / "moved")
    loaded = Forecaster.load(save, backbone=moved)
    assert loaded.get_params()["backbone"] == moved == loaded.config_.model.backbone
    assert loaded.predict().equals(before)
    loaded.set_params(verbose=0).fit(frame)  # the refit reads the moved copy

    other = backbone_copy(tmp_path / "other")
    edit_json(Path(other) / "config.json", more_heads)
    with pytest.raises(
        ValueError, match=r"not the backbone this model was saved with.*n_head: 2 -> 4"
    ):
        Forecaster.load(save, backbone=other)
    with pytest.raises(
        TypeError, match=r"\['clip'\].*where its pretrained parts are now: backbone"
    ):
        Forecaster.load(save, clip="ViT-B-16")
    with pytest.raises(ValueError, match="not a URL"):
        Forecaster.load(save, backbone="https://example.com/gpt2")


def test_a_save_from_before_the_copy_loads_from_its_source(tmp_path):
    backbone, save, before, _ = fitted_s2ip(tmp_path)
    (save / "architectures.json").unlink()  # as saves written before it
    assert Forecaster.load(save).predict().equals(before)
    shutil.move(backbone, tmp_path / "moved")
    with pytest.raises(FileNotFoundError, match=r"does not exist.*Forecaster.load\(..., backbone="):
        Forecaster.load(save)
    moved = Forecaster.load(save, backbone=str(tmp_path / "moved"))  # nothing to compare
    assert moved.predict().equals(before)
    moved.save(tmp_path / "again")  # saved again: with the copy
    assert (tmp_path / "again" / "architectures.json").is_file()

    (save / "architectures.json").write_text('{"clip": {"embed_dim": 16}}')
    with pytest.raises(SavedForecasterError, match=r"records architectures for \['clip'\]"):
        Forecaster.load(save)
    (save / "architectures.json").write_text('["backbone"]')
    with pytest.raises(SavedForecasterError, match="not a mapping of setting names"):
        Forecaster.load(save)
    (save / "architectures.json").write_text('{"backbone": {"model_type": "nothing"}}')
    with pytest.raises(ValueError, match="not a transformers config"):
        Forecaster.load(save)


def test_a_changed_clip_json_does_not_change_a_loaded_timesclip(tmp_path):
    import open_clip

    clip = tmp_path / "myclip.json"
    shutil.copy(CONFIG_DIR / "tsfm-tiny-clip.json", clip)
    est = tiny("timesclip", clip=str(clip)).fit(synthetic_frame(n_rows=160, n_vars=2))
    before = est.predict()
    est.save(tmp_path / "model")

    edit_json(clip, lambda config: config["text_cfg"].update(heads=4))
    open_clip.add_model_config(clip)  # as a new process would, open_clip reads the file again
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.module_.model.text.heads == 2
    assert loaded.predict().equals(before)
    clip.unlink()
    assert Forecaster.load(tmp_path / "model").predict().equals(before)

    moved = tmp_path / "moved.json"
    shutil.copy(CONFIG_DIR / "tsfm-tiny-clip.json", moved)
    loaded = Forecaster.load(tmp_path / "model", clip=str(moved))
    assert loaded.get_params()["clip"] == str(moved)
    assert loaded.predict().equals(before)
    other = tmp_path / "other.json"
    shutil.copy(moved, other)
    edit_json(other, lambda config: config["text_cfg"].update(heads=4))
    with pytest.raises(ValueError, match=r"not the CLIP architecture.*text_cfg.heads: 2 -> 4"):
        Forecaster.load(tmp_path / "model", clip=str(other))
    with pytest.raises(FileNotFoundError, match="clip_weights: no checkpoint file"):
        Forecaster.load(tmp_path / "model", clip_weights=str(tmp_path / "gone.pt"))


def test_an_open_clip_vision_tower_keeps_its_architecture_too(tmp_path):
    tower = tmp_path / "tower.json"
    shutil.copy(CONFIG_DIR / "tsfm-tiny-clip.json", tower)
    est = tiny("timesclip", vision=f"open_clip:{tower}").fit(synthetic_frame(n_rows=160))
    before = est.predict()
    est.save(tmp_path / "model")
    tower.unlink()
    assert Forecaster.load(tmp_path / "model").predict().equals(before)
    recorded = json.loads((tmp_path / "model" / "architectures.json").read_text())
    assert sorted(recorded) == ["clip", "vision"]
    moved = tmp_path / "moved.json"
    shutil.copy(CONFIG_DIR / "tsfm-tiny-clip.json", moved)
    loaded = Forecaster.load(tmp_path / "model", vision=f"open_clip:{moved}")
    assert loaded.get_params()["vision"] == f"open_clip:{moved}"
    assert loaded.predict().equals(before)
    with pytest.raises(ValueError, match="is not a new place of the saved model's vision tower"):
        Forecaster.load(tmp_path / "model", vision="clip")


def test_weights_read_from_a_source_must_fit_the_saved_clip_architecture(tmp_path):
    weights = tmp_path / "clip.pt"
    torch.save(create_clip("tsfm-tiny-clip", None, pretrained=False).state_dict(), weights)
    saved = json.loads((CONFIG_DIR / "tsfm-tiny-clip.json").read_text())
    saved["text_cfg"]["heads"] = 4
    with restoring_saved_weights({"clip": saved}):
        with pytest.raises(
            ValueError, match=r"model.clip='tsfm-tiny-clip' is not the CLIP.*heads: 4 -> 2"
        ):
            create_clip("tsfm-tiny-clip", str(weights), pretrained=True)
        assert create_clip("tsfm-tiny-clip", None, pretrained=False).architecture == saved


def s2ip_run(tmp_path: Path, backbone: str, *overrides: str) -> Path:
    settings = {**TINY["s2ip_llm"], "backbone": backbone}
    cfg = compose_config(
        "model=s2ip_llm",
        *[f"model.{k}={v}" for k, v in settings.items()],
        "data.seq_len=24",
        "data.pred_len=8",
        "data.batch_size=16",
        *TINY_RUN,
        *overrides,
    )
    run(cfg, tmp_path / "run")
    return tmp_path / "run"


def test_a_run_checkpoint_keeps_its_backbone_architecture(tmp_path):
    backbone = backbone_copy(tmp_path / "gpt2")
    run_dir = s2ip_run(tmp_path, backbone)
    best = run_dir / "checkpoints" / "best.ckpt"
    before = Forecaster.from_run(run_dir).predict()

    edit_json(Path(backbone) / "config.json", more_heads)
    module = module_of(load_checkpoint(best), best)
    assert module.model.backbone.config.n_head == 2  # the checkpoint's architecture
    assert load_checkpoint(best)["architectures"]["backbone"]["n_head"] == 2
    assert Forecaster.from_run(run_dir).predict().equals(before)
    with pytest.raises(
        ValueError, match=r"other backbone architectures.*model.backbone: n_head: 2 -> 4"
    ):
        s2ip_run(tmp_path, backbone, "resume=true", "trainer.max_epochs=2")

    shutil.rmtree(backbone)
    assert Forecaster.from_run(run_dir).predict().equals(before)
    moved = backbone_copy(tmp_path / "moved")
    forecaster = Forecaster.from_run(run_dir, backbone=moved)
    assert forecaster.get_params()["backbone"] == moved
    assert forecaster.predict().equals(before)


def test_a_backbone_copied_with_save_pretrained_is_the_same_backbone(tmp_path):
    # save_pretrained writes dtype into config.json; a source without it was refused as
    # "not the backbone this model was saved with" when the copy was given to load
    from transformers import AutoModel

    source = tmp_path / "gpt2"
    shutil.copytree(tiny_backbone_dir("gpt2"), source)
    config = json.loads((source / "config.json").read_text())
    for key in ("torch_dtype", "dtype"):
        config.pop(key, None)
    (source / "config.json").write_text(json.dumps(config))
    frame = synthetic_frame(n_rows=160, n_vars=2)
    saved = tiny("s2ip_llm", backbone=str(source)).fit(frame).save(tmp_path / "model")
    copy = tmp_path / "copy"
    AutoModel.from_pretrained(str(source)).save_pretrained(copy)
    assert "dtype" in json.loads((copy / "config.json").read_text()) or "torch_dtype" in (
        json.loads((copy / "config.json").read_text())
    )
    shutil.rmtree(source)
    loaded = Forecaster.load(saved, backbone=str(copy))
    assert loaded.get_params()["backbone"] == str(copy)
