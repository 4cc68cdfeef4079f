"""TimesCLIP refuses backbone settings that cannot work before it builds anything, and says
what to change; what only a built timm tower tells is checked right after its build."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.models import DIMS, TINY
from tsfm.models import build_model
from tsfm.models.timesclip.clip_backbones import create_clip


def build(dims=DIMS, **settings):
    return build_model({"name": "timesclip", **TINY["timesclip"], **settings}, dims)


@pytest.fixture
def nothing_built(monkeypatch):
    """Building either backbone fails the test: the refusal has to come first."""
    import open_clip
    import timm

    def built(*args, **kwargs):
        raise AssertionError(f"a backbone was built: {args}")

    monkeypatch.setattr(timm, "create_model", built)
    monkeypatch.setattr(open_clip, "create_model", built)


@pytest.fixture
def clip_file(tmp_path):
    """A file where pretrained CLIP weights are expected: the checks only ask that it exists."""
    path = tmp_path / "clip.pt"
    path.write_bytes(b"")
    return str(path)


@pytest.mark.parametrize(
    ("name", "patch"),
    [
        ("test_vit", 16),  # from its registry entry: the name does not say
        ("vit_base_patch16_224", 16),
        ("vit_medium_patch16_clip_224", 16),  # from the name: its entry passes no patch_size
        ("xcit_tiny_12_p8_224", 8),
        ("eva02_tiny_patch14_224.mim_in22k", 14),  # a pretrained tag is not part of the model
        ("test_resnet", None),
        ("convit_tiny", None),  # set by the class: known once built
    ],
)
def test_timm_patch_sizes_are_read_without_building(nothing_built, name, patch):
    from tsfm.models.timesclip.timm_towers import timm_patch_size

    assert timm_patch_size(name) == patch


@pytest.mark.parametrize(
    ("vision", "size", "fix"),
    [
        ("timm:test_vit", 40, r"patch size 16 \(timm:test_vit\).*use 32 or 48"),
        ("timm:test_vit", 8, r"patch size 16 \(timm:test_vit\).*use 16$"),
        ("timm:vit_base_patch16_224", 40, r"patch size 16 .*use 32 or 48"),
        ("timm:vit_medium_patch16_clip_224", 24, r"patch size 16 .*use 16 or 32"),
        ("open_clip:ViT-B-32", 48, r"patch size 32 \(ViT-B-32\).*use 32 or 64"),
        ("open_clip:ViT-B-16-SigLIP", 40, r"patch size 16 .*use 32 or 48"),  # a timm trunk
    ],
)
def test_an_image_size_a_tower_cannot_tile_is_refused_before_anything_is_built(
    nothing_built, vision, size, fix
):
    with pytest.raises(ValueError, match=rf"image_size={size} \(model.image_size.*{fix}"):
        build(vision=vision, image_size=size)


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        (
            {"vision": "timm:vit_base_patch16_2244"},
            ValueError,
            r"timm has no model 'vit_base_patch16_2244' \(close: vit_base_patch16_224",
        ),
        ({"vision": "dino:vit_small"}, ValueError, r"model.vision='dino:vit_small': use 'clip'"),
        ({"vision": "timm:"}, ValueError, r"'timm:<model name>'"),
        (
            {"vision": "timm:test_vit", "pretrained": True, "vision_weights": "/no/vit.pth"},
            FileNotFoundError,
            r"(?s)vision_weights: no checkpoint file at /no/vit.pth.*saved state dict of "
            r"timm:test_vit.*null for timm's own.*timm:test_vit.<tag>.*pretrained=false",
        ),
        (
            {"vision": "open_clip:ViT-Q-99"},
            ValueError,
            r"model.vision: unknown open_clip architecture 'ViT-Q-99'",
        ),
        (
            {"vision": "open_clip:tsfm-tiny-clip", "pretrained": True},
            ValueError,
            r"needs model.vision_weights for CLIP tsfm-tiny-clip",
        ),
        (
            {"vision": "open_clip:tsfm-tiny-clip", "pretrained": True, "vision_weights": "x"},
            ValueError,
            r"model.vision_weights='x' is neither a pretrained tag",
        ),
        (
            {"clip": "roberta-ViT-B-32"},  # building it would download roberta's config
            ValueError,
            r"Hugging Face text tower \(roberta-base\).*choose an open_clip architecture",
        ),
        ({"image_size": 4, "align": False}, ValueError, r"at least 8 pixels, got 4"),
    ],
)
def test_wrong_backbone_settings_are_refused_before_anything_is_built(
    nothing_built, clip_file, settings, error, message
):
    weights = {"clip_weights": clip_file} if settings.get("pretrained") else {}
    with pytest.raises(error, match=message):
        build(**weights, **settings)


def test_more_patches_than_text_positions_are_refused_before_anything_is_built(nothing_built):
    dims = {**DIMS, "seq_len": 96}  # 49 patches of 2 (end padding) + CLS; the tiny CLIP has 32
    with pytest.raises(ValueError, match=r"49 patches \+ CLS exceed the text tower's 32 pos"):
        build(dims, patch_len=2, stride=2)


def test_a_weights_source_without_an_architecture_says_what_random_weights_need():
    with pytest.raises(ValueError, match=r"give model.clip an open_clip architecture"):
        create_clip("hf-hub:timm/ViT-B-16-SigLIP", None, pretrained=False)


@pytest.mark.parametrize(
    ("vision", "size", "message"),
    [  # sizes only the forward pass refuses: fixed attention grids, a CNN's tiny feature map
        ("timm:test_coatnet", 40, r"timm:test_coatnet cannot encode image_size=40 .*160 x 160"),
        ("timm:test_convnext", 8, r"timm:test_convnext cannot encode image_size=8 .*Kernel"),
    ],
)
def test_an_image_size_a_timm_architecture_cannot_encode_is_refused_once_built(
    vision, size, message
):
    with pytest.raises(ValueError, match=rf"{message}.*Set model.image_size to a size"):
        build(vision=vision, image_size=size)


def test_the_check_of_a_built_timm_tower_leaves_its_state_alone():
    from tsfm.models.timesclip.vision_towers import build_vision_tower

    tower = build_vision_tower("timm:test_resnet", None, "", None, False, 32).encoder
    assert all(module.training for module in tower.modules())  # as built: in train mode
    assert int(tower.bn1.num_batches_tracked) == 0  # the blank image moved no statistics


def test_a_patch_size_only_the_built_timm_tower_gives_is_checked_after_the_build():
    with pytest.raises(ValueError, match=r"patch size 16 \(timm:convit_tiny\).*use 32 or 48"):
        build(vision="timm:convit_tiny", image_size=40)


def test_a_type_error_that_is_not_about_the_image_size_is_not_retried(monkeypatch):
    import timm

    create_model, calls = timm.create_model, []

    def failing_once(name, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise TypeError("unsupported operand type(s)")
        return create_model(name, **kwargs)

    monkeypatch.setattr(timm, "create_model", failing_once)
    with pytest.raises(TypeError, match="unsupported operand"):
        build(vision="timm:test_vit")
    assert len(calls) == 1  # not silently rebuilt at timm's default size, without img_size


def test_a_timm_weights_file_of_another_model_says_to_check_the_file(tmp_path):
    import timm

    torch.save(create_clip("tsfm-tiny-clip", None, False).state_dict(), tmp_path / "clip.pt")
    torch.save(timm.create_model("test_vit", num_classes=0).state_dict(), tmp_path / "vit.pth")
    with pytest.raises(RuntimeError, match=r"Check that .*vit.pth holds timm:test_vit3's"):
        build(
            vision="timm:test_vit3",
            pretrained=True,
            clip_weights=str(tmp_path / "clip.pt"),
            vision_weights=str(tmp_path / "vit.pth"),
        )
