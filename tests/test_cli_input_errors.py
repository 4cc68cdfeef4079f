"""Bad input on the command line ends with tsfm's message and status 2, without a traceback;
other exceptions keep theirs. In Python the same refusals are ``tsfm.InputError``."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

import tsfm
from tests.helpers.data import REPO
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.cli_errors import INPUT_ERROR_STATUS, input_errors_end_the_command
from tsfm.errors import InputError


def bad_csv(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("date,load,price\n2020-01-01,1,2\n2020-01-02,3,n/a?\n2020-01-03,4,5\n")
    return path


def test_a_bad_data_file_ends_the_run_with_the_message_and_status_2(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli(
        "data=custom", f"data.path={bad_csv(tmp_path)}", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == INPUT_ERROR_STATUS, out[-3000:]
    assert "InputError: non-numeric column(s) ['price']" in out
    assert "Traceback" not in out and "HYDRA_FULL_ERROR" not in out
    assert "non-numeric column(s) ['price']" in (run_dir / "run.log").read_text()
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "failed" and "non-numeric column(s)" in record["error"]


def test_a_missing_data_file_ends_the_run_the_same_way(tmp_path):
    proc = run_cli("data=custom", f"data.path={tmp_path / 'absent.csv'}", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == INPUT_ERROR_STATUS, out[-3000:]
    assert "FileNotFoundError: data file" in out and "Traceback" not in out


def test_a_bad_data_file_ends_the_tuning_command_with_status_2(tmp_path):
    args = [sys.executable, "-m", "tsfm.tune", "hparams_search=itransformer", "data=custom"]
    args += [f"data.path={bad_csv(tmp_path)}", "tune.n_trials=1", f"tune.dir={tmp_path / 'study'}"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == INPUT_ERROR_STATUS, out[-3000:]
    assert "non-numeric column(s) ['price']" in out and "Traceback" not in out


def test_other_exceptions_pass_through_untouched():
    with (
        pytest.raises(RuntimeError, match="a fault"),
        input_errors_end_the_command(logging.getLogger()),
    ):
        raise RuntimeError("a fault")


def test_python_refusals_are_input_errors_and_still_value_errors():
    df = pd.DataFrame({"date": pd.date_range("2020", periods=50, freq="D"), "y": ["x"] * 50})
    with pytest.raises(tsfm.InputError, match="non-numeric") as refused:
        tsfm.Forecaster(lookback=8, horizon=2, max_epochs=1).fit(df)
    assert isinstance(refused.value, ValueError) and tsfm.InputError is InputError


def test_a_trainer_setting_lightning_refuses_is_an_input_error_naming_it(tmp_path):
    from tsfm.config import compose_config
    from tsfm.pipeline import build_trainer

    for setting, named in (
        ("trainer.devices=0", "trainer.devices=0"),
        ("trainer.gradient_clip_algorithm=foo", "trainer.gradient_clip_algorithm='foo'"),
        ("trainer.val_check_interval=-1", "trainer.val_check_interval=-1"),
    ):
        cfg = compose_config(setting)
        with pytest.raises(InputError, match=f"^{re.escape(named)}.*lightning.Trainer refuses"):
            build_trainer(cfg, tmp_path)


def test_a_trainer_error_that_names_no_setting_passes_unchanged(monkeypatch):
    import lightning as L

    from tsfm.training.trainer_build import make_trainer

    def fails(*args, **kwargs):
        raise ValueError("something else went wrong")

    monkeypatch.setattr(L, "Trainer", fails)
    with pytest.raises(ValueError, match="something else") as raised:
        make_trainer({"devices": 1, "max_epochs": 2})
    assert not isinstance(raised.value, InputError)


def test_a_refused_trainer_setting_ends_the_run_with_status_2(tmp_path):
    proc = run_cli(
        *TINY_ITRANSFORMER, *TINY_RUN, "trainer.devices=0", f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path, env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == INPUT_ERROR_STATUS, out[-3000:]
    assert "InputError: trainer.devices=0: lightning.Trainer refuses" in out
    assert "Traceback" not in out
