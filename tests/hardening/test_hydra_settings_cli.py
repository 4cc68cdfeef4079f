"""``python -m tsfm.run`` and ``python -m tsfm.tune`` end, with status 2 and before Hydra
acts, on configs and overrides that would make Hydra run code (the payload never runs), and
on Hydra's pickle rerun; legitimate ``hydra.*`` settings still run, and a study over a preset
from ``--config-dir`` writes its best preset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.data import REPO
from tests.helpers.hydra_payloads import (
    callback_overrides,
    callback_preset,
    logging_overrides,
    logging_preset,
    rerun_pickle,
)
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.cli_errors import INPUT_ERROR_STATUS

pytestmark = pytest.mark.slow
TUNE = ["hparams_search=itransformer", "tune.n_trials=1"]


def command(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m tsfm.<name> *args`` in a fresh process, a tiny run's settings first."""
    extra = [f"tune.dir={cwd / 'study'}", *TUNE] if name == "tune" else []
    return subprocess.run(
        [sys.executable, "-m", f"tsfm.{name}", *args, *TINY_ITRANSFORMER, *TINY_RUN, *extra],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )


def attack(kind: str, tmp_path: Path, marker: Path) -> tuple[list[str], str]:
    """``(command-line arguments, the key refused)`` of each way in."""
    shared = tmp_path / "shared"
    if kind == "callback preset in --config-dir":
        preset = callback_preset(shared, marker)
        return ["--config-dir", str(shared), f"experiment={preset.stem}"], "hydra.callbacks.site"
    if kind == "logging preset on hydra.searchpath":
        preset = logging_preset(shared, marker)
        where = f"hydra.searchpath=[file://{shared}]"
        return [where, f"experiment={preset.stem}"], "hydra.job_logging.handlers.rc"
    if kind == "callback override":
        return callback_overrides(shared, marker), "hydra.callbacks.x"
    return logging_overrides(marker), "hydra.job_logging.handlers.rc"


@pytest.mark.parametrize("name", ["run", "tune"])
@pytest.mark.parametrize(
    "kind",
    [
        "callback preset in --config-dir",
        "logging preset on hydra.searchpath",
        "callback override",
        "logging override",
    ],
)
def test_the_commands_refuse_hydra_settings_naming_code_and_the_payload_never_runs(
    tmp_path, name, kind
):
    marker = tmp_path / "pwned"
    args, key = attack(kind, tmp_path, marker)
    proc = command(name, *args, cwd=tmp_path)
    assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-3000:]
    assert f"InputError: {key} (set " in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()
    assert not list(tmp_path.rglob("metrics.json")) and not (tmp_path / "study").exists()


@pytest.mark.parametrize("name", ["run", "tune"])
def test_the_commands_refuse_hydras_pickle_rerun(tmp_path, name):
    marker = tmp_path / "pwned"
    saved = rerun_pickle(tmp_path / "old" / ".hydra" / "config.pickle", marker)
    proc = command(name, "--experimental-rerun", str(saved), cwd=tmp_path)
    assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-3000:]
    assert "InputError: --experimental-rerun: Hydra's rerun unpickles" in proc.stderr
    assert not marker.exists()


def test_a_run_with_hydras_own_settings_still_runs(tmp_path):
    run_dir = tmp_path / "run"
    proc = command(
        "run",
        f"hydra.run.dir={run_dir}",
        "hydra.job.chdir=true",
        "hydra/hydra_logging=disabled",
        "hydra.job_logging.formatters.simple.format='[tsfm] %(message)s'",
        "+hydra.job.env_set.TOKENIZERS_PARALLELISM=false",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "metrics.json").is_file()
    assert "[tsfm] " in (run_dir / "run.log").read_text()


def test_a_study_over_a_preset_from_config_dir_writes_its_best_preset(tmp_path):
    (tmp_path / "mine" / "experiment").mkdir(parents=True)
    (tmp_path / "mine" / "experiment" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /experiment/itransformer_etth1_96\n  - _self_\n"
        "seed: 7\n"
    )
    proc = command("tune", "--config-dir", str(tmp_path / "mine"), "experiment=mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = tmp_path / "study" / "experiment" / "itransformer_etth1_8_tuned.yaml"
    assert "\nseed: 7\n" in written.read_text()  # the preset's own value, read from its file
