"""The allocator run settings (``reuse_freed_memory``, ``release_freed_memory``) and the
command line leaving huge pages to the user (:mod:`tsfm.training.allocator`)."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from tests.helpers.runs import TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import build_trainer
from tsfm.training import allocator
from tsfm.training.preflight import check_run

LINUX = pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt, Linux's /proc")
SETTINGS = {
    "reuse_freed_memory": [
        (allocator.M_TRIM_THRESHOLD, allocator.KEEP_FREED_BYTES),
        (allocator.M_MMAP_THRESHOLD, allocator.MMAP_FROM_BYTES),
    ],
    "release_freed_memory": [
        (allocator.M_TRIM_THRESHOLD, allocator.KEEP_FREED_BYTES),
        (allocator.M_MMAP_THRESHOLD, allocator.RELEASE_FROM_BYTES),
    ],
}


@pytest.fixture
def mallopt_calls(monkeypatch) -> list:
    """The mallopt calls a test makes, none of them reaching glibc; no user settings."""
    calls: list = []
    monkeypatch.setattr(allocator, "_mallopt", lambda *args: calls.append(args) or True)
    monkeypatch.setattr(allocator, "_releasing", False)  # restored after the test
    for name in allocator.USER_ALLOCATOR_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("value", ["true", "false"])
def test_a_run_sets_the_allocator_only_when_asked(setting, value, mallopt_calls, tmp_path):
    build_trainer(compose_config(*TINY_RUN, f"{setting}={value}"), tmp_path)
    assert mallopt_calls == (SETTINGS[setting] if value == "true" else [])


def test_both_settings_at_once_are_refused_naming_them():
    cfg = compose_config(*TINY_RUN, "reuse_freed_memory=true", "release_freed_memory=true")
    with pytest.raises(ValueError, match="reuse_freed_memory=true.*release_freed_memory=true"):
        check_run(cfg)


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_the_users_own_allocator_settings_win(setting, mallopt_calls, monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert not getattr(allocator, setting)() and mallopt_calls == []


def test_a_forecaster_leaves_the_allocator_alone_unless_asked(mallopt_calls):
    from tests.helpers.data import synthetic_frame
    from tests.helpers.estimator import tiny

    tiny().fit(synthetic_frame(200, 2))
    assert mallopt_calls == []  # the default leaves it alone
    tiny(release_freed_memory=True).fit(synthetic_frame(200, 2))
    assert mallopt_calls == SETTINGS["release_freed_memory"]
    with pytest.raises(ValueError, match="reuse_freed_memory.*release_freed_memory"):
        tiny(reuse_freed_memory=True, release_freed_memory=True).fit(synthetic_frame(200, 2))


def _python(code: str, *args: str, drop: tuple[str, ...] = (), **env: str) -> list[str]:
    """The words a fresh ``python -c code args`` prints, run without the variables ``drop``
    and with ``env`` added."""
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, check=True, env={**environment, **env},
    )  # fmt: skip
    return out.stdout.split()


RESIDENT_AFTER_FREE = """
import ctypes, sys
from tsfm.training import allocator
if sys.argv[1] != "default":
    assert getattr(allocator, sys.argv[1])()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
page = 4096

def resident():
    return int(open("/proc/self/statm").read().split()[1]) * page

size = int(sys.argv[2]) << 20
for _ in range(3):  # glibc's adaptive threshold rises to the block's size after the first free
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    before = resident()
    libc.free(block)
after_free = resident()
allocator.give_back_free_memory()
print((before - after_free) / size, (before - resident()) / size)
"""


@LINUX
@pytest.mark.parametrize(
    ("setting", "mib", "at_once"),
    [
        ("default", 28, False),
        ("reuse_freed_memory", 28, False),
        ("release_freed_memory", 28, True),  # 24 MiB and more: mapped, returned when freed
        ("release_freed_memory", 16, False),  # smaller: kept for reuse until given back
    ],
)
def test_freed_blocks_go_back_at_once_only_when_large_and_released(setting, mib, at_once):
    printed = _python(
        RESIDENT_AFTER_FREE, setting, str(mib), drop=allocator.USER_ALLOCATOR_SETTINGS
    )
    freed, given_back = (float(word) for word in printed[-2:])  # fractions of the block
    assert (freed > 0.9) is at_once, (setting, mib, freed)
    assert given_back > 0.9, (setting, mib, given_back)  # malloc_trim returns the rest


def test_blocks_give_back_memory_after_each_pass_only_while_releasing(monkeypatch):
    from tests.helpers.models import batch, make, predict

    calls: list = []
    monkeypatch.setattr(allocator, "give_back_free_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(allocator, "_releasing", False)
    hooked, plain, inputs = make("s2ip_llm"), make("s2ip_llm"), batch()
    assert allocator.release_between_blocks(hooked.memory_blocks()) == 2
    assert allocator.release_between_blocks(hooked.memory_blocks()) == 0  # hooked once only
    predict(hooked, inputs).sum().backward()
    assert calls == []  # hooks idle while the setting is off
    monkeypatch.setattr(allocator, "_releasing", True)
    for model in (hooked, plain):
        model.zero_grad()
        predict(model, inputs).sum().backward()
    assert len(calls) == 4  # each of the two blocks: after its forward and its backward pass
    for (name, a), b in zip(hooked.named_parameters(), plain.parameters(), strict=True):
        assert (a.grad is None) == (b.grad is None), name
        assert a.grad is None or torch.equal(a.grad, b.grad), name  # hooks change no value


@pytest.mark.parametrize("name", ["s2ip_llm", "itransformer"])
def test_a_releasing_run_hooks_the_models_memory_blocks(name, mallopt_calls, tmp_path):
    from tests.helpers.models import make
    from tsfm.training.release import ReleaseBetweenBlocks

    trainer = build_trainer(compose_config(*TINY_RUN, "release_freed_memory=true"), tmp_path)
    callbacks = [c for c in trainer.callbacks if isinstance(c, ReleaseBetweenBlocks)]
    assert len(callbacks) == 1 and allocator.releasing()
    model = make(name)
    callbacks[0].setup(trainer, SimpleNamespace(model=model), "fit")  # iTransformer: none
    if name == "s2ip_llm":
        blocks = model.memory_blocks()
        assert len(blocks) == 2 and all(b._tsfm_releases_memory for b in blocks)
    quiet = build_trainer(compose_config(*TINY_RUN), tmp_path)
    assert not any(isinstance(c, ReleaseBetweenBlocks) for c in quiet.callbacks)


ALIGNMENT_PROBE = """
import os, sys
import tsfm.{module}
import torch
block = torch.empty(4 << 20, dtype=torch.uint8)  # page-aligned and madvised only for THP
print(os.environ.get("THP_MEM_ALLOC_ENABLE"), block.data_ptr() % 4096 == 0)
"""


@LINUX
@pytest.mark.parametrize(("module", "user"), [("run", None), ("tune", None), ("run", "1")])
def test_the_command_line_leaves_huge_pages_to_the_user(module, user):
    # huge pages slowed S2IP-LLM's bf16 step by a third on one machine: torch's default stays
    env = {} if user is None else {"THP_MEM_ALLOC_ENABLE": user}
    printed = _python(ALIGNMENT_PROBE.format(module=module), drop=("THP_MEM_ALLOC_ENABLE",), **env)
    assert printed[-2:] == (["None", "False"] if user is None else ["1", "True"])
