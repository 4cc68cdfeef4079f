"""tsfm's warnings name the user's line without echoing it under the message, and stay
ordinary warnings: filters, ``-W error``, "default"'s once per line and recording work."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from tests.helpers.data import REPO
from tsfm.data.user_warnings import warn_user

SCRIPT = """\
import warnings
from tsfm.data.user_warnings import warn_user

def score():
    warn_user("evaluate: a note for the user")

for _ in range(3):
    score()  # the user's line
warnings.filterwarnings("ignore", message="evaluate: silenced")
warn_user("evaluate: silenced")
print("done")
"""


def _run(tmp_path, *flags: str) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": ""}
    return subprocess.run(
        [sys.executable, *flags, str(script)], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def test_a_warning_names_the_users_line_once_without_echoing_it(tmp_path):
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    # shown once for that line (Python's "default" action), with no source line under it
    assert lines == [f"{tmp_path / 'script.py'}:5: UserWarning: evaluate: a note for the user"]
    assert proc.stdout == "done\n"


def test_a_warning_is_still_an_error_under_w_error(tmp_path):
    proc = _run(tmp_path, "-W", "error::UserWarning")
    assert proc.returncode == 1 and "UserWarning: evaluate: a note for the user" in proc.stderr


def test_recorded_warnings_keep_the_users_file_and_the_display_hook_is_restored():
    hook = warnings.showwarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_user("evaluate: recorded")
    assert [str(w.message) for w in caught] == ["evaluate: recorded"]
    assert caught[0].filename == __file__
    assert warnings.showwarning is hook
    with pytest.warns(UserWarning, match="recorded"):
        warn_user("evaluate: recorded")
