"""Settings Lightning or tsfm took silently, or refused only after the data was read (or after
the first epoch), are refused before any data is read, naming the key and the fix; the
metrics a callback may monitor are those a run logs."""

from __future__ import annotations

import importlib.util

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.errors import InputError
from tsfm.pipeline import fit_and_test
from tsfm.training.preflight import check_run

# a data file that does not exist: a refusal that comes first never gets to read it
NO_DATA = ["data=custom", "data.path=/nonexistent/data.csv"]
NO_TENSORBOARD = not any(importlib.util.find_spec(p) for p in ("tensorboard", "tensorboardX"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["callbacks.early_stopping.monitor=val/foo"], r"callbacks.early_stopping.monitor='val/"
         r"foo' is not a metric this run logs.*after the first epoch \(did you mean 'val/loss'"),
        (["callbacks.checkpoint.monitor=val/foo"], r"callbacks.checkpoint.monitor='val/foo' is "
         r"not a metric this run logs"),
        (["callbacks.checkpoint.monitor=val/crps"], r"'val/crps' is not a metric this run logs"),
        (["trainer.accumulate_grad_batches=0"], r"accumulate_grad_batches=0: gradients are "
         r"accumulated over 1 batch or more"),
        (["callbacks.early_stopping.patience=-1"], r"patience=-1: early stopping waits"),
        (["callbacks.early_stopping.min_delta=-1"], r"min_delta=-1.0: the least decrease"),
        (["trainer.gradient_clip_val=-1"], r"gradient_clip_val=-1: gradients are clipped"),
        (["trainer.min_epochs=5"], r"trainer.min_epochs=5 is more than trainer.max_epochs=1"),
        (["trainer.max_steps=3", "trainer.min_steps=4"], r"min_steps=4 is more than"),
        (["output.plot=true", "output.plot_windows=0"], r"output.plot_windows=0 would draw "
         r"forecast.png with no window"),
        (["optim.scheduler=foo"], r"optim.scheduler='foo' is not a known scheduler; use one "
         r"of none, exponential, cosine"),
        (["optim.optimizer=foo"], r"optim.optimizer='foo' is not a known optimizer"),
        (["logger.name=wandb"], r"logger.name='wandb' is not a logger tsfm builds; use "
         r"logger=csv"),
    ],
)  # fmt: skip
def test_a_setting_checked_late_or_never_is_refused_before_the_data(tmp_path, overrides, message):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *NO_DATA, *overrides)
    with pytest.raises(InputError, match=message):
        fit_and_test(cfg, tmp_path)


@pytest.mark.skipif(not NO_TENSORBOARD, reason="tensorboard is installed here")
def test_tensorboard_without_its_package_is_refused_with_the_install_command(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *NO_DATA, "logger=tensorboard")
    with pytest.raises(InputError, match=r"pip install 'tsfm\[tensorboard\]'.*or use logger=csv"):
        fit_and_test(cfg, tmp_path)


@pytest.mark.parametrize(
    "overrides",
    [
        ["callbacks.early_stopping.monitor=val/mse", "callbacks.checkpoint.monitor=val/mae"],
        ["callbacks.checkpoint.monitor=train/loss"],
        ["loss=quantile", "callbacks.early_stopping.monitor=val/crps"],
        ["loss=normal", "callbacks.checkpoint.monitor=val/width_80_original"],
        ["callbacks=none", "callbacks.early_stopping.monitor=val/foo"],  # off: not monitored
        ["train=false", "callbacks.early_stopping.monitor=val/foo"],  # no training
        ["data=m4_hourly", "callbacks.early_stopping.monitor=val/owa"],  # M4's own scores
        ["trainer.min_epochs=1", "trainer.max_epochs=-1", "trainer.max_time=60"],
        ["trainer.gradient_clip_val=0.5", "trainer.accumulate_grad_batches=2"],
        ["output.plot=false", "output.plot_windows=0"],
        ["optim=adamw_cosine"],
    ],
)
def test_settings_a_run_uses_pass(overrides):
    from tsfm.training.run_settings import check_settings

    check_settings(compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *overrides))


@pytest.mark.parametrize(("model", "aux"), [("s2ip_llm", "alignment"), ("timesclip", "align")])
def test_a_models_auxiliary_losses_may_be_monitored(model, aux):
    from tsfm.training.run_settings import logged_keys

    cfg = compose_config(f"model={model}", f"callbacks.checkpoint.monitor=train/{aux}")
    assert f"train/{aux}" in logged_keys(cfg) and f"train/{aux}_step" in logged_keys(cfg)
    check_run(cfg)


@pytest.mark.parametrize("loss", ["mse", "quantile"])
def test_the_keys_a_callback_may_monitor_are_those_a_run_logs(tmp_path, loss):
    from tsfm.training.run_settings import logged_keys

    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, f"loss={loss}", "test=false")
    logged = {
        k
        for k in fit_and_test(cfg, tmp_path).trainer.callback_metrics
        if k.startswith(("train/", "val/"))
    }
    keys = set(logged_keys(cfg))
    # MSIS needs a seasonal scale, which a 24-step look-back of hourly data does not hold
    assert logged <= keys and keys - logged <= {"val/msis"}
    assert ("val/crps" in logged) == (loss == "quantile")


def test_the_forecaster_names_its_parameter():
    with pytest.raises(InputError, match=r"^patience \(callbacks.early_stopping.patience\)=-1"):
        tiny(patience=-1, val_size=0.2).fit(synthetic_frame(200, 2))
    with pytest.raises(InputError, match=r"^scheduler \(optim.scheduler\)='cosin' is not a kn"):
        tiny(scheduler="cosin").fit(synthetic_frame(200, 2))
