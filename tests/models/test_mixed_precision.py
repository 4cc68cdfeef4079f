"""bf16 mixed precision on CPU (``torch.autocast("cpu")``): every model's forward agrees with
fp32 within the documented tolerance, the fp32 paths are untouched, and what must stay fp32
(softmax, anchor retrieval) does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers.models import batch, make, predict
from tsfm.models import REGISTRY, model_class
from tsfm.models.attention import MultiheadAttention, explicit_attention, softmax_fp32
from tsfm.models.common import InstanceNorm
from tsfm.models.itransformer import InvertedAttention
from tsfm.models.s2ip_llm.layers import SemanticAnchors, l2_normalize

# The documented tolerance (README, "Mixed precision"): the RMS of the bf16 - fp32 forecast
# difference at most 2% of the forecast's RMS, with the same weights and inputs.
RELATIVE_RMS = 0.02


def bf16(fn, *args, **kwargs):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return fn(*args, **kwargs)


def relative_rms(value: torch.Tensor, reference: torch.Tensor) -> float:
    value, reference = value.detach().float(), reference.detach()
    return float((value - reference).square().mean().sqrt() / reference.square().mean().sqrt())


@pytest.mark.parametrize("tokens", [11, 20])  # both softmax layouts (short and long rows)
@pytest.mark.parametrize("kind", ["plain", "causal", "bool_mask", "additive_mask"])
def test_explicit_attention_is_sdpa_in_fp32(tokens, kind):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, tokens, 8, generator=g) for _ in range(3))
    allowed = torch.rand(tokens, tokens, generator=g) > 0.3
    allowed.fill_diagonal_(True)
    masks = {"bool_mask": allowed, "additive_mask": torch.randn(tokens, tokens, generator=g)}
    mask = masks.get(kind)
    ours = explicit_attention(q, k, v, causal=kind == "causal", mask=mask)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=kind == "causal")
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)


def test_softmax_fp32_is_float32_softmax_for_short_and_long_rows():
    for keys in (4, 11, 15, 16, 40):
        scores = torch.randn(5, 3, keys).bfloat16()
        out = softmax_fp32(scores)
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, torch.softmax(scores.float(), -1), rtol=1e-6, atol=1e-7)


def test_inverted_attention_keeps_sdpa_in_fp32_and_agrees_in_bf16():
    torch.manual_seed(0)
    layer = InvertedAttention(32, 4, dropout=0.0).eval()
    x = torch.randn(6, 11, 32)
    heads = [layer._heads(proj(x)) for proj in (layer.query, layer.key, layer.value)]
    sdpa = F.scaled_dot_product_attention(*heads).transpose(1, 2).reshape(x.shape)
    out, _ = layer(x)
    assert torch.equal(out, layer.out(sdpa))  # fp32: the same kernels, bit for bit
    assert relative_rms(bf16(layer, x)[0], out) < RELATIVE_RMS


@pytest.mark.parametrize("inputs", ["self", "key_is_value", "separate"])
def test_multihead_attention_is_torchs_in_fp32_and_agrees_in_bf16(inputs):
    torch.manual_seed(0)
    ours = MultiheadAttention(32, 4, batch_first=True).eval()
    theirs = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    theirs.load_state_dict(ours.state_dict())
    query = torch.randn(5, 7, 32)
    key = query if inputs == "self" else torch.randn(5, 9, 32)
    value = key if inputs != "separate" else torch.randn(5, 9, 32)
    hidden = torch.rand(query.shape[1], key.shape[1]) > 0.7  # torch's convention: True = hidden
    hidden[:, 0] = False
    expected, _ = theirs(query, key, value, need_weights=False, attn_mask=hidden)
    got, _ = ours(query, key, value, need_weights=False, attn_mask=hidden)
    assert torch.equal(got, expected)
    assert (
        relative_rms(
            bf16(ours, query, key, value, need_weights=False, attn_mask=hidden)[0], expected
        )
        < RELATIVE_RMS
    )


# A model whose forward makes discrete choices from continuous scores (DISCRETE_CHOICES on
# its class: S2IP-LLM's anchor retrieval) may choose otherwise in bf16 at near ties; it agrees
# where the choices do (its own test below).
CONTINUOUS = sorted(n for n in REGISTRY if not getattr(model_class(n), "DISCRETE_CHOICES", ()))


@pytest.mark.parametrize("name", CONTINUOUS)
def test_bf16_forward_agrees_with_fp32(name):
    model = make(name).eval()
    b = batch(size=16)
    with torch.no_grad():
        reference = predict(model, b)
        mixed = bf16(predict, model, b)
    assert mixed.dtype == torch.float32  # de-normalised in fp32
    assert 0 < relative_rms(mixed, reference) < RELATIVE_RMS  # > 0: bf16 did run


def test_s2ip_llm_bf16_forward_agrees_with_fp32_but_where_retrieval_ties():
    """Anchor retrieval is a discrete choice: bf16 may pick another anchor where two are
    equally close (cosines within 0.01); every other row agrees within the tolerance."""
    model = make("s2ip_llm").eval()
    x = batch(size=16, seed=5)["x"]
    with torch.no_grad():
        reference, mixed = model(x), bf16(model, x)
        series = InstanceNorm(x).normalize(x).transpose(1, 2).reshape(-1, x.shape[1])
        query = l2_normalize(model.in_layer(model.tokenize(series)).mean(1))
        keys = l2_normalize(model.anchors.anchors(model.backbone.word_embeddings))
        similarity = query @ keys.t()
    chosen = reference.extras["anchor_indices"].flatten(0, 1)
    chosen_bf16 = mixed.extras["anchor_indices"].flatten(0, 1)
    same = (chosen == chosen_bf16).all(-1)
    gap = similarity.gather(1, chosen) - similarity.gather(1, chosen_bf16)
    assert same.float().mean() > 0.8 and (gap[~same].abs() < 0.01).all()
    by_row = lambda out: out.prediction.transpose(1, 2).flatten(0, 1)  # noqa: E731
    assert relative_rms(by_row(mixed)[same], by_row(reference)[same]) < RELATIVE_RMS


def test_anchor_retrieval_and_score_stay_fp32_under_autocast():
    """Two anchors whose cosines with the query differ by less than bf16 resolves: in bf16
    they tie and the first would be taken; retrieval in fp32 takes the closer, second one."""
    anchors = SemanticAnchors(vocab_size=4, pool_size=2, top_k=1)
    step = 2.0**-9  # exact in bf16, like every number below
    with torch.no_grad():
        anchors.prototype.weight.copy_(torch.tensor([[1, 0, step, 0], [1, step, 0, 0.0]]))
        anchors.prototype.bias.zero_()
    vocabulary = torch.eye(4)  # anchors = W V + b = the rows above
    tokens = torch.tensor([[[1, 0.5, 0.25, 0.0]]]).bfloat16()
    query, keys = l2_normalize(tokens.float().mean(1)), l2_normalize(anchors.prototype.weight)
    tied = bf16(torch.matmul, query, keys.t())
    assert tied[0, 0] == tied[0, 1] and tied.topk(1).indices.item() == 0  # bf16 cannot tell
    prompts, indices, score = bf16(anchors, tokens, vocabulary)
    assert indices.item() == 1 and score.dtype == torch.float32
    torch.testing.assert_close(score, (query @ keys[1]).squeeze(), rtol=1e-6, atol=1e-7)


def test_anchor_map_copies_are_kept_and_its_gradient_is_the_dense_one():
    torch.manual_seed(0)
    anchors = SemanticAnchors(vocab_size=40, pool_size=12, top_k=3)
    vocabulary = torch.randn(40, 16)
    first = bf16(anchors.anchors, vocabulary)
    copy = anchors._low_precision._vocabulary[1]
    bf16(anchors.anchors, vocabulary)
    assert anchors._low_precision._vocabulary[1] is copy  # the frozen vocabulary: cast once
    with torch.no_grad():
        anchors.prototype.weight.add_(1.0)
    second = bf16(anchors.anchors, vocabulary)  # the weight's copy follows the update
    shift = vocabulary.sum(0).expand(12, -1)  # W + 1 adds the vocabulary's column sums
    torch.testing.assert_close((second - first).float(), shift, rtol=0.02, atol=0.1)
    upstream = torch.zeros(12, 16)
    upstream[[1, 5]] = torch.randn(2, 16)
    bf16(anchors.anchors, vocabulary).float().backward(upstream)
    dense = upstream @ vocabulary.t()  # d(W V + b)/dW, zero in the rows without a gradient
    torch.testing.assert_close(anchors.prototype.weight.grad, dense, rtol=0.02, atol=0.05)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_bf16_forecasts_under_inference_mode_and_training_goes_on_after(name):
    """Lightning forecasts (validation, test) under torch.inference_mode: copies a model keeps
    across calls must not become inference tensors that a later training step cannot use."""
    model, inputs = make(name).eval(), batch()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        forecast = predict(model, inputs)
    assert torch.isfinite(forecast).all()
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = (predict(model, inputs).float() - inputs["y"]).pow(2).mean()
    loss.backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
