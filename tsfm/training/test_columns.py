"""A checkpoint tested on other data (``train=false ckpt_path=...``) by a model that forecasts
only the variates it was trained on (its capabilities lack ``new_variates``: a weight per
variate): the data's columns are put in the checkpoint's order by name, and data with other
names is refused. Applied by position, each variate would go through another variate's
weights, silently.

Every checkpoint records the names of its time-varying columns, targets first
(``checkpoint["tsfm_columns"]``; older ones only with their scaler,
:mod:`tsfm.training.test_scaler`). Models with ``new_variates`` take any variates and are
tested on the data as it is.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from omegaconf import DictConfig

from tsfm.data.datamodule import TimeSeriesDataModule
from tsfm.data.roles import ColumnRoles
from tsfm.errors import InputError
from tsfm.models import capabilities
from tsfm.training.checkpoint_files import load_checkpoint
from tsfm.training.test_scaler import KEY as SCALER_KEY
from tsfm.training.test_scaler import scaled_for_test

KEY = "tsfm_columns"
log = logging.getLogger(__name__)


def columns_record(datamodule: Any) -> list[str] | None:
    """What a checkpoint records of ``datamodule``'s columns: the time-varying ones, in the
    order the model sees them (None where a sample is one series: panels, M4)."""
    if not isinstance(datamodule, TimeSeriesDataModule) or datamodule.table is None:
        return None
    return [str(c) for c in datamodule.table.columns]


def recorded_columns(state: Any) -> list[str] | None:
    """The column names a checkpoint ``state`` records (None: it records none)."""
    if not isinstance(state, dict):
        return None
    names = state.get(KEY)
    if names is None:
        names = (state.get(SCALER_KEY) or {}).get("columns")
    return [str(c) for c in names] if isinstance(names, list) else None


def data_for_test(cfg: DictConfig, datamodule: Any) -> Any:
    """The data a run tests on: ``datamodule`` with a tested checkpoint's column order
    (:func:`aligned_for_test`) and, with ``test_scaler=checkpoint``, its scaler."""
    return scaled_for_test(cfg, aligned_for_test(cfg, datamodule))


def aligned_for_test(cfg: DictConfig, datamodule: Any) -> Any:
    """``datamodule`` (set up), or for a test of ``ckpt_path`` by a model without
    ``new_variates``: the same data with its columns in the checkpoint's order; data with
    other column names is refused."""
    if cfg.train or not cfg.get("ckpt_path") or capabilities(cfg.model.name).new_variates:
        return datamodule
    if not isinstance(datamodule, TimeSeriesDataModule) or datamodule.config.channel_independent:
        return datamodule  # one series, or one variate, per sample: no column to match
    path = cfg.ckpt_path
    saved = recorded_columns(load_checkpoint(path, "cpu", "ckpt_path", mmap=True))
    columns = columns_record(datamodule)
    if saved is None:
        log.warning(
            "ckpt_path: %s records no column names (written before tsfm recorded them), so "
            "model '%s', which forecasts only the variates it was trained on, is tested on "
            "the columns %s in this order, unchecked",
            path, cfg.model.name, columns,
        )  # fmt: skip
        return datamodule
    if columns == saved:
        return datamodule
    why = (
        f"model '{cfg.model.name}' forecasts only the variates it was trained on (it has a "
        f"weight per variate: no new_variates capability), and {path} was trained on the "
        f"columns {saved}"
    )
    if sorted(columns) != sorted(saved):
        missing = [c for c in saved if c not in columns]
        new = [c for c in columns if c not in saved]
        raise InputError(
            f"{why}; this data has {columns} (missing: {missing}; not in the checkpoint's: "
            f"{new}). Test it on data with those columns (any order), or use a model that "
            "forecasts any variates (such as iTransformer)"
        )
    roles = datamodule.roles
    if not _same_roles(roles, saved):
        raise InputError(
            f"{why} (targets first, then past, then future covariates); this data gives them "
            f"other roles: targets {list(roles.targets)}, past covariates {list(roles.past)}, "
            f"future covariates {list(roles.future)}. Give each column the role it was "
            "trained with (data.target, data.targets, data.features, data.past_covariates, "
            "data.future_covariates as in the checkpoint's run)"
        )
    aligned = _in_order(datamodule, saved)
    if aligned is None or columns_record(aligned) != saved:
        raise InputError(
            f"{why}, in that order; this data has them as {columns}, and a long file's series "
            "(read in id order) or a frame's columns cannot be reordered: give the data its "
            "columns in the checkpoint's order"
        )
    log.info("ckpt_path: the data's columns %s put in the checkpoint's order %s", columns, saved)
    return aligned


def _split(roles: ColumnRoles, saved: list[str]) -> list[list[str]]:
    """``saved`` cut as ``roles`` cuts its columns: targets, past and future covariates."""
    n_targets, n_past = len(roles.targets), len(roles.past)
    return [saved[:n_targets], saved[n_targets : n_targets + n_past], saved[n_targets + n_past :]]


def _same_roles(roles: ColumnRoles, saved: list[str]) -> bool:
    parts = _split(roles, saved)
    return [set(p) for p in parts] == [set(roles.targets), set(roles.past), set(roles.future)]


def _in_order(datamodule: TimeSeriesDataModule, saved: list[str]) -> TimeSeriesDataModule | None:
    """The same data read with its columns in the order ``saved`` (each keeping its role;
    None for a long file or a frame, whose order is not a setting)."""
    if datamodule.config.id_col is not None or datamodule.in_memory:
        return None
    targets, past, future = _split(datamodule.roles, saved)
    config = dataclasses.replace(
        datamodule.config, targets=targets, past_covariates=past, future_covariates=future
    )
    aligned = TimeSeriesDataModule(config, names=datamodule.names)
    aligned.setup()
    return aligned
