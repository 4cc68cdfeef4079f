"""Training goes on from a checkpoint only on the data it was trained on: ``resume=true`` (or
``ckpt_path`` with ``train=true``) on a file that grew or on another file with the same
columns is refused, naming what changed and the fixes (otherwise the run would split and
scale afresh, and early stopping and best.ckpt would compare losses over another validation
set). Testing a checkpoint on other data (``train=false``) still works."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.training.checkpoints import load_checkpoint

CHANGED = r"was trained on other data than this run reads"
FIXES = r"give it the data it read.*new run on this data .*warm_start=True"


def settings(path, *more):
    return ["data=custom", f"data.path={path}", *TINY_ITRANSFORMER, *TINY_RUN, "test=false", *more]


@pytest.fixture
def interrupted(tmp_path):
    """A run of 2 epochs on 300 rows of a file, its directory and the file."""
    path = tmp_path / "grows.csv"
    synthetic_frame(300).to_csv(path, index=False)
    run_dir = tmp_path / "run"
    fit_and_test(compose_config(*settings(path, "trainer.max_epochs=2")), run_dir)
    return run_dir, path


def test_checkpoints_record_the_data_they_were_trained_on(interrupted):
    run_dir, _ = interrupted
    record = load_checkpoint(run_dir / "checkpoints" / "last.ckpt")["tsfm_data"]
    assert record["data_rows"] == 300 and len(record["data_sha256"]) == 64


def test_resume_refuses_a_file_that_grew_since(interrupted):
    run_dir, path = interrupted
    synthetic_frame(400).to_csv(path, index=False)  # the next rows appended
    cfg = compose_config(*settings(path, "trainer.max_epochs=3", "resume=true"))
    with pytest.raises(ValueError, match=rf"resume=true: .*{CHANGED}: 300 rows .*now 400 rows"):
        fit_and_test(cfg, run_dir)
    with pytest.raises(ValueError, match=rf"split and scale the new data afresh.*{FIXES}"):
        fit_and_test(cfg, run_dir)


def test_resume_refuses_another_file_with_the_same_columns(interrupted, tmp_path):
    run_dir, _ = interrupted
    other = tmp_path / "other.csv"
    synthetic_frame(300, seed=1).to_csv(other, index=False)
    cfg = compose_config(*settings(other, "trainer.max_epochs=3", "resume=true"))
    with pytest.raises(ValueError, match=rf"resume=true: .*{CHANGED}: 300 rows"):
        fit_and_test(cfg, run_dir)


def test_a_checkpoint_without_the_record_is_checked_by_its_scaler(interrupted):
    run_dir, path = interrupted
    last = run_dir / "checkpoints" / "last.ckpt"
    state = load_checkpoint(last)
    del state["tsfm_data"]  # as written before checkpoints recorded their data
    torch.save(state, last)
    synthetic_frame(400).to_csv(path, index=False)
    cfg = compose_config(*settings(path, "trainer.max_epochs=3", "resume=true"))
    with pytest.raises(ValueError, match=rf"{CHANGED}: .*other scaling statistics"):
        fit_and_test(cfg, run_dir)


def test_the_same_data_resumes(interrupted):
    run_dir, path = interrupted
    cfg = compose_config(*settings(path, "trainer.max_epochs=3", "resume=true"))
    assert fit_and_test(cfg, run_dir).metrics["epochs"] == 3


def test_ckpt_path_trains_on_only_from_its_data_but_tests_on_any(interrupted, tmp_path):
    run_dir, path = interrupted
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    synthetic_frame(400).to_csv(path, index=False)
    more = settings(path, "trainer.max_epochs=3", f"ckpt_path={ckpt}")
    with pytest.raises(ValueError, match=rf"ckpt_path: .*{CHANGED}.*without ckpt_path"):
        fit_and_test(compose_config(*more), tmp_path / "on")
    tested = settings(path, "train=false", "test=true", f"ckpt_path={ckpt}")
    assert fit_and_test(compose_config(*tested), tmp_path / "test").metrics["test/mse"] > 0
