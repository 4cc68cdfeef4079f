"""frame -> splits -> scaler -> windows -> batches, as one LightningDataModule."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from tsfm.data.config import DataConfig
from tsfm.data.contract import FixedWindows, ForecastDataModule, config_from
from tsfm.data.frames import SeriesTable, build_table, read_file, to_polars
from tsfm.data.scaler import StandardScaler
from tsfm.data.sources import DATASETS, get_spec, locate
from tsfm.data.splits import STAGES, Borders, compute_borders
from tsfm.data.timefeatures import time_features
from tsfm.data.windows import WindowDataset

log = logging.getLogger(__name__)
FEATURE_MODES = ("M", "S", "MS")


class TimeSeriesDataModule(ForecastDataModule):
    """The shared data layer of every model over one wide multivariate series.

    Args:
        config: a :class:`DataConfig` (or a dict / DictConfig of its fields).
        frame: an in-memory pandas or polars frame to use instead of a file (wide: a date
            column plus one column per variate).
        table: an already checked :class:`SeriesTable` (the Forecaster's), used as it is.
        split: explicit split borders instead of the dataset's rule (the Forecaster's own
            train/validation split).
    """

    def __init__(
        self,
        config: DataConfig | DictConfig | dict | None = None,
        frame: Any = None,
        *,
        table: SeriesTable | None = None,
        split: Borders | None = None,
    ):
        super().__init__()
        self.config = cfg = config_from(DataConfig, config)
        spec = DATASETS.get(cfg.name)
        if spec is not None and spec.datamodule != "windows":
            raise ValueError(
                f"'{cfg.name}' is read by the '{spec.datamodule}' data module (M4DataModule for "
                "the M4 groups), not TimeSeriesDataModule; tsfm.data.make_datamodule picks the "
                "right module for a config"
            )
        if cfg.features not in FEATURE_MODES:
            raise ValueError(f"data.features must be one of {FEATURE_MODES}, got '{cfg.features}'")
        if cfg.train_variates is not None and cfg.features != "M":
            raise ValueError("data.train_variates (efficient training) needs data.features=M")
        self.frame, self.given_table, self.given_split = frame, table, split
        self.table: SeriesTable | None = None
        self.borders: Borders | None = None

    # ------------------------------------------------------------------ loading and splitting
    @property
    def in_memory(self) -> bool:
        return self.frame is not None or self.given_table is not None

    def load_table(self) -> SeriesTable:
        cfg = self.config
        if self.given_table is not None:
            return self.given_table.select(cfg.features)
        allow_dups = False
        if self.frame is not None:
            df = to_polars(self.frame)[0]
        elif cfg.name == "custom":
            if not cfg.path:
                raise ValueError("data.name=custom needs data.path (a CSV, CSV.gz or Parquet file)")
            df = read_file(cfg.path)
        else:
            spec = get_spec(cfg.name)
            df = read_file(locate(spec, cfg.root))
            allow_dups = spec.allow_duplicate_timestamps
        target = cfg.target or self._default_target(df)
        return build_table(
            df,
            date_col=cfg.date_col,
            target=target,
            columns=list(cfg.columns) if cfg.columns is not None else None,
            allow_duplicate_timestamps=allow_dups,
        ).select(cfg.features)

    def _default_target(self, df) -> str:
        if self.frame is None and self.config.name != "custom":
            return get_spec(self.config.name).target
        if self.config.columns:
            return self.config.columns[-1]
        return [c for c in df.columns if c != self.config.date_col][-1]

    def time_feature_freq(self, dates: np.ndarray) -> str:
        cfg = self.config
        if cfg.freq:
            return cfg.freq
        if not self.in_memory and cfg.name != "custom":
            return get_spec(cfg.name).freq
        inferred = pd.infer_freq(pd.DatetimeIndex(dates[: min(len(dates), 1000)]))
        if inferred is None:
            raise ValueError(
                "cannot infer the frequency of the timestamps (irregular steps); set data.freq "
                "(e.g. 'h', '15min', 'D') or data.time_features=false"
            )
        return inferred

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.config
        table = self.table = self.load_table()
        borders = self.borders = self.compute_split(len(table))
        used = table.values[: borders.test[1]]
        if cfg.scale:
            self.scaler = StandardScaler().fit(used[slice(*borders.scaler)])
            used = self.scaler.transform(used)
        values = torch.from_numpy(np.ascontiguousarray(used, dtype=np.float32))
        marks = None
        if cfg.time_features and table.dates is not None:
            freq = self.time_feature_freq(table.dates)
            marks = torch.from_numpy(time_features(table.dates[: borders.test[1]], freq))
        for name in STAGES:
            start, end = borders[name]
            if end <= start:  # a split left out on purpose (the estimator's fit has no test)
                continue
            self.datasets[name] = WindowDataset(
                values[start:end],
                None if marks is None else marks[start:end],
                cfg.seq_len,
                cfg.pred_len,
                channel_independent=cfg.channel_independent,
                sample_variates=cfg.train_variates if name == "train" else None,
            )

    def compute_split(self, n_rows: int) -> Borders:
        """Row borders of the splits: the given ones, or the dataset's rule."""
        if self.given_split is not None:
            return self.given_split
        cfg = self.config
        kind = "ratio" if self.in_memory or cfg.name == "custom" else get_spec(cfg.name).split
        return compute_borders(
            kind,
            n_rows,
            cfg.seq_len,
            cfg.pred_len,
            train_ratio=cfg.train_ratio,
            test_ratio=cfg.test_ratio,
            percent=cfg.percent,
            scaler_on_subset=cfg.scaler_on_subset,
        )

    # ------------------------------------------------------------------ what models need
    @property
    def n_vars(self) -> int:
        """Variates per sample as the model sees them (1 when channel-independent)."""
        self.setup()
        return 1 if self.config.channel_independent else len(self.table.columns)

    @property
    def n_marks(self) -> int:
        self.setup()
        marks = self.datasets["train"].marks
        return 0 if marks is None else marks.shape[1]

    @property
    def columns(self) -> list[str]:
        self.setup()
        return list(self.table.columns)

    def training_windows(self) -> FixedWindows | None:
        self.setup()
        train = self.datasets["train"]
        return FixedWindows(
            train.values, train.seq_len, train.stride, train.n_windows, self.config.name
        )
