"""The data a checkpoint was trained on, recorded in it and checked before training goes on.

Every checkpoint a run writes holds ``checkpoint["tsfm_data"]``: the rows and SHA-256 of the
data read (what metrics.json records as ``data_rows`` and ``data_sha256``). A run that
continues training from a checkpoint (``resume=true``, or ``ckpt_path`` with ``train=true``)
must read the same data: on other rows the split, the scaler, and the validation set that
early stopping and ``best.ckpt`` compare losses over would all change silently. Checkpoints
written before the record are checked by their scaler's statistics (the training rows').
Testing a checkpoint (``train=false``) on other data stays allowed: it is scored there.
Checkpoints also record the input scaler (:mod:`tsfm.training.test_scaler`) and the names of
the columns (:mod:`tsfm.training.test_columns`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from lightning.pytorch.callbacks import Callback

from tsfm.errors import InputError
from tsfm.training.checkpoint_files import load_checkpoint
from tsfm.training.test_columns import KEY as COLUMNS_KEY
from tsfm.training.test_columns import columns_record
from tsfm.training.test_scaler import KEY as SCALER_KEY
from tsfm.training.test_scaler import input_scaler_record

KEY = "tsfm_data"


def data_record(datamodule: Any) -> dict[str, Any] | None:
    """The rows and digest of ``datamodule``'s data, or None where it records none."""
    protocol = datamodule.protocol()
    if protocol.get("data_sha256") is None:
        return None
    return {"data_rows": protocol.get("data_rows"), "data_sha256": protocol["data_sha256"]}


class RecordData(Callback):
    """Writes :func:`data_record` of the run's data into every checkpoint saved."""

    def __init__(self, datamodule: Any) -> None:
        self.datamodule = datamodule
        self._record: dict[str, Any] | None = None
        self._scaler: dict[str, list] | None = None
        self._columns: list[str] | None = None

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict) -> None:
        if self._record is None:
            self._record = data_record(self.datamodule) or {}
            self._scaler = input_scaler_record(self.datamodule)
            self._columns = columns_record(self.datamodule)
        if self._record:
            checkpoint[KEY] = dict(self._record)
        if self._scaler is not None:  # what test_scaler=checkpoint scales other data with
            checkpoint[SCALER_KEY] = dict(self._scaler)
        if self._columns is not None:  # what a test of another file's columns is matched to
            checkpoint[COLUMNS_KEY] = list(self._columns)


def same_scaling(saved: Any, now: Any) -> bool:
    """Whether two recorded scalers (``{'mean', 'std'}``, or None) are the same to 1e-9."""
    if saved is None or now is None:
        return saved is None and now is None
    try:
        return all(
            np.allclose(np.asarray(saved[k]), np.asarray(now[k]), rtol=1e-9, atol=0)
            for k in ("mean", "std")
        )
    except (KeyError, ValueError, TypeError):  # other shapes: the size check names them
        return False


def _fixes(setting: str) -> str:
    again = (
        "start a new run on this data (without resume=true, with hydra.run.dir at another "
        "directory)"
        if setting == "resume=true"
        else "train anew on this data (without ckpt_path)"
    )
    return (
        f"To continue the run, give it the data it read (the file as it was then). Otherwise "
        f"{again}; to fine-tune the trained weights on new data, use a Forecaster with "
        "warm_start=True (README, Warm starts and fine-tuning)"
    )


def check_same_training_data(path: str | Path, datamodule: Any, module: Any, setting: str) -> None:
    """Refuse to continue training from the checkpoint at ``path`` on data other than the
    data it was trained on (its recorded digest, else its scaler's statistics), naming what
    changed and the fixes; ``setting`` says how the run chose the file."""
    checkpoint = load_checkpoint(path, "cpu", setting, mmap=True)
    recorded = checkpoint.get(KEY) if isinstance(checkpoint, dict) else None
    if isinstance(recorded, dict) and recorded.get("data_sha256"):
        now = data_record(datamodule)
        if now is not None and now["data_sha256"] != recorded["data_sha256"]:
            raise InputError(
                f"{setting}: {path} was trained on other data than this run reads: "
                f"{recorded.get('data_rows')} rows (SHA-256 {recorded['data_sha256'][:12]}...)"
                f", now {now['data_rows']} rows (SHA-256 {now['data_sha256'][:12]}...); the "
                "data file changed (rows added or edited) or data.path points at another one"
                f"{_long_order(datamodule, recorded, now)}. "
                "Training on would split and scale the new data afresh, and early stopping and "
                f"best.ckpt would compare losses over another validation set. {_fixes(setting)}"
            )
        return
    saved = (checkpoint.get("hyper_parameters") or {}).get("scaler")
    if not same_scaling(saved, module.hparams.get("scaler")):
        raise InputError(
            f"{setting}: {path} was trained on other data than this run reads: the training "
            "rows read now give other scaling statistics than those the checkpoint recorded; "
            "the data file changed or data.path points at another one. Training on would "
            "scale the data afresh, and early stopping and best.ckpt would compare losses "
            f"over another validation set. {_fixes(setting)}"
        )


def _long_order(datamodule: Any, recorded: dict, now: dict) -> str:
    """The other cause of a new digest for a long file of the same rows: tsfm now reads its
    series in id order, where checkpoints written before read them in the file's order."""
    long = getattr(getattr(datamodule, "config", None), "id_col", None) is not None
    if not long or recorded.get("data_rows") != now["data_rows"]:
        return ""
    return (
        ", or (a long file of as many rows) the checkpoint was written by a tsfm that read "
        "its series in the file's order, where they are now read in id order"
    )
