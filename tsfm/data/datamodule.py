"""frame -> splits -> scaler -> windows -> batches, as one LightningDataModule."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from tsfm.data.config import DataConfig
from tsfm.data.contract import FixedWindows, ForecastDataModule, config_from
from tsfm.data.frames import SeriesTable, build_table, read_file, resolve_freq, to_polars
from tsfm.data.frames.regularity import check_calendar_freq, check_span, check_steps
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
        self.source = "the frame"  # where the data comes from, for messages
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
            self.source = str(cfg.path)
        else:
            spec = get_spec(cfg.name)
            path = locate(spec, cfg.root)
            df = read_file(path)
            self.source = f"dataset '{spec.name}' ({path})"
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

    @property
    def benchmark(self) -> bool:
        """Whether the data is a registered benchmark read from its file."""
        return not self.in_memory and self.config.name != "custom"

    def check_time_axis(self, dates: np.ndarray) -> str | None:
        """The data's sampling frequency, after checking the timestamps against it: a
        benchmark against its registered file (rows, span, steps), other data for regular
        steps (unless ``data.allow_irregular``); ``data.freq`` must describe it."""
        cfg = self.config
        if self.given_table is not None:  # the Forecaster's table, checked when it was read
            return cfg.freq
        if self.benchmark:
            spec = get_spec(cfg.name)
            check_span(dates, spec.rows, spec.span, self.source)
            check_steps(
                dates,
                spec.freq,
                breaks=spec.breaks,
                allow_duplicates=spec.allow_duplicate_timestamps,
                source=self.source,
            )
            sampling = spec.freq
        elif cfg.allow_irregular:
            sampling = None
        else:
            try:
                sampling = str(resolve_freq(dates))
            except ValueError as err:
                where = str(err).split(". Fill")[0]  # the row; the fix differs from Python's
                raise ValueError(
                    f"{self.source}: {where}. Fill the missing steps (e.g. interpolate), or set "
                    "data.allow_irregular=true to accept them (windows then run across the gaps)"
                ) from None
        if cfg.freq and sampling:
            check_calendar_freq(cfg.freq, sampling, benchmark=self.benchmark)
        return sampling

    def time_feature_freq(self, sampling: str | None) -> str:
        cfg = self.config
        if cfg.freq or sampling:
            return cfg.freq or sampling
        raise ValueError(
            "cannot tell the frequency of irregular timestamps; set data.freq (e.g. 'h', "
            "'15min', 'D') for the calendar features, or data.time_features=false"
        )

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.config
        table = self.table = self.load_table()
        sampling = None if table.dates is None else self.check_time_axis(table.dates)
        borders = self.borders = self.compute_split(len(table))
        used = table.values[: borders.test[1]]
        if cfg.scale:
            self.scaler = StandardScaler().fit(used[slice(*borders.scaler)], table.columns)
            used = self.scaler.transform(used)
        check_float32_range(used, table.columns, cfg.scale)
        values = torch.from_numpy(np.ascontiguousarray(used, dtype=np.float32))
        marks = None
        if cfg.time_features and table.dates is not None:
            freq = self.time_feature_freq(sampling)
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


def check_float32_range(values: np.ndarray, columns: list, scaled: bool) -> None:
    """Models compute in float32 (or lower): a value beyond its range would become inf."""
    limit = float(np.finfo(np.float32).max)
    too_large = np.abs(values).max(axis=0) > limit
    if too_large.any():
        bad = [columns[j] for j in np.flatnonzero(too_large)]
        fix = "rescale them" if scaled else "set data.scale=true or rescale them"
        raise ValueError(
            f"column(s) {bad} hold values beyond float32's range ({limit:.3g}), which the "
            f"models compute in; {fix} (e.g. divide by a power of ten)"
        )
