"""The shared data layer: frame -> splits -> scaler -> windows -> batches."""

from tsfm.data.config import DataConfig
from tsfm.data.datamodule import TimeSeriesDataModule
from tsfm.data.frame import SeriesTable, build_table, read_file
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
    "SeriesTable",
    "StandardScaler",
    "TimeSeriesDataModule",
    "WindowDataset",
    "build_table",
    "compute_borders",
    "read_file",
    "time_features",
]
