"""Under DDP, what every process computes alike is said once: M4's scores logged without
Lightning's sync warning (and unchanged), tsfm's warnings and test notes by the first process
only, and a multirun's job folders in one sweep folder."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from unittest import mock

import pytest
import torch
import torch.distributed as dist
from lightning.fabric.utilities.warnings import PossibleUserWarning
from lightning.pytorch.trainer.connectors.logger_connector import result

from tests.helpers.data import synthetic_frame
from tests.helpers.m4 import write_m4_files
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.config import compose_config
from tsfm.data.user_warnings import warn_user
from tsfm.pipeline import build_datamodule, build_module, build_trainer, fit_and_test


def _m4_test(cfg, datamodule, run_dir: Path, **trainer: object) -> tuple[dict, list]:
    """The test scores of ``cfg``'s untrained module (seed 0) and Lightning's advice."""
    torch.manual_seed(0)
    module = build_module(cfg, datamodule)
    result.warning_cache.clear()  # Lightning warns once per process and message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = build_trainer(cfg, run_dir, **trainer)
        scores = built.test(module, datamodule=datamodule, verbose=False)
    return scores[0], [w for w in caught if issubclass(w.category, PossibleUserWarning)]


def test_m4_scores_are_logged_unchanged_without_the_sync_warning(tmp_path):
    write_m4_files(tmp_path, "Weekly")
    cfg = compose_config(
        "experiment=itransformer_m4_weekly",
        f"data.root={tmp_path}",
        *TINY_ITRANSFORMER[:4],
        *TINY_RUN,
        "callbacks=none",
    )
    datamodule = build_datamodule(cfg)
    alone, _ = _m4_test(cfg, datamodule, tmp_path / "alone")
    # DDP in one process (no other is started): Lightning's checks as under several
    with mock.patch.dict(os.environ):  # the launcher's variables, not kept
        try:
            synced, caught = _m4_test(cfg, datamodule, tmp_path / "ddp", strategy="ddp")
        finally:
            if dist.is_initialized():
                dist.destroy_process_group()
    assert not [str(w.message) for w in caught if "sync_dist" in str(w.message)]
    assert {"test/owa", "test/smape", "test/mase", "test/n_series"} <= set(synced)
    assert synced == alone  # bit for bit


def test_tsfm_warnings_come_from_the_first_process_only(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")  # a process Lightning's DDP launcher started
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_user("test: something to read with care")
    assert caught == []
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.warns(UserWarning, match="something to read with care"):
        warn_user("test: something to read with care")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "3")  # one process: whatever the rank says
    with pytest.warns(UserWarning, match="one process"):
        warn_user("one process")


def test_the_test_notes_are_logged_by_the_first_process_only(tmp_path, monkeypatch, caplog):
    frame = synthetic_frame(300)
    frame.loc[frame.index % 5 == 0, "v0"] = 0.0  # MAPE leaves these out, with a note
    frame.to_csv(tmp_path / "zeros.csv", index=False)
    data = ["data=custom", f"data.path={tmp_path / 'zeros.csv'}", "callbacks=none"]
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *data)
    import lightning as L

    monkeypatch.setattr(L.Trainer, "is_global_zero", property(lambda self: False))
    with caplog.at_level(logging.WARNING, logger="tsfm.pipeline"):
        metrics = fit_and_test(cfg, tmp_path / "run").metrics
    assert "MAPE leaves out" in metrics["test/warnings/mape_zeros"]  # still recorded
    assert not [r for r in caplog.records if r.getMessage().startswith("test: ")]


def test_a_multirun_pins_its_sweep_folder_for_the_other_processes():
    from tsfm.cli_errors import hydra_args
    from tsfm.run import pinned_sweep_dir

    run_dir = Path("/data/sweeps/multirun/2026-01-02_03-04-05/0")
    argv = ["-m", "trainer=ddp", "model.d_model=8,16"]
    pinned = pinned_sweep_dir(argv, run_dir, "0")
    assert pinned == [*argv, "hydra.sweep.dir='/data/sweeps/multirun/2026-01-02_03-04-05'"]
    assert pinned_sweep_dir(pinned, run_dir, "0") == pinned  # the other processes: as given
    own = ["-m", "hydra.sweep.dir=mine", "model.d_model=8,16"]
    assert pinned_sweep_dir(own, Path("/x/mine/1"), "1") == own
    assert pinned_sweep_dir(argv, run_dir, "d_model=8") == argv  # not under its sweep folder
    flags = ["-m", "model.d_model=8,16", "--cfg", "job"]  # overrides before a trailing flag
    assert (
        "hydra.sweep.dir='/data/sweeps/multirun/2026-01-02_03-04-05'"
        in hydra_args(pinned_sweep_dir(flags, run_dir, "0")).overrides
    )


@pytest.mark.slow
def test_a_ddp_multirun_writes_one_sweep_folder_and_says_its_notes_once(tmp_path):
    frame = synthetic_frame(300)
    frame.loc[frame.index % 5 == 0, "v0"] = 0.0
    frame.to_csv(tmp_path / "zeros.csv", index=False)
    proc = run_cli(
        "-m",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "data=custom",
        f"data.path={tmp_path / 'zeros.csv'}",
        *TINY_ITRANSFORMER[1:],
        "model.d_model=8",
        *TINY_RUN,
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweeps = list((tmp_path / "multirun").iterdir())
    assert len(sweeps) == 1, sweeps  # not a second folder of the other process's start time
    job = sweeps[0] / "0"
    assert (job / "metrics.json").is_file() and (job / "train_ddp_process_1.log").is_file()
    said = (proc.stdout + proc.stderr).count("test: MAPE leaves out")
    assert said == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
