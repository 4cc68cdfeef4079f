"""The one-line hint that bf16 mixed precision is one setting away: shown once per process
where a Forecaster's fit runs fp32 on a CPU with native bf16 and the user did not choose a
precision, where its output is shown (``verbose=1`` watched, or ``verbose=2``); fp32 stays
the default."""

from __future__ import annotations

import re

import pytest

from tests.helpers.estimator import tiny
from tsfm.training import progress, runtime

HINT = 'this CPU computes bf16 natively.*precision="bf16-mixed" \\(or "auto"\\).*README'


@pytest.fixture
def machine(monkeypatch):
    """Pretend the CPU has (or lacks) native bf16 and whether a person watches; the hint not
    yet shown in this process."""
    hint = getattr(progress, "Bf16Hint", None)
    if hint is not None:
        monkeypatch.setattr(hint, "shown", False)

    def pretend(native: bool, watched: bool = True) -> None:
        monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)
        monkeypatch.setattr(progress, "watched", lambda stream=None: watched)

    return pretend


def _hints(capsys) -> int:
    return capsys.readouterr().err.count("this CPU computes bf16 natively")


def test_a_default_fp32_fit_on_a_bf16_cpu_says_so_once_per_process(machine, frame, capsys):
    machine(native=True)
    f = tiny(threads=1).fit(frame)
    err = capsys.readouterr().err
    assert f.config_.trainer.precision == "32-true"  # the default is not changed
    assert err.count("this CPU computes bf16 natively") == 1
    assert re.search(HINT, err)
    tiny(threads=1).fit(frame)
    assert _hints(capsys) == 0  # once per process


def test_no_hint_without_native_bf16_or_when_the_precision_was_chosen(machine, frame, capsys):
    machine(native=False)
    tiny(threads=1).fit(frame)
    assert _hints(capsys) == 0
    machine(native=True)
    for chosen in ({"precision": "32-true"}, {"overrides": ["trainer=cpu"]}):
        tiny(threads=1, **chosen).fit(frame)
        assert _hints(capsys) == 0
    tiny(threads=1, precision="auto").fit(frame)  # bf16 here: nothing to suggest
    assert _hints(capsys) == 0


def test_the_hint_follows_verbose(machine, frame, capsys):
    machine(native=True, watched=False)
    tiny(threads=1, verbose=1).fit(frame)  # no one watching: verbose=1 prints nothing
    machine(native=True, watched=True)
    tiny(threads=1, verbose=0).fit(frame)
    assert _hints(capsys) == 0
    tiny(threads=1, verbose=2).fit(frame)
    assert _hints(capsys) == 1
