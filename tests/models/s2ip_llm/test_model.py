"""S2IP-LLM's own properties: tokens, anchors, trainable parameters, alignment, ablations."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.backbones import tiny_backbone_dir
from tests.helpers.models import DIMS, TINY, batch
from tsfm.config import compose_config
from tsfm.models import build_model
from tsfm.models.common import n_patches, patchify
from tsfm.models.s2ip_llm.decomposition import moving_average_decomposition
from tsfm.models.s2ip_llm.layers import ChunkSumHead, SemanticAnchors

SETTINGS = TINY["s2ip_llm"]  # tiny GPT-2 (width 24, vocab 64, 160 positions), P 8, s 4, K 2


def make(seed: int = 0, dims: dict | None = None, **overrides):
    torch.manual_seed(seed)
    return build_model({"name": "s2ip_llm", **SETTINGS, **overrides}, dims or DIMS)


def backbone_inputs(model, x: torch.Tensor) -> torch.Tensor:
    seen = []
    handle = model.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    try:
        model(x)
    finally:
        handle.remove()
    return seen[0] if seen else None


def test_official_patching_gives_64_tokens_of_three_concatenated_components():
    assert n_patches(512, 16, 8) == 64
    series = torch.randn(3, 512)
    parts = torch.stack(moving_average_decomposition(series, 96, 96), 1)  # [3, 3, 512]
    model = make(
        dims={**DIMS, "seq_len": 512}, trend_length=96, seasonal_length=96, patch_len=16, stride=8
    ).eval()
    tokens = model.tokenize(series)
    assert tokens.shape == (3, 64, 48)
    padded = torch.cat([parts, parts[..., -1:].expand(-1, -1, 8)], -1)  # replicate by stride
    for j in (0, 17, 63):  # token j = [trend | seasonal | residual] of positions 8j .. 8j + 15
        window = padded[..., 8 * j : 8 * j + 16]
        torch.testing.assert_close(tokens[:, j], window.reshape(3, 48))


def test_prompts_are_the_retrieved_anchors_prepended_before_the_patches():
    model = make().eval()
    x = batch()["x"]
    inputs = backbone_inputs(model, x)
    assert inputs.shape == (4 * 3, 2 + model.n_patches, 24)  # channels folded into the batch
    vocabulary = model.backbone.model.wte.weight
    anchors = model.anchors.prototype(vocabulary.t()).t()  # learned mixtures of the vocabulary
    indices = model(x).extras["anchor_indices"].reshape(12, 2)
    torch.testing.assert_close(inputs[:, :2], anchors[indices])
    series = ((x - x.mean(1, keepdim=True)) / x.std(1, unbiased=False, keepdim=True)).transpose(
        1, 2
    )
    patches = model.in_layer(model.tokenize(series.reshape(12, -1)))
    torch.testing.assert_close(inputs[:, 2:], patches, rtol=1e-4, atol=1e-4)
    query = torch.nn.functional.normalize(patches.mean(1), dim=-1)
    similarity = query @ torch.nn.functional.normalize(anchors, dim=-1).t()
    assert torch.equal(indices.sort(1).values, similarity.topk(2).indices.sort(1).values)


def test_only_the_intended_parameters_are_trainable():
    model = make()
    trainable = {n: p.numel() for n, p in model.named_parameters() if p.requires_grad}
    width, positions, vocab, pool, layers, patch, tokens = 24, 160, 64, 16, 2, 8, 2 + 6
    expected = {
        "layer norms": (2 * layers + 1) * 2 * width,
        "positions": positions * width,
        "in_layer": 3 * patch * width + width,
        "anchor map": vocab * pool + pool,
        "head": (tokens * width // 3) * DIMS["pred_len"] + DIMS["pred_len"],
    }
    assert sum(trainable.values()) == sum(expected.values())
    backbone = [n for n in trainable if n.startswith("backbone.")]
    assert all("ln" in n or "wpe" in n for n in backbone)
    wte = model.backbone.model.wte.weight
    assert not wte.requires_grad and wte.data_ptr() == model.backbone.word_embeddings.data_ptr()
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    blocks = layers * (
        width * 3 * width + 3 * width + width * width + width + 2 * (width * 48) + 48 + width
    )
    assert frozen == vocab * width + blocks  # the vocabulary and the attention/MLP weights


def test_the_loaded_backbone_follows_the_models_train_and_eval_mode():
    model = make()  # from_pretrained hands back eval mode; the official code trains with dropout
    assert all(m.training for m in model.modules())
    assert not any(m.training for m in model.eval().modules())


def test_training_moves_the_anchor_map_but_not_the_vocabulary():
    model = make().train()
    wte = model.backbone.word_embeddings.detach().clone()
    prototype = model.anchors.prototype.weight.detach().clone()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    b = batch()
    out = model(b["x"])
    loss = torch.nn.functional.mse_loss(out.prediction, b["y"]) + out.aux_losses["alignment"]
    loss.backward()
    optimizer.step()
    assert torch.equal(model.backbone.word_embeddings, wte)
    assert not torch.equal(model.anchors.prototype.weight, prototype)


def test_anchor_gradients_equal_the_dense_product_and_skip_unretrieved_anchors(monkeypatch):
    monkeypatch.setattr("tsfm.models.s2ip_llm.layers._ANCHOR_ROWS", 2)  # several row chunks
    torch.manual_seed(0)
    anchors = SemanticAnchors(vocab_size=64, pool_size=10, top_k=2)
    vocabulary = torch.randn(64, 24)
    tokens = torch.randn(6, 5, 24)
    prompts, indices, score = anchors(tokens, vocabulary)
    (prompts.square().sum() + score).backward()
    sparse = anchors.prototype.weight.grad.clone(), anchors.prototype.bias.grad.clone()

    anchors.zero_grad()
    dense = anchors.prototype(vocabulary.t()).t()  # the plain linear layer, dense backward
    query = torch.nn.functional.normalize(tokens.mean(1), dim=-1)
    keys = torch.nn.functional.normalize(dense, dim=-1)
    reference = (keys[indices] * query.unsqueeze(1)).sum() / tokens.shape[0]
    (dense[indices].square().sum() + reference).backward()
    torch.testing.assert_close(sparse[0], anchors.prototype.weight.grad)
    torch.testing.assert_close(sparse[1], anchors.prototype.bias.grad)
    unused = sorted(set(range(10)) - set(indices.flatten().tolist()))
    assert unused and not sparse[0][unused].any()  # rows of anchors never retrieved stay zero


@pytest.mark.parametrize(("sim_coef", "direction"), [(-1.0, 1), (1.0, -1)])
def test_the_alignment_term_moves_similarity_in_the_configured_direction(sim_coef, direction):
    model = make(sim_coef=sim_coef).train()
    x = batch(size=8)["x"]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    before = model(x).extras["alignment_score"].item()
    for _ in range(15):
        out = model(x)
        assert out.aux_losses["alignment"].item() == pytest.approx(
            sim_coef * out.extras["alignment_score"].item(), rel=1e-5
        )
        optimizer.zero_grad()
        out.aux_losses["alignment"].backward()
        optimizer.step()
    after = model(x).extras["alignment_score"].item()
    assert direction * (after - before) > 0.1 * model.n_prompts  # sum of K cosines per row


def test_chunk_sum_head_is_one_linear_map_with_weights_tied_across_three_chunks():
    head = ChunkSumHead(tokens=5, width=6, pred_len=4)
    hidden = torch.randn(7, 5, 6)
    tied = torch.cat([head.linear.weight] * 3, dim=1)
    expected = hidden.flatten(1) @ tied.t() + 3 * head.linear.bias
    torch.testing.assert_close(head(hidden)[0], expected)
    with pytest.raises(ValueError, match="divisible by 3"):
        ChunkSumHead(tokens=5, width=7, pred_len=4)


def test_component_head_returns_forecasts_that_sum_to_the_prediction():
    out = make(head="component").eval()(batch()["x"])
    parts = out.extras["component_forecasts"]
    assert parts.shape == (4, DIMS["pred_len"], 3, 3)
    torch.testing.assert_close(parts.sum(-1), out.prediction, rtol=1e-5, atol=1e-5)


def test_variates_are_forecast_independently_and_affine_equivariantly():
    model = make().eval()
    x = batch()["x"]
    out = model(x).prediction
    moved = x.clone()
    moved[..., 0] = moved[..., 0] * 5 + 3
    moved[..., 1] = torch.randn_like(moved[..., 1])
    again = model(moved).prediction
    torch.testing.assert_close(again[..., 0], out[..., 0] * 5 + 3, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(again[..., 2], out[..., 2])  # untouched variate, same forecast


def test_ablations_switch_off_what_they_name():
    x = batch()["x"]
    plain = make(use_prompts=False).eval()
    out = plain(x)
    assert plain.anchors is None and not out.aux_losses and not out.extras
    assert backbone_inputs(plain, x).shape[1] == plain.n_patches
    raw = make(decomposition="none").eval()
    assert raw.in_layer.in_features == SETTINGS["patch_len"]
    torch.testing.assert_close(raw.tokenize(x[..., 0].T), patchify(x[..., 0].T, 8, 4))
    headless = make(use_backbone=False).eval()
    assert backbone_inputs(headless, x) is None and headless(x).prediction.shape == (4, 8, 3)
    assert not any(p.requires_grad for p in headless.backbone.parameters())
    assert headless.backbone.n_layers == 0
    pretrained = make().backbone.model.h[0].attn.c_attn.weight
    random = make(seed=1, pretrained=False).backbone.model.h[0].attn.c_attn.weight
    assert pretrained.shape == random.shape and not torch.equal(pretrained, random)


def test_eval_anchor_cache_follows_weight_changes():
    model = make().eval()
    x = batch()["x"]
    with torch.no_grad():
        first = model(x).prediction
        model.anchors.prototype.weight.mul_(-2.0)
        cached = model(x).prediction
    fresh = model(x).prediction  # grad enabled: computed without the cache
    torch.testing.assert_close(cached, fresh)
    assert not torch.allclose(first, cached)


def test_anchor_tokens_name_the_nearest_vocabulary_entries():
    model = make().eval()
    ids = model.nearest_token_ids(top=3)
    assert ids.shape == (16, 3) and int(ids.max()) < 64
    anchors = model.anchors.anchors(model.backbone.word_embeddings)
    cos = torch.nn.functional.cosine_similarity(anchors[5][None], model.backbone.word_embeddings)
    assert ids[5, 0] == cos.argmax()
    described = model.anchor_tokens([5, 2, 5], top=3)  # no tokenizer saved: ids
    assert described == {2: ids[2].tolist(), 5: ids[5].tolist()}


def test_bf16_autocast_forward_is_close_to_fp32():
    model = make(use_prompts=False).eval()
    x = batch()["x"]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(x).prediction
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, model(x).prediction, rtol=0.1, atol=0.1)


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="head must be"):
        make(head="mlp")
    with pytest.raises(ValueError, match="decomposition must be"):
        make(decomposition="wavelet")
    with pytest.raises(ValueError, match="needs a decomposition"):
        make(decomposition="none", head="component")
    with pytest.raises(ValueError, match=r"trend_length=25 .* set trend_length=24 or less"):
        make(trend_length=25)
    with pytest.raises(ValueError, match="patch_len=32, stride=4: set patch_len"):
        make(patch_len=32)
    with pytest.raises(ValueError, match="prompt_length"):
        make(prompt_length=17)
    with pytest.raises(ValueError, match="positions"):
        make(dims={**DIMS, "seq_len": 700})
    with pytest.raises(ValueError, match="look-back"):
        make()(torch.randn(2, 20, 3))
    # STL needs two periods in the look-back (24): refused at construction, not in training
    with pytest.raises(ValueError, match=r"decomposition='stl' needs seasonal_length .*here 13"):
        make(decomposition="stl", seasonal_length=13)
    with pytest.raises(ValueError, match=r"here 1\) from 2 to half the look-back"):
        make(decomposition="stl", seasonal_length=1)
    assert make(decomposition="stl", seasonal_length=12).seasonal_length == 12
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"sim_coef=(nan|inf) .* must be a finite number"):
            make(sim_coef=bad)


def test_a_saved_state_restores_into_a_randomly_built_model_without_the_weights_files():
    trained = make().eval()
    rebuilt = make(seed=3, pretrained=False, backbone=tiny_backbone_dir("gpt2", weights=False))
    rebuilt.load_state_dict(trained.state_dict())  # the state holds the frozen backbone too
    x = batch()["x"]
    torch.testing.assert_close(rebuilt.eval()(x).prediction, trained(x).prediction)


def test_frozen_backbone_bf16_is_a_config_field_that_keeps_the_bf16_forward():
    config = compose_config("model=s2ip_llm", "model.frozen_backbone_bf16=true")
    assert config.model.frozen_backbone_bf16 is True
    x = batch()["x"]
    plain, lean = make().eval(), make(frozen_backbone_bf16=True).eval()
    assert lean.backbone.word_embeddings.dtype == torch.bfloat16
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(plain(x).prediction, lean(x).prediction)
    with pytest.raises(RuntimeError, match="frozen_backbone_bf16"):
        lean(x)
