"""iTransformer's own properties: permutation equivariance, calendar tokens, instance norm,
attention maps, a hand-written forward pass."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.models import batch, make, predict
from tsfm.models.itransformer import ITransformer


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
    fast = make("itransformer", n_layers=2).eval()
    explicit = make("itransformer", n_layers=2, output_attention=True).eval()
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


@pytest.mark.parametrize("bf16", [False, True])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_inference_computes_only_the_target_tokens_in_the_last_layer_with_the_same_values(
    bf16: bool, n_layers: int
):
    """Past covariate tokens before the targets, calendar and future tokens after them: the
    inference pass (last layer on the targets' tokens only) equals the full pass, which a
    training-mode model without dropout runs."""
    torch.manual_seed(0)
    model = ITransformer(
        24, 8, n_future=2, d_model=16, n_heads=2, d_ff=32, n_layers=n_layers, dropout=0.0
    )
    inputs = dict(
        x=torch.randn(5, 24, 3),
        x_mark=torch.randn(5, 24, 4),
        past_covariates=torch.randn(5, 24, 2),
        future_covariates=torch.randn(5, 32, 2),
    )
    tokens = 2 + 3 + 4 + 2
    seen = []
    layer = model.layers[-1]
    layer.register_forward_hook(lambda _m, _i, out: seen.append(out[0].shape[1]))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), torch.no_grad():
        full = model.train()(**inputs)
        pruned = model.eval()(**inputs)
    assert seen == [tokens, 3]  # the inference pass kept only the three targets' tokens
    assert pruned.shape == full.shape == (5, 8, 3)
    tolerance = 1e-2 if bf16 else 1e-6
    torch.testing.assert_close(pruned, full, rtol=tolerance, atol=tolerance)
