"""frame -> splits -> scaler -> windows -> batches, as one LightningDataModule."""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from tsfm.data.config import DataConfig
from tsfm.data.frame import SeriesTable, as_polars, build_table, read_file
from tsfm.data.sampling import eval_shard_sampler
from tsfm.data.scaler import StandardScaler
from tsfm.data.sources import get_spec, locate
from tsfm.data.splits import STAGES, Borders, compute_borders
from tsfm.data.timefeatures import time_features
from tsfm.data.windows import WindowDataset, passthrough_collate

log = logging.getLogger(__name__)
FEATURE_MODES = ("M", "S", "MS")


def as_data_config(config: DataConfig | DictConfig | dict | None) -> DataConfig:
    if config is None:
        return DataConfig()
    if isinstance(config, DataConfig):
        return config
    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    known = {f.name for f in fields(DataConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown data setting(s) {unknown}; known: {sorted(known)}")
    return DataConfig(**config)


class TimeSeriesDataModule(L.LightningDataModule):
    """The shared data layer of every model.

    Args:
        config: a :class:`DataConfig` (or a dict / DictConfig of its fields).
        frame: an in-memory pandas or polars frame to use instead of a file (wide: a date
            column plus one column per variate).
    """

    def __init__(self, config: DataConfig | DictConfig | dict | None = None, frame: Any = None):
        super().__init__()
        name = config.get("name") if isinstance(config, dict | DictConfig) else None
        if str(name or getattr(config, "name", "")).startswith("m4_"):
            raise ValueError(
                f"'{name or config.name}' is an M4 group; it is read by M4DataModule "
                "(tsfm.data.make_datamodule picks the right module for a config)"
            )
        self.config = cfg = as_data_config(config)
        if cfg.features not in FEATURE_MODES:
            raise ValueError(f"data.features must be one of {FEATURE_MODES}, got '{cfg.features}'")
        if cfg.train_variates is not None and cfg.features != "M":
            raise ValueError("data.train_variates (efficient training) needs data.features=M")
        self.frame = frame
        self.table: SeriesTable | None = None
        self.scaler: StandardScaler | None = None
        self.borders: Borders | None = None
        self.datasets: dict[str, WindowDataset] = {}

    # ------------------------------------------------------------------ loading and splitting
    def load_table(self) -> SeriesTable:
        cfg = self.config
        allow_dups = False
        if self.frame is not None:
            df = as_polars(self.frame)
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

    def split_kind(self) -> str:
        if self.frame is not None or self.config.name == "custom":
            return "ratio"
        return get_spec(self.config.name).split

    def time_feature_freq(self, dates: np.ndarray) -> str:
        cfg = self.config
        if cfg.freq:
            return cfg.freq
        if self.frame is None and cfg.name != "custom":
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
        """Row borders of the splits; subclasses may place them explicitly."""
        cfg = self.config
        return compute_borders(
            self.split_kind(),
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

    def dims(self) -> dict[str, int]:
        """The data-derived arguments a model may take."""
        cfg = self.config
        return {
            "seq_len": cfg.seq_len,
            "pred_len": cfg.pred_len,
            "n_vars": self.n_vars,
            "n_marks": self.n_marks,
        }

    def window_counts(self) -> dict[str, int]:
        self.setup()
        return {name: len(ds) for name, ds in self.datasets.items()}

    def describe(self) -> dict[str, Any]:
        """Protocol metadata stored beside every result."""
        self.setup()
        return {
            "dataset": self.config.name,
            "columns": self.columns,
            "borders": asdict(self.borders),
            "windows": self.window_counts(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
        }

    # ------------------------------------------------------------------ loaders
    def _loader(self, name: str, *, train: bool) -> DataLoader:
        self.setup()
        cfg, dataset = self.config, self.datasets[name]
        batch_size = cfg.batch_size if train else cfg.eval_batch_size
        drop_last = train and cfg.drop_last and len(dataset) >= batch_size
        if train and cfg.drop_last and not drop_last:
            log.warning(
                "only %d training windows, fewer than one batch: keeping them all", len(dataset)
            )
        # Under DDP, Lightning's DistributedSampler pads evaluation sets with repeated windows;
        # an unpadded shard per rank counts every window exactly once.
        sampler = None if train else eval_shard_sampler(dataset, getattr(self, "trainer", None))
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=train,
            sampler=sampler,
            drop_last=drop_last,
            collate_fn=passthrough_collate,
            num_workers=cfg.num_workers,
            persistent_workers=cfg.num_workers > 0,
            pin_memory=cfg.pin_memory,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)
