"""``data.num_workers`` does not change what a seed trains: the loaders draw from torch's global
generator alike with and without (persistent) worker processes, so shuffling and dropout see
the same numbers, and ``num_workers=0`` the numbers it always did."""

from __future__ import annotations

import pandas as pd
import torch
from torch.utils.data import DataLoader, TensorDataset

from tests.helpers.estimator import tiny
from tsfm.data.loader import Loader


def epochs_of(kind: type, workers: int) -> tuple[list[list[float]], torch.Tensor]:
    """Three shuffled passes (the order of the values seen), then the next global draw."""
    torch.manual_seed(0)
    data = TensorDataset(torch.arange(12.0))
    loader = kind(data, batch_size=4, shuffle=True, num_workers=workers,
                  persistent_workers=workers > 0)  # fmt: skip
    orders = [[float(v) for (batch,) in loader for v in batch] for _ in range(3)]
    return orders, torch.rand(3)


def test_persistent_workers_draw_from_the_global_generator_as_no_workers_do():
    orders, after = epochs_of(DataLoader, 0)
    same, then = epochs_of(Loader, 0)  # without workers: as torch's own loader
    assert same == orders and torch.equal(then, after)
    for workers in (1, 2):
        got, then = epochs_of(Loader, workers)
        assert got == orders and torch.equal(then, after)


def test_a_forecaster_trains_the_same_model_with_any_number_of_workers(frame):
    def forecast(workers: int) -> pd.DataFrame:
        settings = {"max_epochs": 3, "seed": 3, "threads": 1, "val_size": 0.2}
        return tiny(**settings, data__num_workers=workers).fit(frame).predict()

    alone = forecast(0)
    pd.testing.assert_frame_equal(forecast(1), alone, check_exact=True)
    pd.testing.assert_frame_equal(forecast(2), alone, check_exact=True)
