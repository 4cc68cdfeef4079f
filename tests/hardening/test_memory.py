"""Issue 16, item 9: a model too large for the free memory is refused with the estimate
before it is built (``check_memory=false`` for people who know better)."""

from __future__ import annotations

import resource
import time

import pytest

import tsfm.training.memory as memory
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training.memory import GIB, estimate_memory

DIMS = {"seq_len": 96, "pred_len": 96, "n_vars": 7, "n_marks": 4}


@pytest.fixture
def sixteen_gib(monkeypatch):
    """A machine with 16 GiB free, whatever this one has."""
    monkeypatch.setattr(memory, "available_memory", lambda _: (16 * GIB, "available memory"))


def test_the_estimate_counts_parameters_optimizer_state_and_activations():
    model = {"name": "itransformer", "d_model": 512, "d_ff": 512, "n_layers": 2, "n_heads": 8}
    estimate = estimate_memory(model, DIMS, batch_size=32, optimizer="adam")
    # embedding 96*512+512, per layer: 4 attention projections and 2 feed-forward linears
    # (weights and biases) and two layer norms, the final norm, the projection 512*96+96
    per_layer = 4 * (512 * 512 + 512) + 2 * (512 * 512 + 512) + 2 * 2 * 512
    expected = (96 * 512 + 512) + 2 * per_layer + 2 * 512 + (512 * 96 + 96)
    assert estimate.parameters == expected
    assert estimate.state_bytes == expected * 4 * 3  # gradient + Adam's two moments
    assert estimate.activation_bytes > 32 * (7 + 4) * 512 * 4 * 2 * 6  # every layer's outputs
    assert estimate_memory(model, DIMS, optimizer=None).state_bytes == 0


def test_a_model_of_68_gb_of_weights_is_refused_in_seconds_without_allocating(sixteen_gib):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(MemoryError, match=r"needs at least \d+\.\d GiB .* check_memory=False"):
        tiny(d_model=65536).fit(synthetic_frame(240, 3))  # the case
    assert time.perf_counter() - start < 30
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 1_000_000  # well under 1 GB, where building it would take 68


def test_the_cli_names_its_switch_and_the_switch_skips_the_check(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda _: (1024, "available memory"))
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN)
    with pytest.raises(MemoryError, match="skip this check with check_memory=false"):
        fit_and_test(cfg, tmp_path / "a")
    allowed = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "check_memory=false")
    assert "test/mse" in fit_and_test(allowed, tmp_path / "b").metrics


def test_models_that_do_not_run_on_meta_still_get_their_parameters_counted():
    model = {"name": "timesclip", "clip": "tsfm-tiny-clip", "pretrained": False, "image_size": 32}
    estimate = estimate_memory(model, {**DIMS, "seq_len": 24, "pred_len": 8})
    assert estimate.parameters > 0 and estimate.activation_bytes is None


def test_a_batch_larger_than_the_training_split_counts_only_its_windows(sixteen_gib):
    model = {"name": "itransformer", "d_model": 16, "d_ff": 16, "n_layers": 1, "n_heads": 2}
    capped = estimate_memory(model, DIMS, batch_size=10**6, n_windows=180)
    assert capped.batch_size == 180
    assert capped.activation_bytes == estimate_memory(model, DIMS, batch_size=180).activation_bytes
    assert "per batch of 180 windows" in capped.describe()
    assert estimate_memory(model, DIMS, batch_size=8, n_windows=180).batch_size == 8
    # the loader forms one batch of the ~200 windows there are, not 10**6 (tens of GiB)
    tiny(batch_size=10**6).fit(synthetic_frame(240, 3))
