"""A resumed run continues exactly like one that was never interrupted: the checkpoint keeps
the random number generators' states (the training windows' shuffling, dropout masks) beside
the optimizer, schedule, early stopping and epoch, and ``resume=true`` restores them."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import torch

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.run import run
from tsfm.training.checkpoints import load_checkpoint

RUN = [*TINY_ITRANSFORMER, *TINY_RUN, "model.dropout=0.1"]
# no epoch after the first counts as an improvement: early stopping ends the run after 3
STOPPING = ["callbacks.early_stopping.patience=2", "callbacks.early_stopping.min_delta=1e9"]


def last_weights(run_dir) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "last.ckpt")["state_dict"]


def assert_bitwise_equal(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    differ = [k for k in first if not torch.equal(first[k], second[k])]
    assert not differ, f"weights differ: {differ}"


def uninterrupted_and_resumed(tmp_path, *extra: str, epochs: int = 3):
    """The metrics of a run of ``epochs`` epochs and of one stopped after 2 and resumed."""
    whole = run(compose_config(*RUN, *extra, f"trainer.max_epochs={epochs}"), tmp_path / "a")
    run(compose_config(*RUN, *extra, "trainer.max_epochs=2"), tmp_path / "b")
    resumed = compose_config(*RUN, *extra, f"trainer.max_epochs={epochs}", "resume=true")
    return whole, resumed


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    whole, resumed = uninterrupted_and_resumed(tmp_path)
    metrics = run(resumed, tmp_path / "b")
    assert whole["epochs"] == metrics["epochs"] == 3
    assert_bitwise_equal(last_weights(tmp_path / "a"), last_weights(tmp_path / "b"))
    assert metrics["test/mse"] == whole["test/mse"] and metrics["test/mae"] == whole["test/mae"]
    states = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.ckpt")["callbacks"]
    assert isinstance(states["RandomStates"]["torch"], torch.Tensor)  # read weights_only


def test_early_stopping_resumes_where_it_was_and_stops_at_the_same_epoch(tmp_path):
    # its patience count is in the checkpoint: reset, epoch 2 would be a first improvement
    whole, resumed = uninterrupted_and_resumed(tmp_path, *STOPPING, epochs=6)
    metrics = run(resumed, tmp_path / "b")
    assert whole["epochs"] == metrics["epochs"] == 3  # stopped after epoch 3 of 6
    assert_bitwise_equal(last_weights(tmp_path / "a"), last_weights(tmp_path / "b"))
    assert metrics["test/mse"] == whole["test/mse"]


def test_a_checkpoint_without_the_states_still_resumes_and_says_it_is_not_exact(tmp_path, caplog):
    from tsfm.training.random_state import RandomStates

    whole, resumed = uninterrupted_and_resumed(tmp_path)
    last = tmp_path / "b" / "checkpoints" / "last.ckpt"
    checkpoint = load_checkpoint(last)
    del checkpoint["callbacks"][RandomStates.__qualname__]  # as written before tsfm kept them
    torch.save(checkpoint, last)
    with caplog.at_level(logging.INFO, logger="tsfm"):
        metrics = run(resumed, tmp_path / "b")
    assert metrics["epochs"] == 3
    notes = [r.getMessage() for r in caplog.records if "random number" in r.getMessage()]
    assert len(notes) == 1 and "will not repeat an uninterrupted run bit for bit" in notes[0]
    assert "\n" not in notes[0]
    # without the states the last epoch shuffles and drops out otherwise
    first, second = last_weights(tmp_path / "a"), last_weights(tmp_path / "b")
    assert any(not torch.equal(first[k], second[k]) for k in first)


def test_the_states_load_as_plain_tensors_and_restore_every_generator(tmp_path):
    from tsfm.training.random_state import random_states, restore_random_states

    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    random.gauss(0, 1)  # python keeps a cached second gaussian: part of its state
    path = tmp_path / "states.pt"
    torch.save(random_states(), path)
    expected = torch.rand(4), np.random.rand(4), random.random(), random.gauss(0, 1)
    restore_random_states(load_checkpoint(path))  # weights_only=True
    drawn = torch.rand(4), np.random.rand(4), random.random(), random.gauss(0, 1)
    assert torch.equal(drawn[0], expected[0]) and np.array_equal(drawn[1], expected[1])
    assert drawn[2:] == expected[2:]


def test_states_of_another_kind_are_refused_by_name():
    from tsfm.training.random_state import restore_random_states

    with pytest.raises(ValueError, match="random number generator states"):
        restore_random_states({"torch": [1, 2, 3]})


def test_resuming_with_another_number_of_loader_workers_is_exact_and_says_nothing(tmp_path, caplog):
    # sampled variates are drawn while a window is read: in a worker process with workers
    sampled = [*RUN, "data.train_variates=3"]
    whole = run(compose_config(*sampled, "trainer.max_epochs=3"), tmp_path / "a")
    run(compose_config(*sampled, "data.num_workers=2", "trainer.max_epochs=2"), tmp_path / "b")
    resumed = compose_config(*sampled, "data.num_workers=1", "trainer.max_epochs=3", "resume=true")
    with caplog.at_level(logging.INFO, logger="tsfm"):
        metrics = run(resumed, tmp_path / "b")
    assert not [r for r in caplog.records if "bit for bit" in r.getMessage()]
    assert_bitwise_equal(last_weights(tmp_path / "a"), last_weights(tmp_path / "b"))
    assert metrics["test/mse"] == whole["test/mse"]


VALIDATION_KEYS = ("val/improving_epochs", "val/last_loss", "val/snaive_loss", "val/naive_loss")


def test_a_resumed_run_reports_the_validation_record_of_an_uninterrupted_one(tmp_path):
    # every validation loss is in the checkpoint: 3 epochs that each improved, not 1
    whole, resumed = uninterrupted_and_resumed(tmp_path, "model.dropout=0.0")
    metrics = run(resumed, tmp_path / "b")
    assert whole["val/improving_epochs"] == 2.0 and "val/warnings/still_improving" in whole
    for key in (*VALIDATION_KEYS, "val/warnings/still_improving"):
        assert metrics[key] == whole[key], key
    states = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.ckpt")["callbacks"]
    assert len(states["ValidationRecord"]["losses"]) == 3  # read weights_only


def test_a_checkpoint_without_the_validation_record_resumes_with_an_empty_one(tmp_path):
    whole, resumed = uninterrupted_and_resumed(tmp_path, "model.dropout=0.0")
    last = tmp_path / "b" / "checkpoints" / "last.ckpt"
    checkpoint = load_checkpoint(last)
    del checkpoint["callbacks"]["ValidationRecord"]  # as written before tsfm kept it
    torch.save(checkpoint, last)
    metrics = run(resumed, tmp_path / "b")
    assert metrics["epochs"] == 3 and metrics["val/improving_epochs"] == 0.0  # one validation
    assert metrics["val/last_loss"] == whole["val/last_loss"]
    assert metrics["val/snaive_loss"] == whole["val/snaive_loss"]  # computed again


def test_a_validation_record_of_another_kind_is_refused_by_name():
    from tsfm.training.validation_record import ValidationRecord

    record = ValidationRecord()
    record.load_state_dict({"losses": [1.0, 0.9], "baselines": {"naive": 1.2}})
    assert record.metrics()["val/improving_epochs"] == 1.0
    assert record.state_dict() == {"losses": [1.0, 0.9], "baselines": {"naive": 1.2}}
    with pytest.raises(ValueError, match="validation record is not the one tsfm writes"):
        record.load_state_dict({"losses": "0.9"})
