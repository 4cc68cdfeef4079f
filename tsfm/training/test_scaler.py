"""``test_scaler``: which scaler ``train=false ckpt_path=...`` tests a checkpoint with.

``data`` (the default): a scaler fitted on the tested data's own training split, the
convention of the papers' zero-shot and transfer tests (a checkpoint tested on other data is
scored as a model of that data would be). ``checkpoint``: the scaler of the data the
checkpoint was trained on, as ``Forecaster.from_run(run).predict`` scales new data. Every
checkpoint records that scaler (every time-varying column, targets first:
``checkpoint["tsfm_input_scaler"]``); one written before the record holds its targets'
scaling only, which is enough for data without covariates.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from tsfm.data.datamodule import TimeSeriesDataModule
from tsfm.data.scaler import StandardScaler
from tsfm.errors import InputError
from tsfm.training.checkpoints import load_checkpoint

TEST_SCALERS = ("data", "checkpoint")
KEY = "tsfm_input_scaler"


def input_scaler_record(datamodule: Any) -> dict[str, list] | None:
    """What a checkpoint records of the input scaler of ``datamodule``'s data (None: no
    single scaler, as for unscaled data, panels of independent series and M4)."""
    scaler = getattr(datamodule, "input_scaler", None)
    if not isinstance(datamodule, TimeSeriesDataModule) or scaler is None:
        return None
    return {**scaler.state_dict(), "columns": [str(c) for c in datamodule.table.columns]}


def check_test_scaler(cfg: DictConfig) -> None:
    """Refuse an unknown ``test_scaler``, or ``checkpoint`` without a checkpoint to test."""
    value = cfg.get("test_scaler", "data")
    if value not in TEST_SCALERS:
        raise InputError(f"test_scaler must be 'data' or 'checkpoint', got {value!r}")
    if value == "checkpoint" and (cfg.train or not cfg.get("ckpt_path")):
        raise InputError(
            "test_scaler=checkpoint tests the weights of ckpt_path with the scaler of the data "
            "they were trained on: it needs train=false and ckpt_path (a run that trains tests "
            "with the scaler of its own training split)"
        )


def scaled_for_test(cfg: DictConfig, datamodule: Any) -> Any:
    """``datamodule`` (set up), or with ``test_scaler=checkpoint`` the same data set up again
    with the scaler the checkpoint of ``ckpt_path`` records."""
    if cfg.get("test_scaler", "data") != "checkpoint":
        return datamodule
    path = cfg.ckpt_path
    state = load_checkpoint(path, "cpu", "ckpt_path", mmap=True)
    scaler = checkpoint_scaler(state, datamodule, path)
    if scaler is None:  # neither the checkpoint's data nor this data is scaled
        return datamodule
    rescaled = TimeSeriesDataModule(datamodule.config, scaler=scaler)
    rescaled.setup()
    return rescaled


def checkpoint_scaler(state: Any, datamodule: Any, path: Any) -> StandardScaler | None:
    """The input scaler the checkpoint ``state`` (read from ``path``) records, checked
    against the time-varying columns of ``datamodule`` (set up with its own scaler): matched
    to them by name (in the data's order); a checkpoint written before the record named its
    columns is refused."""
    if not isinstance(datamodule, TimeSeriesDataModule):
        raise InputError(
            "test_scaler=checkpoint scales a wide or jointly read file with one scaler; this "
            "data scales each series by its own rows (data.mode=independent, M4): use "
            "test_scaler=data"
        )
    recorded = state.get(KEY) if isinstance(state, dict) else None
    hparams = state.get("hyper_parameters") if isinstance(state, dict) else None
    targets = (hparams or {}).get("scaler")
    trained_scaled, scaled = (
        recorded is not None or targets is not None,
        datamodule.input_scaler is not None,
    )
    if not trained_scaled and not scaled:
        return None
    if trained_scaled != scaled:
        raise InputError(
            f"test_scaler=checkpoint: {path} was trained on "
            f"{'scaled' if trained_scaled else 'unscaled'} data, but this run has "
            f"data.scale={str(scaled).lower()}: set data.scale={str(trained_scaled).lower()} to "
            "test it as it was trained, or use test_scaler=data"
        )
    columns = [str(c) for c in datamodule.table.columns]
    if recorded is None:  # a record without names could not be matched to these columns
        raise InputError(
            f"test_scaler=checkpoint: {path} was written before tsfm recorded its scaler with "
            "the names of its columns, so that scaling cannot be matched to this data's "
            f"columns {columns} (a long file's series, for one, are now read in id order): use "
            "test_scaler=data, or train it again"
        )
    scaler, saved = StandardScaler.from_state_dict(recorded), recorded.get("columns")
    if isinstance(saved, list) and sorted(map(str, saved)) != sorted(columns):
        missing = [c for c in saved if str(c) not in columns]
        extra = [c for c in columns if c not in map(str, saved)]
        raise InputError(
            f"test_scaler=checkpoint: {path} was trained on {saved}, each scaled on its own; "
            f"this data has the columns {columns}, which that scaling does not fit (missing: "
            f"{missing}; not in the checkpoint's: {extra}): test it on data with the same "
            "column names, or use test_scaler=data"
        )
    if scaler.mean.ndim != 1 or len(scaler.mean) != len(columns):
        raise InputError(
            f"test_scaler=checkpoint: {path} was trained on {saved}, each scaled on its own; "
            f"this data has the columns {columns}, which that scaling does not fit: test it on "
            "data with the same columns, or use test_scaler=data"
        )
    if isinstance(saved, list):  # the same columns, maybe in another order: by name
        order = [[str(c) for c in saved].index(c) for c in columns]
        scaler = StandardScaler(scaler.mean[order], scaler.std[order])
    return scaler
