"""The shared data layer: frame -> splits -> scaler -> windows -> batches.

Named contracts where it meets the rest: :class:`Batch` (every key a batch may carry),
:class:`ForecastDataModule` (what the pipeline reads from a data module) and
:class:`SeriesTable` (the one table type, read by :mod:`tsfm.data.frames`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

# Imported on first use, so that reading frames does not import torch or Lightning.
_EXPORTS = {
    "BATCH_KEYS": "tsfm.data.batch",
    "TARGET_KEYS": "tsfm.data.batch",
    "Batch": "tsfm.data.batch",
    "DataConfig": "tsfm.data.config",
    "FixedWindows": "tsfm.data.contract",
    "ForecastDataModule": "tsfm.data.contract",
    "TimeSeriesDataModule": "tsfm.data.datamodule",
    "SeriesTable": "tsfm.data.frames",
    "build_table": "tsfm.data.frames",
    "read_file": "tsfm.data.frames",
    "read_frame": "tsfm.data.frames",
    "M4_GROUPS": "tsfm.data.m4",
    "M4DataConfig": "tsfm.data.m4",
    "M4DataModule": "tsfm.data.m4",
    "StandardScaler": "tsfm.data.scaler",
    "DATASETS": "tsfm.data.sources",
    "DatasetSpec": "tsfm.data.sources",
    "Borders": "tsfm.data.splits",
    "compute_borders": "tsfm.data.splits",
    "time_features": "tsfm.data.timefeatures",
    "WindowDataset": "tsfm.data.windows",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tsfm.data' has no attribute {name!r}")


__all__ = [
    "BATCH_KEYS",
    "DATASETS",
    "TARGET_KEYS",
    "Batch",
    "Borders",
    "DataConfig",
    "DatasetSpec",
    "FixedWindows",
    "ForecastDataModule",
    "M4_GROUPS",
    "M4DataConfig",
    "M4DataModule",
    "SeriesTable",
    "StandardScaler",
    "TimeSeriesDataModule",
    "WindowDataset",
    "build_table",
    "compute_borders",
    "make_datamodule",
    "read_file",
    "read_frame",
    "time_features",
]

DATA_MODULES = {
    "windows": "tsfm.data.datamodule:TimeSeriesDataModule",
    "m4": "tsfm.data.m4:M4DataModule",
    "panel": "tsfm.data.panel_files:panel_file_datamodule",
}
"""Which class reads a dataset, by the ``datamodule`` its :class:`DatasetSpec` declares."""


def make_datamodule(config: Any = None) -> Any:
    """The data module that reads ``config.name``: the one its dataset spec declares
    (``custom`` data and unregistered names: :class:`TimeSeriesDataModule`, or with
    ``data.mode=independent`` :func:`tsfm.data.panel_files.panel_file_datamodule`)."""
    return _datamodule_maker(config)(config)


def forecast_scores(config: Any) -> tuple[str, ...]:
    """The scores the data module of ``config`` logs besides the error metrics (M4's sMAPE,
    MASE, OWA, ...), known before any data is read."""
    return tuple(getattr(_datamodule_maker(config), "forecast_scores", ()))


def _datamodule_maker(config: Any) -> Any:
    from tsfm.data.sources import DATASETS

    def setting(key: str) -> Any:
        return config.get(key) if isinstance(config, Mapping) else getattr(config, key, None)

    name = setting("name")
    spec = DATASETS.get(name) if isinstance(name, str) else None
    kind = spec.datamodule if spec else "windows"
    if kind == "windows" and setting("mode") not in (None, "joint"):
        kind = "panel"  # a long file of independent series (data.mode=independent)
    module, cls = DATA_MODULES[kind].split(":")
    return getattr(importlib.import_module(module), cls)
