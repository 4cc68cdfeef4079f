"""The shared data layer: frame -> splits -> scaler -> windows -> batches.

Named contracts where it meets the rest: :class:`Batch` (every key a batch may carry),
:class:`ForecastDataModule` (what the pipeline reads from a data module) and
:class:`SeriesTable` (the one table type, read by :mod:`tsfm.data.frames`).
"""

from collections.abc import Mapping
from typing import Any

from tsfm.data.batch import BATCH_KEYS, TARGET_KEYS, Batch
from tsfm.data.config import DataConfig
from tsfm.data.contract import FixedWindows, ForecastDataModule
from tsfm.data.datamodule import TimeSeriesDataModule
from tsfm.data.frames import SeriesTable, build_table, read_file, read_frame
from tsfm.data.m4 import M4_GROUPS, M4DataConfig, M4DataModule
from tsfm.data.scaler import StandardScaler
from tsfm.data.sources import DATASETS, DatasetSpec
from tsfm.data.splits import Borders, compute_borders
from tsfm.data.timefeatures import time_features
from tsfm.data.windows import WindowDataset

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

DATA_MODULES: dict[str, type[ForecastDataModule]] = {
    "windows": TimeSeriesDataModule,
    "m4": M4DataModule,
}
"""Which class reads a dataset, by the ``datamodule`` its :class:`DatasetSpec` declares."""


def make_datamodule(config: Any = None) -> ForecastDataModule:
    """The data module that reads ``config.name``: the one its dataset spec declares
    (``custom`` data and unregistered names: :class:`TimeSeriesDataModule`)."""
    name = config.get("name") if isinstance(config, Mapping) else getattr(config, "name", None)
    spec = DATASETS.get(name) if isinstance(name, str) else None
    return DATA_MODULES[spec.datamodule if spec else "windows"](config)
