"""What a dataset draws while it reads a window (``data.train_variates``' variates, M4's random
training windows) is a function of the seed, the pass and the sample, not of the process that
reads it: ``data.num_workers=0`` and ``2`` read the same batches, epoch after epoch."""

from __future__ import annotations

import torch

from tests.helpers.m4 import write_m4_files
from tsfm.data import M4DataModule, TimeSeriesDataModule
from tsfm.data.draws import SampleDraws


def passes(datamodule, epochs: int = 2) -> list[list[dict[str, torch.Tensor]]]:
    """Every training batch of ``epochs`` passes from seed 0, then the next global draw."""
    torch.manual_seed(0)
    loader = datamodule.train_dataloader()
    seen = [[dict(batch) for batch in loader] for _ in range(epochs)]
    seen.append([{"after": torch.rand(3)}])
    return seen


def assert_same(first, second) -> None:
    assert len(first) == len(second)
    for one, other in zip(first, second, strict=True):
        assert len(one) == len(other)
        for a, b in zip(one, other, strict=True):
            assert a.keys() == b.keys()
            for key in a:
                assert torch.equal(a[key], b[key]), key


def sampled_variates(workers: int):
    settings = {"seq_len": 24, "pred_len": 8, "batch_size": 512, "train_variates": 3}
    return TimeSeriesDataModule({**settings, "num_workers": workers})


def test_sampled_variates_are_the_same_with_and_without_workers():
    alone = passes(sampled_variates(0))
    drawn = {tuple(batch["variates"].tolist()) for epoch in alone[:2] for batch in epoch}
    assert len(drawn) > 3  # a subset per batch, not one for the run
    assert_same(passes(sampled_variates(2)), alone)


def test_m4_training_windows_are_the_same_with_and_without_workers(tmp_path):
    write_m4_files(tmp_path, "Weekly", lengths=[60 + 3 * i for i in range(40)])

    def m4(workers: int) -> M4DataModule:
        settings = {"root": str(tmp_path), "batch_size": 8, "samples_per_series": 2}
        return M4DataModule({"name": "m4_weekly", **settings, "num_workers": workers})

    alone = passes(m4(0))
    first, second = (torch.cat([b["x"] for b in epoch]) for epoch in alone[:2])
    assert not torch.equal(first, second)  # new windows every epoch
    assert_same(passes(m4(2)), alone)


def test_a_samples_numbers_follow_from_the_pass_seed_and_its_index_alone():
    draws = SampleDraws()
    draws.set_seed(11)
    indices = torch.arange(20_000)
    first = draws.uniforms(indices)
    assert torch.equal(draws.uniforms(indices.flip(0)).flip(0), first)  # any order, any batch
    assert torch.equal(draws.uniforms(indices[5:9]), first[5:9])
    assert first.min() >= 0 and first.max() < 1 and abs(first.mean().item() - 0.5) < 0.01
    assert abs(torch.corrcoef(torch.stack([first[:-1], first[1:]]))[0, 1].item()) < 0.03
    assert not torch.equal(draws.uniforms(indices, stream=1), first)
    draws.new_pass()  # the next pass: other numbers
    assert not torch.equal(draws.uniforms(indices), first)
    again = torch.randperm(9, generator=draws.generator(4))
    assert torch.equal(torch.randperm(9, generator=draws.generator(4)), again)
