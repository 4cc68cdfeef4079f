"""``python -m tsfm.run --help`` and a refused key answer without importing Lightning.

Lightning brings torchmetrics, torchvision and transformers, seconds before the first line
of help or the refusal (``runners/bench_first_forecast.py`` lists them); only a run that
trains or tests needs it, and imports it then.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.data import REPO

PROBE = """
import atexit, runpy, sys
heavy = ("lightning", "torchmetrics", "torchvision", "transformers")
atexit.register(lambda: print("imported:", [m for m in heavy if m in sys.modules]))
sys.argv = ["tsfm.run", *sys.argv[1:]]
runpy.run_module("tsfm.run", run_name="__main__")
"""


@pytest.mark.parametrize(
    ("args", "shown"),
    [(["--help"], "== Config =="), (["model.d_modle=64"], "did you mean 'model.d_model'?")],
)
def test_help_and_refusals_import_no_lightning(args, shown):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert shown in done.stdout + done.stderr
    assert "imported: []" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
