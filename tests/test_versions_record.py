"""versions.json identifies the code and machine behind a result: the libraries' versions
(without importing them), tsfm's git commit and whether it was changed, the precision the
run trained in, torch's threads and whether the CPU has native bf16."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.helpers.data import REPO
from tests.helpers.estimator import tiny
from tests.test_from_run import cli_run
from tsfm.training import environment
from tsfm.training.environment import git_state, versions
from tsfm.training.runtime import cpu_has_native_bf16

LIBRARIES = ("numpy", "pandas", "polars", "hydra-core", "omegaconf", "optuna", "transformers")


def test_versions_name_the_libraries_the_git_commit_and_the_machine():
    record = versions("bf16-mixed", 3)
    assert all(isinstance(record[name], str) for name in (*LIBRARIES, "open_clip", "lightning"))
    assert (record["precision"], record["threads"]) == ("bf16-mixed", 3)
    assert record["cpu_native_bf16"] is cpu_has_native_bf16()
    if (REPO / ".git").exists() and shutil.which("git"):  # the tests run from a checkout
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        assert record["git_commit"] == head.stdout.strip()
        assert isinstance(record["git_dirty"], bool)


def test_the_versions_are_read_without_importing_the_libraries():
    code = (
        "import sys; from tsfm.training.environment import versions; versions(); "
        "print(sorted({'optuna', 'transformers', 'open_clip', 'polars'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "[]", done.stderr


def test_no_checkout_or_no_git_leaves_the_git_state_empty(tmp_path, monkeypatch):
    assert git_state(tmp_path) == {"git_commit": None, "git_dirty": None}
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)
    assert git_state(REPO) == {"git_commit": None, "git_dirty": None}


def test_a_saved_forecaster_and_a_run_record_their_precision_and_threads(frame, tmp_path):
    model = tiny(threads=1, seed=0).fit(frame)
    saved = json.loads((model.save(tmp_path / "saved") / "versions.json").read_text())
    assert (saved["precision"], saved["threads"]) == ("32-true", 1)
    assert saved["numpy"] and "git_commit" in saved
    run_dir = cli_run(tmp_path, "trainer.precision=32-true", "threads=1")
    written = json.loads((run_dir / "versions.json").read_text())
    assert (written["precision"], written["threads"]) == ("32-true", 1)
    assert written["pandas"] and "cpu_native_bf16" in written


def test_a_file_name_that_is_not_utf8_leaves_the_git_state_readable(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "tsfm").mkdir()
    name = tmp_path.as_posix().encode() + b"/a\xff.txt"

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "core.quotepath", "false")
    git("config", "user.email", "t@t")
    git("config", "user.name", "t")
    with open(name, "wb") as handle:
        handle.write(b"1")
    git("add", "-A")
    git("commit", "-qm", "one")
    with open(name, "wb") as handle:
        handle.write(b"2")  # a changed file whose name git prints as raw bytes
    state = git_state(tmp_path)
    assert state["git_dirty"] is True and len(state["git_commit"]) == 40
