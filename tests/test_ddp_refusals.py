"""What cannot work under DDP is refused before anything trains: a Forecaster or a tuning
command that Lightning would start again in more processes, and evaluation splits with
fewer windows than processes. No test here starts a second process: a Trainer that would
launch one, or a training, fails the test instead."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.pipeline import fit_and_test

DDP_CPU = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]


@pytest.fixture
def no_training(monkeypatch):
    """Building a Trainer, or training, fails the test (a DDP one would run pytest again)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a Trainer was built or trained: the refusal came too late")

    monkeypatch.setattr(L.Trainer, "__init__", refuse)
    monkeypatch.setattr(L.Trainer, "fit", refuse)


# ---------------------------------------------------------------- the Forecaster


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"devices": 2}, "devices=2 asks for 2 devices"),
        ({"devices": "2"}, "devices='2' asks for 2 devices"),
        ({"devices": [0, 1]}, "devices=[0, 1] names 2 devices"),
        ({"devices": "0,1"}, "devices='0,1' names 2 devices"),
        ({"trainer__strategy": "fsdp"}, "trainer__strategy='fsdp' starts one process"),
        ({"trainer__strategy": "ddp_notebook"}, "trainer__strategy='ddp_notebook'"),
        ({"trainer__num_nodes": 2}, "trainer__num_nodes=2 starts processes on 2 nodes"),
        ({"overrides": ["trainer=ddp", "trainer.devices=1"]}, "trainer__strategy='ddp'"),
    ],
)
def test_the_forecaster_refuses_what_lightning_would_run_in_several_processes(
    settings, named, no_training
):
    with pytest.raises(InputError, match="the Forecaster trains in one process") as refused:
        tiny(**settings).fit(synthetic_frame(200))
    assert named in str(refused.value) and "python -m tsfm.run trainer=ddp" in str(refused.value)


@pytest.mark.parametrize("accelerator", ["gpu", "cuda", "auto"])
def test_devices_auto_is_refused_where_it_means_several_gpus(accelerator, monkeypatch, no_training):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(InputError, match="'auto' takes each of the 2 visible GPUs"):
        tiny(devices="auto", accelerator=accelerator).fit(synthetic_frame(200))


@pytest.mark.parametrize("devices", [-1, "-1"])
def test_devices_minus_one_is_refused_where_it_means_several_gpus(
    devices, monkeypatch, no_training
):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(InputError, match=r"asks for every visible device \(2 GPUs\)"):
        tiny(devices=devices, accelerator="gpu").fit(synthetic_frame(200))


def test_devices_minus_one_on_one_gpu_is_one_process(monkeypatch):
    """Lightning runs ``devices=-1`` on a machine with one GPU as one process."""
    from tsfm.training.processes import multi_process

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for accelerator in ("gpu", "cuda", "auto"):
        assert multi_process({"devices": -1, "accelerator": accelerator}) is None


@pytest.mark.parametrize("devices", [1, "1", "auto"])
def test_one_device_on_cpu_still_trains(devices):
    assert (
        tiny(devices=devices, accelerator="cpu").fit(synthetic_frame(200)).__sklearn_is_fitted__()
    )


def test_the_rule_reads_devices_as_lightning_does(monkeypatch):
    from tsfm.training.processes import multi_process

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    one = [{"devices": [0]}, {"devices": "1"}, {"devices": "auto", "accelerator": "cpu"}]
    one += [{"devices": 1, "accelerator": "gpu"}, {"strategy": "auto", "num_nodes": 1}]
    assert [multi_process({"accelerator": "cpu", **t}) for t in one] == [None] * len(one)
    assert "4 visible GPUs" in multi_process({"devices": None, "accelerator": None})
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert multi_process({"devices": "auto", "accelerator": "gpu"}) is None


# ---------------------------------------------------------------- python -m tsfm.tune

SPACE = {"model.d_model": "choice(8, 16)"}


@pytest.mark.parametrize(
    ("extra", "space", "named"),
    [
        (DDP_CPU, SPACE, "trainer.strategy='ddp' starts one process per device"),
        (["trainer.devices=2"], SPACE, "trainer.devices=2 asks for 2 devices"),
        (["trainer.num_nodes=2"], SPACE, "trainer.num_nodes=2"),
        ([], {**SPACE, "trainer.devices": "choice(1, 2)"}, "(search space entry trainer.devices"),
        ([], {"trainer.strategy": "choice(auto, ddp)"}, "(search space entry trainer.strategy"),
        ([], {"trainer": "choice(cpu, ddp)"}, "(search space entry trainer: 'ddp')"),
    ],
)
def test_tuning_refuses_several_processes_before_the_study_opens(
    extra, space, named, tmp_path, monkeypatch, no_training
):
    import tsfm.tuning.config_study as config_study

    def built(*args, **kwargs):
        raise AssertionError("a trial's config was built before the refusal")

    monkeypatch.setattr(config_study, "trial_config", built)
    overrides = [*TINY_ITRANSFORMER, "logger=none", f"tune.dir={tmp_path / 'study'}", *extra]
    cfg = compose_config(*overrides)
    cfg.tune.params = space
    with pytest.raises(InputError, match="trains each trial in one process") as refused:
        config_study.tune(cfg, overrides)
    message = str(refused.value)
    assert named in message and "one worker per device" in message
    assert "README: 'Tuning with Optuna: python -m tsfm.tune'" in message
    assert not (tmp_path / "study").exists()  # no study, no trial folder


def test_one_process_per_trial_passes_the_tuning_check():
    from tsfm.tuning.one_process import multi_process_trial
    from tsfm.tuning.space import parse_space

    space = parse_space({"trainer.devices": "choice(1)", "model.d_model": "choice(8, 16)"})
    assert multi_process_trial(compose_config().trainer, space) is None


def test_forecaster_tune_refuses_a_searched_device_count(no_training):
    with pytest.raises(InputError, match="Forecaster.tune trains each trial in one process"):
        tiny().tune(synthetic_frame(200), n_trials=2, search_space={"devices": [1, 2]})


# ---------------------------------------------------------------- evaluation shards


@pytest.mark.parametrize(
    ("ratios", "refused"),
    [
        (("0.7", "0.02"), r"1 test windows cannot be shared by 2 processes"),
        (("0.9", "0.08"), r"1 validation windows cannot be shared by 2 processes"),
    ],
)
def test_too_few_evaluation_windows_for_the_processes_are_refused_before_training(
    ratios, refused, tmp_path, monkeypatch
):
    def trained(*args, **kwargs):
        raise AssertionError("trained before the refusal")

    monkeypatch.setattr(L.Trainer, "fit", trained)  # a DDP fit would run pytest again
    synthetic_frame(400).to_csv(tmp_path / "small.csv", index=False)
    train, test = ratios
    cfg = compose_config(
        *DDP_CPU,
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        "data=custom",
        f"data.path={tmp_path / 'small.csv'}",
        f"data.train_ratio={train}",
        f"data.test_ratio={test}",
    )
    with pytest.raises(InputError, match=refused) as err:
        fit_and_test(cfg, tmp_path / "run")
    if "test" in refused:  # the test alone is short: train under DDP, test in one process
        assert "train=false ckpt_path=<run>/checkpoints/best.ckpt" in str(err.value)
        assert "without trainer=ddp" in str(err.value)
