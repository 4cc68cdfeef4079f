"""The shared data layer: frame -> splits -> scaler -> windows -> batches."""

from collections.abc import Mapping
from typing import Any

from tsfm.data.config import DataConfig
from tsfm.data.datamodule import TimeSeriesDataModule
from tsfm.data.frame import SeriesTable, build_table, read_file
from tsfm.data.m4 import M4_GROUPS, M4DataConfig
from tsfm.data.m4_datamodule import M4DataModule
from tsfm.data.scaler import StandardScaler
from tsfm.data.sources import DATASETS, DatasetSpec
from tsfm.data.splits import Borders, compute_borders
from tsfm.data.timefeatures import time_features
from tsfm.data.windows import WindowDataset

__all__ = [
    "DATASETS",
    "Borders",
    "DataConfig",
    "DatasetSpec",
    "M4_GROUPS",
    "M4DataConfig",
    "M4DataModule",
    "SeriesTable",
    "StandardScaler",
    "TimeSeriesDataModule",
    "WindowDataset",
    "build_table",
    "make_datamodule",
    "compute_borders",
    "read_file",
    "time_features",
]


def make_datamodule(config: Any = None, frame: Any = None) -> TimeSeriesDataModule | M4DataModule:
    """The data module for ``config.name``: M4 groups (``m4_<group>``) get :class:`M4DataModule`,
    everything else :class:`TimeSeriesDataModule`."""
    name = config.get("name") if isinstance(config, Mapping) else getattr(config, "name", None)
    if isinstance(name, str) and name.startswith("m4_"):
        if frame is not None:
            raise ValueError("M4 data is read from the competition files; it takes no frame")
        return M4DataModule(config)
    return TimeSeriesDataModule(config, frame=frame)
