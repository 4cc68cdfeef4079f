"""The allocator run settings (``reuse_freed_memory``, ``release_freed_memory``) and the
command line leaving huge pages to the user (:mod:`tsfm.training.allocator`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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

size = 16 << 20
for _ in range(3):  # glibc's adaptive threshold rises to 16 MiB after the first free
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    before = resident()
    libc.free(block)
print((before - resident()) / size)
"""


@LINUX
@pytest.mark.parametrize(
    ("setting", "returned"),
    [("default", False), ("reuse_freed_memory", False), ("release_freed_memory", True)],
)
def test_a_freed_16_mib_block_goes_back_only_when_released(setting, returned):
    printed = _python(RESIDENT_AFTER_FREE, setting, drop=allocator.USER_ALLOCATOR_SETTINGS)
    fraction = float(printed[-1])  # of the block that left the resident set
    assert (fraction > 0.9) is returned, (setting, fraction)


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
