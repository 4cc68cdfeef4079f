"""Issue 16, items 5, 6 and 10 (trainer types): runs that could only report numbers of an
untrained model, window sizes that are not sizes, and Lightning arguments of the wrong type
are refused before any data is read."""

from __future__ import annotations

import json

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training import preflight
from tsfm.training.preflight import check_run, check_trainer_types

# a data file that does not exist: a refusal that comes first never gets to read it
NO_DATA = ["data=custom", "data.path=/nonexistent/data.csv"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train=false"], "ckpt_path is not set: the scores would be those of a randomly"),
        (["trainer.max_epochs=0"], r"trainer.max_epochs=0 trains no step"),
        (["trainer.limit_train_batches=0"], r"trainer.limit_train_batches=0 trains no step"),
        (["trainer.limit_train_batches=0.0"], r"trainer.limit_train_batches=0 trains no step"),
        (["trainer.max_steps=0"], r"trainer.max_steps=0 trains no step"),
        (["train=false", "test=false"], "the run would do nothing"),
        (["trainer.max_epochs=abc"], r"trainer.max_epochs='abc' \(str\) is not a valid value"),
        (["trainer.enable_progress_bar=3"], r"trainer.enable_progress_bar=3 .*bool"),
        (["trainer.precision=17"], r"trainer.precision=17 is not a precision; use 'auto'"),
        (["resume=true", "ckpt_path=/tmp/x.ckpt"], "use one of them"),
        (["trainer.limit_test_batches=1"], r"limit_test_batches=1 would score only part"),
        (["trainer.limit_test_batches=0.5"], r"test split is always scored whole.*test=false"),
        (["data.batch_size=0"], r"data.batch_size=0: a batch holds at least one window"),
        (["data.eval_batch_size=-1"], r"data.eval_batch_size=-1: a batch holds at least one"),
        (["optim.lr=-1"], r"optim.lr=-1.0: the learning rate must be a positive finite"),
        (["optim.lr=0"], r"optim.lr=0.0: the learning rate must be a positive finite"),
        (["optim.lr=nan"], r"optim.lr=nan: the learning rate must be a positive finite"),
        (["trainer.fast_dev_run=true"], r"trainer.fast_dev_run=True would score only part"),
        (["data.seq_len=1"], r"^data.seq_len=1: a look-back needs at least 2 steps"),
    ],
)
def test_runs_that_cannot_report_a_trained_models_numbers_are_refused_first(
    tmp_path, overrides, message
):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *NO_DATA, *overrides)
    with pytest.raises(ValueError, match=message):
        fit_and_test(cfg, tmp_path)


def test_the_cli_refuses_to_test_an_untrained_model(tmp_path):
    proc = run_cli(*TINY_ITRANSFORMER, *TINY_RUN, "train=false", cwd=tmp_path)
    assert proc.returncode != 0 and "randomly initialised model" in proc.stderr
    (record,) = [json.loads(p.read_text()) for p in tmp_path.rglob("metrics.json")]
    assert record["status"] == "failed" and "randomly initialised" in record["error"]
    assert not any(key.startswith("test/") for key in record)  # no scores of it


@pytest.mark.parametrize("trainer", ["cpu", "gpu", "ddp"])
def test_the_shipped_trainer_settings_have_lightnings_types(trainer):
    check_trainer_types(compose_config(f"trainer={trainer}").trainer)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"horizon": 0}, "horizon must be a positive whole number of steps, got 0"),
        (
            {"lookback": 0},
            r"lookback must be a positive whole number of steps \(or None: chosen by the data\), got 0",
        ),
        ({"horizon": -3}, "horizon must be a positive whole number of steps, got -3"),
        ({"horizon": 2.5}, "horizon must be a positive whole number"),
        ({"max_epochs": 0}, r"max_epochs \(trainer.max_epochs\)=0 trains no step"),
        ({"max_epochs": "abc"}, r"max_epochs \(trainer.max_epochs\)='abc' \(str\) is not"),
        ({"batch_size": 0}, r"batch_size \(data.batch_size\)=0: a batch holds at least"),
        ({"lr": -1.0}, r"lr \(optim.lr\)=-1.0: the learning rate must be a positive"),
        ({"lookback": 1}, r"^lookback=1: a look-back needs at least 2 steps"),
        ({"lookback": 1, "horizon": 1}, r"^lookback=1: a look-back needs at least 2 steps"),
    ],
)
def test_the_forecaster_refuses_them_at_fit_naming_its_parameter(params, message):
    with pytest.raises(ValueError, match=message):
        tiny().set_params(**params).fit(synthetic_frame(240, 3))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_missing_gpu_is_named_with_the_fix_in_each_front_door():
    from tsfm import Forecaster

    with pytest.raises(ValueError, match="accelerator \\(trainer.accelerator\\)='gpu'.*'cpu'"):
        Forecaster(horizon=8, lookback=24, accelerator="gpu", max_epochs=1).fit(
            synthetic_frame(120)
        )
    with pytest.raises(ValueError, match="trainer.accelerator='gpu'.*no such device"):
        check_run(compose_config("trainer=gpu"))


def test_the_forecaster_names_a_managed_key_by_its_argument():
    from tsfm.estimator.params import describe_key

    assert describe_key("itransformer", "data.seq_len") == "lookback (data.seq_len)"
    cfg = compose_config(*TINY_ITRANSFORMER, "data.seq_len=1")
    with pytest.raises(ValueError, match=r"^lookback \(data.seq_len\)=1: a look-back needs"):
        check_run(cfg, lambda key: describe_key("itransformer", key))


def test_a_part_of_the_test_split_is_allowed_when_nothing_is_tested():
    check_run(compose_config(*TINY_ITRANSFORMER, "test=false", "trainer.limit_test_batches=2"))


def test_a_partial_validation_is_named_and_its_window_count_left_out(tmp_path, caplog):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "trainer.limit_val_batches=1")
    preflight._warn_partial_validation.cache_clear()  # warned once per process
    with caplog.at_level("WARNING", logger="tsfm.training.preflight"):
        metrics = fit_and_test(cfg, tmp_path).metrics
    assert "limit_val_batches=1: validation" in caplog.text
    assert "windows/val" not in metrics and metrics["limit_val_batches"] == 1
    assert metrics["windows/test"] == 2873  # the whole ETTh1 test split at 24 -> 8


def test_bf16_frozen_weights_without_bf16_autocast_are_refused_in_each_front_doors_names(
    monkeypatch,
):
    flag = "frozen_backbone_bf16 \\(model.frozen_backbone_bf16\\)"
    with pytest.raises(ValueError, match=rf"^{flag} stores .*precision \(trainer.precision\)="):
        tiny("s2ip_llm", frozen_backbone_bf16=True).fit(synthetic_frame(240, 2))
    cli = compose_config("model=s2ip_llm", "model.frozen_backbone_bf16=true", "trainer=cpu")
    with pytest.raises(ValueError, match=r"^model.frozen_backbone_bf16 stores.*'32-true' trains"):
        check_run(cli)
    cli.trainer.precision = "bf16-mixed"
    check_run(cli)
    cli.trainer.precision = "auto"  # resolved to fp32 on a CPU without native bf16
    monkeypatch.setattr(preflight, "native_bf16", lambda _: (False, "no native bf16 here"))
    with pytest.raises(ValueError, match=r"'auto' picks fp32 here \(no native bf16 here\)"):
        check_run(cli)
    monkeypatch.setattr(preflight, "native_bf16", lambda _: (True, ""))
    check_run(cli)
