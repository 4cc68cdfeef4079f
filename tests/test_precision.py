"""Mixed precision and threads as a run sees them: ``trainer.precision`` (with tsfm's ``auto``),
the ``trainer=cpu_bf16`` preset, bf16 training under Lightning's CPU autocast, the
Forecaster's ``precision`` in fit and predict, and the ``threads`` setting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training import runtime
from tsfm.training.preflight import check_run
from tsfm.training.runtime import MachineWarning, resolve_precision, thread_limit


@pytest.fixture
def bf16_cpu(monkeypatch):
    """Pretend the CPU has (True) or lacks (False) native bf16."""

    def pretend(native: bool) -> None:
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)

    return pretend


def test_auto_precision_is_bf16_where_native_and_fp32_with_one_warning_elsewhere(bf16_cpu):
    bf16_cpu(True)
    assert resolve_precision("auto", "cpu") == "bf16-mixed"
    bf16_cpu(False)
    with pytest.warns(MachineWarning, match="no native bf16.*uses fp32 \\(32-true\\)") as caught:
        assert resolve_precision("auto", "cpu") == "32-true"
    assert len(caught) == 1


def test_an_explicit_precision_is_kept_and_emulated_bf16_is_warned_about(bf16_cpu, recwarn):
    bf16_cpu(False)
    assert resolve_precision("32-true", "cpu") == "32-true" and not recwarn.list
    with pytest.warns(MachineWarning, match="emulated and slower than fp32"):
        assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"


def test_native_bf16_is_read_from_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    for flags, native in (({"avx512f", "amx_bf16"}, True), ({"avx512_bf16"}, True), (set(), False)):
        monkeypatch.setattr(runtime, "_cpuinfo_flags", lambda flags=flags: flags)
        runtime.cpu_has_native_bf16.cache_clear()
        assert runtime.cpu_has_native_bf16() is native
    runtime.cpu_has_native_bf16.cache_clear()


def test_a_cpu_tsfm_does_not_probe_keeps_auto_at_fp32_without_claiming_emulation(
    bf16_cpu, monkeypatch
):
    bf16_cpu(False)
    monkeypatch.setattr(runtime.platform, "machine", lambda: "aarch64")
    with pytest.warns(MachineWarning, match="probes x86 CPUs only .* a 'aarch64' CPU, so the"):
        assert resolve_precision("auto", "cpu") == "32-true"
    with pytest.warns(MachineWarning, match="'aarch64' CPU; compare its speed with 32-true") as w:
        assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"
    assert "emulated" not in str(w[0].message)
    monkeypatch.setattr(runtime.platform, "machine", lambda: "x86_64")
    with pytest.warns(MachineWarning, match="this CPU has no native bf16 \\(avx512_bf16"):
        assert resolve_precision("auto", "cpu") == "32-true"
    with pytest.warns(MachineWarning, match="emulated and slower than fp32"):
        assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"


def test_the_cpu_bf16_preset_asks_for_auto():
    cfg = compose_config("trainer=cpu_bf16")
    assert cfg.trainer.precision == "auto" and cfg.trainer.accelerator == "cpu"
    check_run(cfg)  # auto passes the Lightning type check


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.precision=bf17", r"trainer.precision='bf17' is not a precision; use 'auto'"),
        ("trainer.precision=bf16-true", "casts the whole module to 16 bits.*use bf16-mixed"),
        ("trainer.precision=16-true", "metrics' float64 sums included"),
        ("threads=0", "threads=0: give a positive whole number"),
        ("threads=-2", "threads=-2: give a positive whole number"),
    ],
)
def test_bad_precision_or_threads_are_refused_naming_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        check_run(compose_config(override))


class Watch(Callback):
    """Records, during training, whether the model ran under CPU autocast and with how many
    threads, and the dtype of its forecast and loss."""

    def __init__(self):
        self.seen: dict[str, object] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        def hook(module, args, output):
            self.seen.update(autocast=torch.is_autocast_enabled("cpu"), forecast=output.dtype)

        if "hook" not in self.seen:
            self.seen["hook"] = pl_module.model.projector.register_forward_hook(hook)
        self.seen["threads"] = torch.get_num_threads()

    def on_before_backward(self, trainer, pl_module, loss):
        self.seen["loss"] = loss.dtype


def test_bf16_training_runs_under_cpu_autocast_with_fp32_losses_and_finite_metrics(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "trainer.precision=bf16-mixed")
    watch = Watch()
    result = fit_and_test(cfg, tmp_path, extra_callbacks=[watch])
    assert watch.seen["autocast"] and watch.seen["forecast"] == torch.bfloat16
    assert watch.seen["loss"] == torch.float32
    assert np.isfinite([result.metrics["test/mse"], result.metrics["test/mse_original"]]).all()


def test_threads_caps_the_run_and_is_restored_afterwards(tmp_path):
    before = torch.get_num_threads()
    wanted = 1 if before > 1 else 2
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, f"threads={wanted}")
    watch = Watch()
    fit_and_test(cfg, tmp_path, extra_callbacks=[watch])
    assert watch.seen["threads"] == wanted and torch.get_num_threads() == before


def test_a_busy_machine_warns_when_threads_are_left_to_torch(monkeypatch, recwarn):
    monkeypatch.setattr(runtime, "machine_is_busy", lambda: (9.0, 2))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        busy = "busy \\(load 9.0 on 2 cores\\).*threads=1"
        with pytest.warns(MachineWarning, match=busy), thread_limit(None):
            pass
        recwarn.clear()
        with thread_limit(1):  # asked for: no advice
            assert torch.get_num_threads() == 1
        assert not [w for w in recwarn.list if issubclass(w.category, MachineWarning)]
    finally:
        torch.set_num_threads(before)


def test_forecaster_precision_reaches_fit_and_predict(frame):
    forecaster = tiny(precision="bf16-mixed", threads=1, seed=0)
    forecaster.fit(frame)
    assert forecaster.config_.trainer.precision == "bf16-mixed"
    mixed = forecaster.predict().drop(columns="date").to_numpy()
    assert forecaster.fit_metrics_["precision"] == "bf16-mixed"  # predict keeps it
    forecaster.fit_metrics_["precision"] = "32-true"  # the same weights, predicted in fp32
    full = forecaster.predict().drop(columns="date").to_numpy()
    difference = np.sqrt(np.mean((mixed - full) ** 2) / np.mean(full**2))
    assert 0 < difference < 0.02  # predict ran in bf16, close to fp32


def test_forecaster_refuses_an_unknown_precision(frame):
    with pytest.raises(ValueError, match=r"precision \(trainer.precision\)='bf17' is not a"):
        tiny(precision="bf17").fit(frame)


def _no_driver(name, *args, **kwargs):
    raise OSError(f"{name}: cannot open shared object file")


def test_a_machine_without_the_gpu_driver_stops_probing_for_it_every_call(monkeypatch):
    """Without libnvidia-ml, torch (under Lightning's NVML-based check) tried to load it on
    every ``torch.cuda.is_available()``, twice a training step; the count 0 is now cached."""
    if not torch.cuda._is_compiled():
        pytest.skip("torch without CUDA never probes")
    probes = []

    def no_driver(name, *args, **kwargs):
        probes.append(name)
        return _no_driver(name)

    monkeypatch.setattr(torch.cuda, "_cached_device_count", None)
    monkeypatch.setattr(runtime.ctypes, "CDLL", no_driver)
    monkeypatch.setattr(torch._C, "_cuda_getDeviceCount", lambda: 0)
    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    assert runtime.cache_absent_gpu()
    probes.clear()
    assert not torch.cuda.is_available() and torch.cuda.device_count() == 0
    assert not runtime.cache_absent_gpu()  # cached once
    assert probes == []


def test_a_machine_with_the_gpu_driver_keeps_torchs_checks(monkeypatch):
    if not torch.cuda._is_compiled():
        pytest.skip("torch without CUDA never probes")
    monkeypatch.setattr(torch.cuda, "_cached_device_count", None)
    monkeypatch.setattr(runtime.ctypes, "CDLL", lambda name, *a, **k: object())  # loads
    assert not runtime.cache_absent_gpu()
    assert torch.cuda._cached_device_count is None
    monkeypatch.setattr(runtime.ctypes, "CDLL", _no_driver)
    monkeypatch.setattr(torch._C, "_cuda_getDeviceCount", lambda: 1)  # a runtime that sees one
    assert not runtime.cache_absent_gpu()
    assert torch.cuda._cached_device_count is None
