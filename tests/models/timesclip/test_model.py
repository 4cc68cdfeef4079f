"""TimesCLIP: the contrastive loss, variate selection, what trains, the switches, the optimizer."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tests.helpers.models import DIMS, TINY, batch
from tsfm.models import as_output, build_model
from tsfm.models.common import n_patches, patchify
from tsfm.models.timesclip.layers import info_nce
from tsfm.training.module import ForecastingModule


def tiny(**overrides):
    torch.manual_seed(0)
    return build_model({"name": "timesclip", **TINY["timesclip"], **overrides}, DIMS)


def test_info_nce_equals_the_hand_computed_value():
    language = torch.tensor([[3.0, 4.0], [0.0, 2.0]])  # unit vectors (0.6, 0.8) and (0, 1)
    image = torch.tensor([[1.0, 0.0], [0.0, 5.0]])  # (1, 0) and (0, 1)
    # cosine similarities S[i, j] = <l_i, v_j>: [[0.6, 0.8], [0.0, 1.0]], times the scale 2
    s = [[1.2, 1.6], [0.0, 2.0]]

    def ce(row, target):  # -log softmax(row)[target]
        return -row[target] + math.log(sum(math.exp(v) for v in row))

    rows = (ce(s[0], 0) + ce(s[1], 1)) / 2  # language -> image
    cols = (ce([s[0][0], s[1][0]], 0) + ce([s[0][1], s[1][1]], 1)) / 2  # image -> language
    expected = (rows + cols) / 2
    assert info_nce(language, image, torch.tensor(2.0)).item() == pytest.approx(expected, rel=1e-6)
    # rows: (0.9130 + 0.1269) / 2, columns: (0.2633 + 0.5131) / 2, worked out on paper
    assert expected == pytest.approx(0.4541, abs=1e-4)


def test_patching_pads_the_end_as_patchtst():
    series = torch.arange(10.0).unsqueeze(0)
    patches = patchify(series, 4, 2)
    assert patches.shape == (1, n_patches(10, 4, 2), 4) == (1, 5, 4)
    assert patches[0, -1].tolist() == [8.0, 9.0, 9.0, 9.0]
    assert n_patches(96, 16, 8) == 12  # docs/reference/timesclip.md#inferred-tensor-shapes


def test_variate_selection_attends_across_variates():
    b = batch()
    other = b["x"].clone()
    other[..., 1] = torch.randn_like(other[..., 1]) * 3  # change variate 1 only
    for selection in (True, False):
        model = tiny(variate_selection=selection).eval()
        before, after = model(b["x"]), model(other)
        if selection:
            assert not torch.allclose(before[..., 0], after[..., 0], atol=1e-4)
        else:
            torch.testing.assert_close(before[..., [0, 2]], after[..., [0, 2]])
        assert not torch.allclose(before[..., 1], after[..., 1])


def test_a_first_cls_under_the_causal_mask_sees_only_itself():
    series = torch.randn(2, DIMS["seq_len"])
    blind = tiny(causal_mask=True).eval()
    cls, _ = blind.encode_language(series)
    torch.testing.assert_close(cls[0], cls[1])  # the same CLS whatever the input
    for settings in ({"causal_mask": True, "cls_position": "last"}, {}):
        cls, _ = tiny(**settings).eval().encode_language(series)
        assert not torch.allclose(cls[0], cls[1])


def test_only_the_intended_parameters_train():
    model = tiny()
    assert "_frozen_tower" in model.__dict__ and not any("encoder" in k for k in model.state_dict())
    tower_before = {k: v.clone() for k, v in model.tower.state_dict().items()}
    assert not any(p.requires_grad for p in model.tower.parameters())
    assert all(p.requires_grad for p in model.parameters())
    groups = model.parameter_groups(1e-3)
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model.text.parameters()}
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(model.parameters()))
    names = {n for n, p in model.named_parameters() if any(p is q for q in groups[1]["params"])}
    assert {
        "cls_token",
        "patch_embedding.weight",
        "image_projection.weight",
        "head.weight",
    } <= names
    assert "log_logit_scale" in names and "selection.attention.in_proj_weight" in names

    text_before = model.text.positional_embedding.detach().clone()
    optimizer = torch.optim.AdamW([{k: v for k, v in g.items() if k != "name"} for g in groups])
    model.train()
    b = batch()
    output = model(b["x"])
    (F.mse_loss(output.prediction, b["y"]) + output.aux_losses["align"]).backward()
    optimizer.step()
    assert not torch.equal(model.text.positional_embedding, text_before)
    for key, value in model.tower.state_dict().items():
        assert torch.equal(value, tower_before[key])

    fixed = tiny(learn_temperature=False)
    assert "log_logit_scale" not in dict(fixed.named_parameters())
    assert fixed.log_logit_scale.item() == pytest.approx(math.log(1 / 0.07))


def test_a_trainable_vision_tower_joins_the_backbone_group_and_is_not_cached():
    model = tiny(freeze_vision=False)
    assert model.image_cache is None  # feature_cache=auto -> off
    tower = set(map(id, model.vision_tower.parameters()))
    assert tower and tower <= {id(p) for p in model.parameter_groups(1e-3)[0]["params"]}
    assert any(k.startswith("vision_tower.") for k in model.state_dict())
    with pytest.raises(ValueError, match="cannot be cached"):
        tiny(freeze_vision=False, feature_cache="memory")


def test_alignment_switch_and_training_only_loss():
    b = batch()
    model = tiny().train()
    assert set(model(b["x"]).aux_losses) == {"align"}
    assert isinstance(model.eval()(b["x"]), torch.Tensor)  # no vision view at inference
    off = tiny(align=False).train()
    assert isinstance(off(b["x"]), torch.Tensor) and "_frozen_tower" not in off.__dict__
    weighted = tiny(align_weight=0.5).train()(b["x"]).aux_losses["align"]
    assert weighted.item() == pytest.approx(5 * model.train()(b["x"]).aux_losses["align"].item())


def test_colour_switch_draws_every_variate_alike():
    model = tiny()
    windows = torch.randn(1, DIMS["seq_len"], 1).expand(1, -1, 3)  # one series, three variates
    columns = torch.arange(3).unsqueeze(0)
    coloured = model.encode_images(windows, columns)[0]
    assert not torch.allclose(coloured[0], coloured[1])
    plain = tiny(colour=False).encode_images(windows, columns)[0]
    torch.testing.assert_close(plain[0], plain[1])


@pytest.mark.parametrize(
    "vision", ["open_clip:tsfm-tiny-clip", "timm:test_vit", "timm:test_resnet"]
)
def test_the_vision_tower_can_be_swapped(vision):
    model = tiny(vision=vision).train()
    b = batch(size=2)
    output = model(b["x"])
    assert torch.isfinite(output.aux_losses["align"])
    assert model.tower.source.startswith(vision.split(":")[0])


def test_the_optimizer_has_two_learning_rates_and_cosine_decay():
    module = ForecastingModule(
        model={"name": "timesclip", **TINY["timesclip"]},
        dims=DIMS,
        optim={"optimizer": "adamw", "lr": 1e-3, "scheduler": "cosine", "epochs": 4},
    )
    config = module.configure_optimizers()
    optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-4, 1e-3]
    for _ in range(2):
        optimizer.step()  # no gradients yet: a no-op that keeps the scheduler's order check quiet
        scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([5e-5, 5e-4])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cls_position": "middle"}, "cls_position"),
        ({"feature_cache": "gpu"}, "feature_cache"),
        ({"selection_features": "max"}, "selection_features"),
        ({"patch_len": 40}, "patch_len"),
        ({"selection_heads": 5}, "selection_heads"),
        ({"temperature": 0.0}, "temperature"),
        ({"vision": "resnet"}, "model.vision"),
        ({"backbone_lr": -0.5}, r"backbone_lr=-0.5 must be a positive finite"),
        ({"backbone_lr": 0.0}, r"backbone_lr=0.0 must be a positive finite"),
        ({"backbone_lr": float("nan")}, r"backbone_lr=nan must be a positive finite"),
        ({"cache_chunk": 0}, r"cache_chunk=0 .*positive whole number"),
        ({"cache_chunk": -5}, r"cache_chunk=-5 .*positive whole number"),
        ({"selection_ff": 0}, r"selection_ff=0 must be a positive whole number, or null"),
        ({"selection_heads": 0}, r"selection_heads=0 must be a positive whole number, or null"),
        ({"selection_heads": -2}, r"selection_heads=-2 must be a positive"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        tiny(**settings)


def test_only_null_selects_the_selection_defaults():
    width = tiny().text.width
    assert tiny().selection.ffn[0].out_features == 4 * width
    assert tiny(selection_ff=7, selection_heads=1).selection.ffn[0].out_features == 7
    assert tiny(selection_heads=1).selection.attention.num_heads == 1
    assert tiny(backbone_lr=None).parameter_groups(1e-3)[0]["lr"] == 1e-3


def test_more_patches_than_text_positions_is_refused():
    with pytest.raises(ValueError, match="positions"):
        build_model({"name": "timesclip", **TINY["timesclip"]}, {**DIMS, "seq_len": 200})


def test_predictions_do_not_depend_on_the_batch_composition():
    model = tiny().eval()
    b = batch(size=6)
    whole = as_output(model(b["x"])).prediction
    torch.testing.assert_close(as_output(model(b["x"][2:4])).prediction, whole[2:4])
