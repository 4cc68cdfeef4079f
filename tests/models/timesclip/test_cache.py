"""TimesCLIP's image-feature cache: same loss as without it, no vision tower in training, disk."""

from __future__ import annotations

import math

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule
from tsfm.models import build_model
from tsfm.pipeline import build_module, build_trainer
from tsfm.training.inputs import bind_training_windows

DATA = {"seq_len": 24, "pred_len": 8, "batch_size": 8}


def datamodule(**settings) -> TimeSeriesDataModule:
    dm = TimeSeriesDataModule({**DATA, **settings}, frame=synthetic_frame(n_rows=160, n_vars=3))
    dm.setup()
    return dm


def tiny(dm: TimeSeriesDataModule, **overrides):
    torch.manual_seed(0)
    return build_model({"name": "timesclip", **TINY["timesclip"], **overrides}, dm.dims())


class CountCalls:
    def __init__(self, module: torch.nn.Module):
        self.calls = 0
        module.register_forward_hook(self)

    def __call__(self, *_):
        self.calls += 1


def align_loss(model, batch) -> torch.Tensor:
    inputs = {k: v for k, v in batch.items() if k != "y"}
    return model.train()(**inputs).aux_losses["align"]


@pytest.mark.parametrize(
    "mode", [{}, {"channel_independent": True}, {"train_variates": 2}], ids=["M", "CI", "sampled"]
)
def test_cached_and_uncached_training_give_the_same_loss(mode):
    dm = datamodule(**mode)
    train = dm.datasets["train"]
    torch.manual_seed(3)
    batch = train.__getitems__([0, 5, 17, 3, 40, 22])
    uncached = tiny(dm, feature_cache="off")
    exact = tiny(dm, feature_cache="memory", cache_dtype="float32")
    half = tiny(dm)  # the default: memory, float16
    for model in (exact, half):
        bind_training_windows(model, dm)
    counter = CountCalls(uncached.tower)
    expected = align_loss(uncached, batch)
    assert counter.calls == 1
    torch.testing.assert_close(align_loss(exact, batch), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(align_loss(half, batch), expected, rtol=2e-3, atol=1e-4)
    assert exact.image_cache.features.shape == (train.n_windows, 3, 16)


def test_the_cache_built_in_a_bf16_step_holds_the_fp32_features():
    """The first training step builds the cache; under CPU autocast (bf16-mixed) it is still
    encoded in fp32, so fp32 and bf16 runs share one cache."""
    dm = datamodule()
    batch = dm.datasets["train"].__getitems__([0, 5, 17])
    reference, mixed = tiny(dm, cache_dtype="float32"), tiny(dm, cache_dtype="float32")
    for model in (reference, mixed):
        bind_training_windows(model, dm)
    align_loss(reference, batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        align_loss(mixed, batch)
    assert torch.equal(mixed.image_cache.features, reference.image_cache.features)


def test_with_the_cache_training_never_runs_the_vision_tower(tmp_path):
    overrides = [f"model.{k}={v}" for k, v in TINY["timesclip"].items()]
    cfg = compose_config(
        "model=timesclip",
        "optim=adamw_cosine",
        *overrides,
        *[f"data.{k}={v}" for k, v in DATA.items()],
        *TINY_RUN,
        "trainer.max_epochs=2",
        "model.cache_chunk=16",
    )
    dm = TimeSeriesDataModule(cfg.data, frame=synthetic_frame(n_rows=160, n_vars=3))
    dm.setup()
    module = build_module(cfg, dm)
    counter = CountCalls(module.model.tower)
    steps = []
    module.on_train_batch_end = lambda *_: steps.append(1)
    build_trainer(cfg, tmp_path).fit(module, datamodule=dm)
    n_windows = dm.datasets["train"].n_windows
    assert len(steps) == 6  # 2 epochs x 3 batches
    assert counter.calls == math.ceil(n_windows / 16)  # the cache build, nothing per step


def test_the_disk_cache_is_reused_and_keyed_by_what_the_pixels_depend_on(tmp_path):
    dm = datamodule()
    settings = {"feature_cache": "disk", "cache_dir": str(tmp_path)}
    first = tiny(dm, **settings)
    bind_training_windows(first, dm)
    first.build_image_cache()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".npy")

    again = tiny(dm, **settings)
    counter = CountCalls(again.tower)
    bind_training_windows(again, dm)
    assert again.image_cache.ready and counter.calls == 0
    index, columns = torch.tensor([4, 1]), torch.tensor([[0, 1, 2], [2, 1, 0]])
    torch.testing.assert_close(
        again.image_cache.lookup(index, columns, torch.device("cpu")),
        first.image_cache.lookup(index, columns, torch.device("cpu")),
    )
    for different in (tiny(dm, line_width=2.5, **settings), tiny(dm, colour=False, **settings)):
        bind_training_windows(different, dm)
        assert not different.image_cache.ready
    other_data = TimeSeriesDataModule(DATA, frame=synthetic_frame(n_rows=160, n_vars=3, seed=9))
    other_data.setup()
    bind_training_windows(again, other_data)
    assert not again.image_cache.ready
    with pytest.raises(IndexError, match="out of range"):
        first.image_cache.lookup(torch.tensor([10_000]), columns[:1], torch.device("cpu"))


def test_the_cache_binds_only_for_training():
    dm = datamodule()
    module = build_module(
        compose_config(
            "model=timesclip",
            *[f"model.{k}={v}" for k, v in TINY["timesclip"].items()],
            *[f"data.{k}={v}" for k, v in DATA.items()],
        ),
        dm,
    )
    module.trainer = type("FakeTrainer", (), {"datamodule": dm})()
    for stage in ("validate", "test", "predict"):
        module.setup(stage)
        assert not module.model.image_cache.bound
    module.setup("fit")
    assert module.model.image_cache.bound and not module.model.image_cache.ready
