"""TimesCLIP's backbones loaded for real (from files, offline), its presets and its CLI run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers.models import DIMS, TINY
from tests.helpers.runs import TINY_RUN, run_cli
from tsfm.config import CONF_DIR, compose_config
from tsfm.models import build_model
from tsfm.models.timesclip.clip_backbones import create_clip, resolve_architecture
from tsfm.models.timesclip.vision_towers import build_vision_tower

TINY_TEST_CLIP = {
    "embed_dim": 8,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 16, "head_width": 8, "patch_size": 8},
    "text_cfg": {"context_length": 20, "vocab_size": 32, "width": 24, "heads": 3, "layers": 1},
}


@pytest.fixture
def saved_clip(tmp_path):
    """A tiny open_clip architecture registered from a JSON file, random weights in a file."""
    import open_clip

    config = tmp_path / "tiny-test-clip.json"
    config.write_text(json.dumps(TINY_TEST_CLIP))
    torch.manual_seed(11)
    clip = open_clip.create_model(resolve_architecture(str(config)))
    torch.save(clip.state_dict(), tmp_path / "clip.pt")
    return config, tmp_path / "clip.pt", clip.state_dict()


def build(**settings):
    return build_model({"name": "timesclip", **TINY["timesclip"], **settings}, DIMS)


def test_a_saved_clip_checkpoint_loads_through_the_model(saved_clip):
    config, weights, state = saved_clip
    torch.manual_seed(0)  # a different seed: only loading can make the weights equal
    model = build(clip=str(config), clip_weights=str(weights), pretrained=True)
    assert model.text.width == 24 and model.text.context_length == 20
    torch.testing.assert_close(model.text.positional_embedding, state["positional_embedding"])
    for key, value in model.text.transformer.state_dict().items():
        torch.testing.assert_close(value, state[f"transformer.{key}"])
    for key, value in model.tower.encoder.state_dict().items():
        torch.testing.assert_close(value, state[f"visual.{key}"])
    random = build(clip=str(config), pretrained=False)
    assert not torch.equal(random.text.positional_embedding, state["positional_embedding"])


def test_random_weights_never_touch_the_network(monkeypatch):
    import open_clip.factory

    def offline(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", offline)
    monkeypatch.setattr(open_clip.factory, "download_pretrained_from_hf", offline)
    assert build(pretrained=False, clip_weights="openai") is not None


def test_a_pretrained_tag_that_cannot_be_fetched_says_how_to_provide_it(monkeypatch):
    import open_clip.factory

    def offline(*args, **kwargs):
        raise OSError("no internet")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", offline)
    # the Hub answers tsfm's check; the download itself fails (without a network, that check
    # fails first and the message says so: tests/models/test_hub_access.py)
    monkeypatch.setattr("tsfm.models.hub_access.unreachable_reason", lambda: None)
    with pytest.raises(
        RuntimeError, match=r"(?s)no internet.*model\.clip_weights=/path.*pretrained=false"
    ):
        create_clip("ViT-B-16", "openai", pretrained=True)


@pytest.mark.parametrize(
    ("clip", "weights", "error", "message"),
    [
        ("tsfm-tiny-clip", "/no/such/dir/clip.pt", FileNotFoundError, "no checkpoint file"),
        ("tsfm-tiny-clip", None, ValueError, "needs model.clip_weights"),
        ("ViT-B-16", "no-such-tag", ValueError, "neither a pretrained tag"),
        ("ViT-Q-99", "openai", ValueError, "unknown open_clip architecture"),
        ("/no/such/arch.json", "openai", FileNotFoundError, "architecture config"),
    ],
)
def test_missing_or_wrong_backbones_are_clear_errors(clip, weights, error, message):
    with pytest.raises(error, match=message):
        create_clip(clip, weights, pretrained=True)


def test_a_missing_weights_file_names_the_tag_to_fetch_them_with():
    with pytest.raises(FileNotFoundError) as missing:
        create_clip("ViT-B-16", "/no/such/dir/clip.pt", pretrained=True)
    message = str(missing.value)
    assert "open_clip.create_model('ViT-B-16', pretrained='openai')" in message
    assert "<tag>" not in message
    with pytest.raises(FileNotFoundError) as missing:  # open_clip has no weights for it
        create_clip("tsfm-tiny-clip", "/no/such/dir/clip.pt", pretrained=True)
    message = str(missing.value)
    assert "open_clip has no pretrained weights for tsfm-tiny-clip" in message
    assert "<tag>" not in message and "create_model" not in message


def test_a_json_that_is_not_a_clip_config_is_refused(tmp_path):
    path = tmp_path / "not-a-clip.json"
    path.write_text(json.dumps({"layers": 2}))
    with pytest.raises(ValueError, match="not an open_clip model config"):
        resolve_architecture(str(path))


def test_a_timm_vision_tower_loads_from_a_file(tmp_path):
    import timm

    torch.manual_seed(5)
    saved = timm.create_model("test_vit", num_classes=0, img_size=32)
    torch.save(saved.state_dict(), tmp_path / "vit.pth")
    tower = build_vision_tower("timm:test_vit", None, "", str(tmp_path / "vit.pth"), True, 32)
    for key, value in saved.state_dict().items():
        torch.testing.assert_close(tower.encoder.state_dict()[key], value)
    with pytest.raises(FileNotFoundError, match="vision_weights"):
        build_vision_tower("timm:test_vit", None, "", str(tmp_path / "none.pth"), True, 32)


TIMESCLIP_PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("timesclip_*.yaml"))


def test_timesclip_presets_cover_the_paper_settings():
    import open_clip

    names = {tuple(p.removeprefix("timesclip_").rsplit("_", 1)) for p in TIMESCLIP_PRESETS}
    for dataset in ("etth1", "ettm1", "ettm2", "weather", "exchange_rate", "traffic"):
        assert {(dataset, "96"), (dataset, "192")} <= names
    assert {("illness", h) for h in ("24", "36", "48", "60")} <= names
    for preset in TIMESCLIP_PRESETS:  # composed: the values live in conf/experiment/base/ too
        cfg = compose_config(f"experiment={preset}")
        assert resolve_architecture(cfg.model.clip) in open_clip.list_models()
        assert (cfg.optim.optimizer, cfg.optim.scheduler) == ("adamw", "cosine")
        assert (cfg.optim.lr, cfg.model.backbone_lr, cfg.model.align_weight) == (1e-3, 1e-4, 0.1)
        assert cfg.trainer.max_epochs == 100 and cfg.callbacks.early_stopping.patience == 30


def test_the_full_size_preset_architecture_builds():
    cfg = compose_config("experiment=timesclip_etth1_96", "model.pretrained=false")
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    dims = {"seq_len": 96, "pred_len": 96, "n_vars": 7}
    with torch.device("meta"):  # ViT-B/16 shapes without allocating or initialising 150M weights
        model = build_model(model_cfg, dims)
    assert (model.text.width, model.text.context_length, model.tower.out_dim) == (512, 77, 512)
    assert model.head.in_features == (12 + 2) * 512  # [CLS, 12 patches, selected variate]


def test_cli_run_of_a_tiny_timesclip_on_etth1(tmp_path):
    run_dir = tmp_path / "run"
    tiny = [f"model.{k}={v}" for k, v in TINY["timesclip"].items()]
    overrides = [o for o in TINY_RUN if not o.startswith(("output.", "logger="))]
    proc = run_cli(
        "experiment=timesclip_etth1_96",
        *tiny,
        *overrides,
        "trainer.log_every_n_steps=1",
        "data.seq_len=24",
        "data.pred_len=8",
        "data.batch_size=8",
        "data.percent=5",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["model"] == "timesclip" and metrics["test/mse"] > 0
    assert metrics["windows/test"] == 2873  # the full ETTh1 test split at 24 -> 8
    saved = OmegaConf.load(run_dir / "config.yaml")
    assert saved.model.clip == "tsfm-tiny-clip" and saved.optim.optimizer == "adamw"
    logged = pd.read_csv(run_dir / "logs" / "metrics.csv")
    steps, epoch = logged["train/align_step"].dropna(), logged["train/align"].dropna()
    assert len(steps) > 1 and len(epoch) == 1  # every step's value, and the epoch's mean
    assert epoch.iloc[0] == pytest.approx(steps.mean(), rel=1e-5)  # batches of 8: all full


@pytest.mark.parametrize(
    ("vision", "size", "fix"),
    [
        ("clip", 40, "use 32 or 48"),  # tsfm-tiny-clip: 16-pixel patches
        ("clip", 12, "use 16$"),
        ("open_clip:tsfm-tiny-clip", 24, "use 16 or 32"),
        ("timm:test_vit", 40, "use 32 or 48"),
    ],
)
def test_an_image_size_the_patches_do_not_tile_is_refused(vision, size, fix):
    with pytest.raises(ValueError, match=rf"image_size={size} \(model.image_size.*16.*{fix}"):
        build(vision=vision, image_size=size)
    build(vision=vision, image_size=48)  # a multiple is fine
    build(vision=vision, image_size=40, align=False)  # no images are drawn


def test_an_image_size_below_one_patch_is_refused_before_weights_load(saved_clip):
    config, weights, _ = saved_clip  # 8-pixel patches
    with pytest.raises(ValueError, match=r"image_size=12 .*patch size 8.*use 8 or 16"):
        build(clip=str(config), clip_weights=str(weights), pretrained=True, image_size=12)
    with pytest.raises(ValueError, match=r"image_size=5 .*use 8$"):
        build(clip=str(config), clip_weights=str(weights), pretrained=True, image_size=5)
