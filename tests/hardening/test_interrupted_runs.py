"""Ctrl-C on the command line: Lightning's graceful stop (checkpoints kept) ends with one line
saying how to continue (or start again), and the command it gives does; an interrupted study
says that the same command continues it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.helpers.data import REPO
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.training.checkpoints import load_checkpoint
from tsfm.training.run_dirs import interrupted_line

RUN = [*TINY_ITRANSFORMER, *(o for o in TINY_RUN if o != "trainer.max_epochs=1")]
TINY_TUNE = [*TINY_ITRANSFORMER, "trainer.max_epochs=2", "trainer.limit_train_batches=4"]
TINY_TUNE += ["trainer.limit_val_batches=2", "trainer.enable_progress_bar=false", "logger=none"]
# python -m ENTRY (tsfm.run, tsfm.tune), with Ctrl-C (SIGINT to the process) after training
# step AT
CTRL_C = """
import importlib, os, signal, sys
from lightning.pytorch.callbacks import Callback
import tsfm.pipeline

class CtrlC(Callback):
    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step == int(os.environ["AT"]):
            os.kill(os.getpid(), signal.SIGINT)

built = tsfm.pipeline.build_callbacks
tsfm.pipeline.build_callbacks = lambda cfg, run_dir: [*built(cfg, run_dir), CtrlC()]
entry = os.environ["ENTRY"]
module, args = importlib.import_module(entry), sys.argv[1:]
if entry == "tsfm.tune":
    args = module._logs_in_the_study_folder(args)
sys.argv = [entry, *args]
module.main()
"""


def interrupted_run(
    tmp_path: Path, at: int, *args: str, entry: str = "tsfm.run"
) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-c", CTRL_C, *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "AT": str(at), "ENTRY": entry},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode, proc.stdout + proc.stderr


def command_after(text: str, marker: str) -> list[str]:
    """The arguments of the ``python -m tsfm.run ...`` command that follows ``marker``."""
    line = next(line for line in text.splitlines() if marker in line)
    words = shlex.split(line.split(marker, 1)[1])
    assert words[:3] == ["python", "-m", "tsfm.run"]
    return words[3:]


@pytest.mark.slow
def test_ctrl_c_after_an_epoch_says_how_to_continue_and_that_command_does(tmp_path):
    run_dir = tmp_path / "run"
    code, out = interrupted_run(
        tmp_path, 4, *RUN, "trainer.max_epochs=3", f"hydra.run.dir={run_dir}"
    )
    assert code == 1, out[-3000:]
    assert "Traceback" not in out and "Detected KeyboardInterrupt" not in out
    assert [line for line in out.splitlines() if "interrupted" in line] == [
        "interrupted after 1 finished epoch; checkpoints/last.ckpt keeps the last finished "
        f"epoch. To continue: {shlex.join(['python', '-m', 'tsfm.run', *RUN])} "
        f"trainer.max_epochs=3 hydra.run.dir={run_dir} resume=true"
    ]
    assert load_checkpoint(run_dir / "checkpoints" / "last.ckpt")["epoch"] == 0
    resumed = run_cli(*command_after(out, "To continue: "), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 3


@pytest.mark.slow
def test_ctrl_c_before_any_epoch_finished_then_resume_says_to_start_again(tmp_path):
    run_dir = tmp_path / "run"
    code, out = interrupted_run(tmp_path, 1, *RUN, f"hydra.run.dir={run_dir}")
    assert code == 1 and "Traceback" not in out, out[-3000:]
    assert "interrupted after 0 finished epochs: no epoch finished, nothing to continue" in out
    again = command_after(out, "To start again: ")
    resumed = run_cli(*again, "resume=true", cwd=tmp_path)
    assert resumed.returncode != 0
    assert "no epoch of a run in this directory finished" in resumed.stderr
    assert "the same command without resume=true" in resumed.stderr
    assert run_cli(*again, cwd=tmp_path).returncode == 0  # the directory is accepted


@pytest.mark.slow
def test_an_interrupted_study_says_so_in_a_line_and_the_same_command_continues_it(tmp_path):
    study = tmp_path / "study"
    args = [*TINY_TUNE, "+tune.params={optim.lr:'choice(0.001, 0.002)'}", "tune.n_trials=2"]
    args.append(f"tune.dir={study}")
    code, out = interrupted_run(tmp_path, 5, *args, entry="tsfm.tune")
    assert code == 1 and "Traceback" not in out, out[-3000:]
    assert out.strip().splitlines()[-1] == (
        "tuning interrupted during a trial, after 1 finished epoch(s); the study keeps its "
        "finished trials: run the same command again to continue it"
    )
    again = subprocess.run(
        [sys.executable, "-m", "tsfm.tune", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    storage = f"sqlite:///{study / 'study.db'}"
    trials = optuna.load_study(study_name="itransformer_etth1_24_8", storage=storage).trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]


def test_the_interrupted_line_without_last_ckpt(tmp_path):
    line = interrupted_line(tmp_path, ["seed=1", "resume=true"], 0)
    assert line == (
        "interrupted after 0 finished epochs: no epoch finished, nothing to continue. To start "
        f"again: python -m tsfm.run seed=1 hydra.run.dir={tmp_path}"
    )
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best.ckpt").write_text("")
    assert "save_last=false): start the run again with another hydra.run.dir" in (
        interrupted_line(tmp_path, [], 2)
    )
