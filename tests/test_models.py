"""The contract every registered model must pass, and iTransformer's own properties."""

from __future__ import annotations

import pytest
import torch

from tests.backbones import tiny_backbone_dir
from tsfm.models import REGISTRY, as_output, build_model, config_schema
from tsfm.models.common import Dropout, cpu_dropout_mask
from tsfm.models.itransformer import ITransformer

# Tiny settings per registered model; a new model adds its line here.
TINY: dict[str, dict] = {
    "itransformer": {"d_model": 16, "n_heads": 2, "e_layers": 1, "d_ff": 32, "dropout": 0.0},
    "s2ip_llm": {
        "backbone": tiny_backbone_dir("gpt2"),
        "n_layers": 2,
        "pool_size": 16,
        "prompt_length": 2,
        "patch_size": 8,
        "stride": 4,
        "trend_length": 4,
        "seasonal_length": 6,
    },
    "timesclip": {
        "clip": "tsfm-tiny-clip",
        "pretrained": False,
        "image_size": 32,
        "line_width": 1.5,
        "patch_len": 8,
        "stride": 4,
        "dropout": 0.0,
    },
}
DIMS = {"seq_len": 24, "pred_len": 8, "n_vars": 3, "n_marks": 4}


def make(name: str, **overrides):
    torch.manual_seed(0)
    return build_model({"name": name, **TINY[name], **overrides}, DIMS)


def batch(n_vars: int = 3, size: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(size, DIMS["seq_len"], n_vars, generator=g),
        "x_mark": torch.rand(size, DIMS["seq_len"], DIMS["n_marks"], generator=g) - 0.5,
        "y": torch.randn(size, DIMS["pred_len"], n_vars, generator=g),
    }


def predict(model, b):
    return as_output(model(**{k: v for k, v in b.items() if k != "y"})).prediction


def test_every_registered_model_has_tiny_settings():
    assert set(TINY) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
class TestContract:
    def test_output_shape_and_finite(self, name):
        model = make(name).eval()
        out = predict(model, batch())
        assert out.shape == (4, DIMS["pred_len"], 3) and torch.isfinite(out).all()

    def test_schema_mirrors_the_constructor(self, name):
        schema = config_schema(name)
        defaults = schema()
        assert defaults.name == name
        assert set(TINY[name]) <= {f for f in defaults.__dataclass_fields__}

    def test_unknown_setting_is_refused(self, name):
        with pytest.raises(ValueError, match="has no setting"):
            build_model({"name": name, "no_such_knob": 1}, DIMS)

    def test_one_batch_overfits(self, name):
        model = make(name).train()
        b = batch(size=8)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        first = None
        for _ in range(150):
            loss = torch.nn.functional.mse_loss(predict(model, b), b["y"])
            first = first if first is not None else loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert loss.item() < 0.2 * first

    def test_state_dict_round_trip(self, name, tmp_path):
        model = make(name).eval()
        torch.save(model.state_dict(), tmp_path / "w.pt")
        clone = make(name)
        clone.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True))
        b = batch()
        assert torch.equal(predict(model, b), predict(clone.eval(), b))

    def test_any_number_of_variates_at_predict_time(self, name):
        model = make(name).eval()
        assert predict(model, batch(n_vars=5)).shape == (4, DIMS["pred_len"], 5)
        assert predict(model, batch(n_vars=1)).shape == (4, DIMS["pred_len"], 1)


def test_itransformer_is_permutation_equivariant_over_variates():
    model = make("itransformer").eval()
    b = batch(n_vars=5)
    perm = torch.tensor([3, 0, 4, 1, 2])
    out = predict(model, b)
    permuted = predict(model, {**b, "x": b["x"][..., perm]})
    torch.testing.assert_close(permuted, out[..., perm], rtol=1e-5, atol=1e-5)


def test_itransformer_time_feature_tokens_matter_but_are_sliced_off():
    model = make("itransformer").eval()
    b = batch()
    with_marks = predict(model, b)
    assert with_marks.shape[-1] == 3  # 3 variates out, not 3 + 4 calendar tokens
    shifted = predict(model, {**b, "x_mark": b["x_mark"] + 0.3})
    assert not torch.allclose(with_marks, shifted)
    blind = make("itransformer", use_time_features=False).eval()
    torch.testing.assert_close(
        predict(blind, b), predict(blind, {**b, "x_mark": b["x_mark"] + 0.3})
    )


def test_itransformer_instance_norm_makes_it_affine_equivariant_per_variate():
    model = make("itransformer").eval()
    b = batch()
    scale, shift = torch.tensor([2.0, 0.5, 10.0]), torch.tensor([-3.0, 1.0, 100.0])
    out = predict(model, b)
    moved = predict(model, {**b, "x": b["x"] * scale + shift})
    torch.testing.assert_close(moved, out * scale + shift, rtol=1e-3, atol=1e-3)
    raw = make("itransformer", use_norm=False).eval()
    assert not torch.allclose(
        predict(raw, {**b, "x": b["x"] + 100.0}), predict(raw, b) + 100.0, atol=1e-2
    )


def test_itransformer_attention_maps_match_the_fast_path():
    fast = make("itransformer", e_layers=2).eval()
    explicit = make("itransformer", e_layers=2, output_attention=True).eval()
    b = batch()
    result = explicit(b["x"], b["x_mark"])
    torch.testing.assert_close(result.prediction, predict(fast, b), rtol=1e-5, atol=1e-5)
    maps = result.extras["attention"]
    assert len(maps) == 2 and maps[0].shape == (4, 2, 3 + 4, 3 + 4)  # [B, H, N + C, N + C]
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(4, 2, 7))


def test_itransformer_matches_a_hand_written_forward_pass():
    """Embedding -> post-LN layer -> final LN -> projector, written out from the paper's equations."""
    model = make("itransformer").eval()
    b = batch()
    x, marks = b["x"], b["x_mark"]
    mean = x.mean(1, keepdim=True)
    std = torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-5)
    tokens = torch.cat([((x - mean) / std).transpose(1, 2), marks.transpose(1, 2)], 1)
    h = model.embedding(tokens)
    layer = model.layers[0]
    att = layer.attention
    q, k, v = att.query(h), att.key(h), att.value(h)
    heads = lambda t: t.view(4, 7, 2, 8).transpose(1, 2)  # noqa: E731
    w = torch.softmax(heads(q) @ heads(k).transpose(-1, -2) / 8**0.5, -1)
    ctx = (w @ heads(v)).transpose(1, 2).reshape(4, 7, 16)
    h = layer.norm1(h + att.out(ctx))
    h = layer.norm2(h + layer.ff_out(torch.nn.functional.gelu(layer.ff_in(h))))
    out = model.projector(model.final_norm(h)).transpose(1, 2)[..., :3] * std + mean
    torch.testing.assert_close(predict(model, b), out, rtol=1e-5, atol=1e-5)


def test_itransformer_rejects_bad_settings():
    with pytest.raises(ValueError, match="divisible"):
        ITransformer(24, 8, d_model=10, n_heads=3)
    with pytest.raises(ValueError, match="activation"):
        ITransformer(24, 8, activation="swish")


def test_cpu_dropout_keeps_the_right_share_and_rescales():
    torch.manual_seed(0)
    mask = cpu_dropout_mask(torch.Size([200, 500]), 0.1)
    assert abs(mask.float().mean().item() - 0.9) < 0.005
    layer = Dropout(0.25).train()
    x = torch.ones(1000, 100)
    y = layer(x)
    assert y.unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert abs((y == 0).float().mean().item() - 0.25) < 0.01
    assert torch.equal(layer.eval()(x), x)
