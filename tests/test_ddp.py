"""Scaling out: DDP training and evaluation that scores every window exactly once."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DistributedSampler, RandomSampler

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule
from tsfm.data.eval_sharding import EvalShardSampler
from tsfm.pipeline import build_datamodule, build_trainer
from tsfm.training.checkpoints import restore_module
from tsfm.training.conformal import ConformalScores

TINY = TINY_ITRANSFORMER


@pytest.mark.parametrize(("n", "world"), [(11, 2), (11, 3), (12, 4), (5, 5)])
def test_eval_shards_cover_every_window_exactly_once(n, world):
    shards = [list(EvalShardSampler(range(n), world, rank)) for rank in range(world)]
    assert sorted(i for shard in shards for i in shard) == list(range(n))
    assert [len(EvalShardSampler(range(n), world, r)) for r in range(world)] == list(
        map(len, shards)
    )
    # torch's DistributedSampler pads to a multiple of the world size: windows repeat
    padded = [list(DistributedSampler(range(n), world, r, shuffle=False)) for r in range(world)]
    assert sum(map(len, padded)) == -(-n // world) * world


def test_too_few_windows_for_the_processes_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        EvalShardSampler(range(3), 4, 0)


def test_the_datamodule_shards_evaluation_but_not_training_under_ddp():
    dm = TimeSeriesDataModule({"seq_len": 24, "pred_len": 8}, frame=synthetic_frame(400))
    dm.trainer = SimpleNamespace(world_size=2, global_rank=1)
    val = dm.val_dataloader()
    assert isinstance(val.sampler, EvalShardSampler) and isinstance(val.sampler, DistributedSampler)
    assert list(val.sampler) == list(range(1, len(dm.datasets["val"]), 2))
    assert isinstance(dm.train_dataloader().sampler, RandomSampler)
    dm.trainer = SimpleNamespace(world_size=1, global_rank=0)
    assert not isinstance(dm.test_dataloader().sampler, DistributedSampler)


OVERRIDES = list(TINY_RUN)  # every test window (TINY_RUN scores the whole test split)


def _two_processes(tmp_path, *extra: str) -> tuple:
    """A tiny CLI run under DDP on two CPU processes: its run directory and metrics."""
    run_dir = tmp_path / "run"
    proc = run_cli(
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        *TINY,
        *OVERRIDES,
        *extra,
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run_dir, json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_ddp_on_cpu_gives_the_metrics_of_one_process(tmp_path):
    run_dir, metrics = _two_processes(tmp_path)
    overrides = OVERRIDES
    # ETTh1 24 -> 8 has 2873 test windows, an odd number: padding would repeat one
    assert metrics["windows/test"] == 2873
    # the same trained weights, tested in one process, give the same numbers
    cfg = compose_config(*TINY, *overrides, "callbacks=none")
    module = restore_module(run_dir / "checkpoints" / "best.ckpt")
    trainer = build_trainer(cfg, tmp_path / "single")
    single = trainer.test(module, datamodule=build_datamodule(cfg), verbose=False)[0]
    notes = ("test/undefined/", "test/warnings/")  # the pipeline's notes, not logged metrics
    assert {k for k in metrics if k.startswith("test/") and not k.startswith(notes)} == set(single)
    for key, value in single.items():
        assert metrics[key] == pytest.approx(value, rel=1e-5), key
    assert torch.isfinite(torch.tensor(metrics["val/best_loss"]))


@pytest.mark.slow
def test_adaptive_conformal_under_ddp_scores_like_one_process(tmp_path):
    """Each rank holds every other test window; the ranks' shares are joined before the
    sequential pass, so the intervals and their metrics are those of one process."""
    adaptive = ["conformal.windows=40", "conformal.step=3", "conformal.adaptive_rate=0.05"]
    adaptive.append("season_length=1")  # MSIS: a day (24) would be the whole look-back
    run_dir, metrics = _two_processes(tmp_path, *adaptive)
    cfg = compose_config(*TINY, *OVERRIDES, *adaptive, "callbacks=none")
    module = restore_module(run_dir / "checkpoints" / "best.ckpt")
    state = torch.load(run_dir / "conformal.pt", weights_only=True)
    module.conformal = ConformalScores.from_state_dict(state)
    assert module.conformal.adaptive_rate == 0.05
    trainer = build_trainer(cfg, tmp_path / "single")
    single = trainer.test(module, datamodule=build_datamodule(cfg), verbose=False)[0]
    keys = [k for k in single if k.startswith(("test/crps", "test/coverage", "test/msis"))]
    assert len(keys) >= 5
    for key in keys:
        assert metrics[key] == pytest.approx(single[key], rel=1e-6), key


@pytest.mark.slow
def test_the_baselines_validation_loss_under_ddp_is_that_of_every_window(tmp_path):
    from tsfm.training.heads import make_head
    from tsfm.training.validation_record import baseline_sums

    every = "trainer.limit_val_batches=1.0"  # each rank its shard, whole
    _, metrics = _two_processes(tmp_path, every)
    cfg = compose_config(*TINY, *OVERRIDES, every)
    lag, head = int(metrics["season_length"]), make_head(cfg.loss)
    sums = [baseline_sums(head, b, lag) for b in build_datamodule(cfg).val_dataloader()]
    for name in ("snaive", "naive"):  # one process, every validation window
        total, weight = (sum(float(s[name][i]) for s in sums) for i in (0, 1))
        assert metrics[f"val/{name}_loss"] == pytest.approx(total / weight, rel=1e-5), name
