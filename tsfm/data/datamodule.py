"""frame -> splits -> scaler -> windows -> batches, as one LightningDataModule."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl
import torch
from omegaconf import DictConfig

from tsfm.data.config import DataConfig
from tsfm.data.contract import FixedWindows, ForecastDataModule, config_from
from tsfm.data.extreme_values import table_extreme_values
from tsfm.data.frames import SeriesTable, to_polars
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.gaps import insert_absent_steps
from tsfm.data.frames.value_columns import refuse_boolean_targets
from tsfm.data.frames.write import typed_id_series
from tsfm.data.joint_config import check_joint_config, config_borders
from tsfm.data.long_files import read_long_file
from tsfm.data.robust_scaling import make_scaler
from tsfm.data.roles import CLI_NAMES, ColumnRoles, long_roles, resolve_roles
from tsfm.data.scaler import StandardScaler
from tsfm.data.seasonal_scales import batch_columns, history_scale, seasonal_prefix
from tsfm.data.sources import read_source
from tsfm.data.splits import STAGES, Borders
from tsfm.data.time_axis import check_time_axis, time_feature_freq
from tsfm.data.timefeatures import calendar_zone, time_features
from tsfm.data.values import check_float32_range, fill_forward
from tsfm.data.wide_tables import wide_table
from tsfm.data.windows import WindowDataset, side_inputs
from tsfm.errors import InputError

log = logging.getLogger(__name__)


class TimeSeriesDataModule(ForecastDataModule):
    """The shared data layer of every model over one wide multivariate series.

    Args:
        config: a :class:`DataConfig` (or a dict / DictConfig of its fields).
        frame: an in-memory pandas or polars frame to use instead of a file (wide: a date
            column plus one column per variate).
        table: an already checked :class:`SeriesTable` (the Forecaster's), used as it is.
        split: explicit split borders instead of the dataset's rule (the Forecaster's own
            train/validation split).
        static: static covariates per target column (``{"real": [N, Sr], "cat": [N, Sc]}``
            arrays, categories already encoded), for tables whose targets are series.
        names: how settings are named in messages (the CLI's by default).
        scaler: an input scaler already fitted on these time-varying columns (a warm start's,
            :mod:`tsfm.estimator.warm_start`), used instead of one fitted on the training rows.

    After ``setup``: ``roles`` (:class:`~tsfm.data.roles.ColumnRoles`), ``scaler`` (of the
    targets: what metrics and forecasts are undone with) and ``input_scaler`` (of every
    time-varying column, targets first), both fitted on training rows only.
    """

    def __init__(
        self,
        config: DataConfig | DictConfig | dict | None = None,
        frame: Any = None,
        *,
        table: SeriesTable | None = None,
        split: Borders | None = None,
        static: dict[str, np.ndarray] | None = None,
        names: dict[str, str] = CLI_NAMES,
        scaler: StandardScaler | None = None,
    ):
        super().__init__()
        self.config = cfg = config_from(DataConfig, config)
        check_joint_config(cfg)
        self.frame, self.given_table, self.given_split = frame, table, split
        self.static, self.names, self.given_scaler = static, names, scaler
        self.source = "the frame"  # where the data comes from, for messages
        self.table: SeriesTable | None = None
        self.roles: ColumnRoles | None = None
        self.input_scaler: StandardScaler | None = None
        self.borders: Borders | None = None
        self._prefixes: dict[tuple, tuple] = {}  # per (lag, original), for history_scale

    # ------------------------------------------------------------------ loading and splitting
    @property
    def in_memory(self) -> bool:
        return self.frame is not None or self.given_table is not None

    def load_table(self) -> SeriesTable:
        cfg = self.config
        if self.given_table is not None:
            return self.given_table
        allow_dups = False
        if self.frame is not None:
            df = to_polars(self.frame)[0]
        else:
            df, self.source, allow_dups = read_source(cfg)
        if cfg.id_col is not None:
            table, static = read_long_file(cfg, df, self.source)
            self.static = self.static if self.static is not None else static
            return table
        return wide_table(cfg, df, allow_dups, given_frame=self.frame is not None)

    def resolve_roles(self, table: SeriesTable) -> ColumnRoles:
        cfg = self.config
        if self.given_table is None and cfg.id_col is not None:
            roles = long_roles(table.groups, cfg.target, cfg.future_covariates, cfg.past_covariates)
            return resolve_roles(
                table.columns, targets=roles["targets"], future=roles["future"],
                past=roles["past"], names=self.names,
            )  # fmt: skip
        if cfg.static_covariates and self.static is None:
            raise InputError(
                f"{self.names['static']} needs one value per series: a panel (a long frame with "
                "static columns) or a static frame; a wide file is one series"
            )
        roles = resolve_roles(
            table.columns,
            features=cfg.features,
            target=cfg.target if cfg.features == "M" or cfg.targets else table.target,
            targets=cfg.targets,
            future=cfg.future_covariates,
            past=cfg.past_covariates,
            names=self.names,
        )
        covariates = f"{self.names['future']} or {self.names['past']}"
        refuse_boolean_targets(table, roles.targets, covariates, file=not self.in_memory)
        return roles

    @property
    def benchmark(self) -> bool:
        """Whether the data is a registered benchmark read from its file."""
        return not self.in_memory and self.config.name != "custom"

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.config
        loaded = self.load_table()
        self.roles = roles = self.resolve_roles(loaded)
        table = loaded.select(list(roles.time_varying))
        user_data = self.given_table is None and not self.benchmark
        if cfg.missing == "mask" and user_data and not cfg.allow_irregular:
            table = insert_absent_steps(table, cfg.freq, self.source)  # as the Forecaster
        self.table = table
        sampling = None
        if table.dates is not None and self.given_table is not None:
            sampling = cfg.freq  # the Forecaster's table, checked when it was read
        elif table.dates is not None:
            sampling = check_time_axis(table.dates, cfg, self.source, self.benchmark)
        self.sampling = sampling
        borders = self.borders = self.compute_split(len(table))
        used = read = table.values[: borders.test[1]]
        # values far outside the rest of their column's training rows (data/extreme_values.py)
        self.extreme_values = table_extreme_values(table, slice(*borders.scaler))
        mask = None
        if cfg.scale:
            train_rows = used[slice(*borders.scaler)]
            self.input_scaler = self.given_scaler or make_scaler(cfg.scaler).fit(
                train_rows, table.columns
            )
            self.scaler = self.input_scaler.subset(np.arange(len(roles.targets)))
            used = self.input_scaler.transform(used)
        dates = table.dates
        when = None if dates is None else lambda row: show_time(dates[row])
        check_float32_range(used, table.columns, cfg.scale, read, when)
        if np.isnan(used).any():
            mask = torch.from_numpy(~np.isnan(used)).float()
            used = fill_forward(used)
        values = torch.from_numpy(np.ascontiguousarray(used, dtype=np.float32))
        marks = None
        if cfg.time_features and table.dates is not None:
            freq = time_feature_freq(cfg, sampling)
            zone = calendar_zone(table.layout and table.layout.time_type, cfg.local_calendar)
            marks = torch.from_numpy(time_features(table.dates[: borders.test[1]], freq, zone))
        side = side_inputs(self.roles, values, mask, self.static)
        n_targets = len(roles.targets)
        self._targets = (values[:, :n_targets], None if mask is None else mask[:, :n_targets] > 0)
        # the targets as read (float64), filled as their scaled copies: what evaluation scores
        mean = 0.0 if self.scaler is None else self.scaler.mean
        originals = fill_forward(table.values[: borders.test[1], :n_targets], default=mean)
        self._originals = torch.from_numpy(originals.astype(np.float64, copy=False))
        for name in STAGES:
            start, end = borders[name]
            if end <= start:  # a split left out on purpose (the estimator's fit has no test)
                continue
            self.datasets[name] = WindowDataset(
                values[start:end, :n_targets],
                None if marks is None else marks[start:end],
                cfg.seq_len,
                cfg.pred_len,
                channel_independent=cfg.channel_independent,
                sample_variates=cfg.train_variates if name == "train" else None,
                side=side.rows(start, end),
                originals=None if name == "train" else self._originals[start:end],
            )

    def compute_split(self, n_rows: int) -> Borders:
        """Row borders of the splits: the given ones, or the dataset's rule."""
        if self.given_split is not None:
            return self.given_split
        return config_borders(self.config, n_rows, self.in_memory)

    # ------------------------------------------------------------------ what models need
    @property
    def n_vars(self) -> int:
        """Target variates per sample as the model sees them (1 when channel-independent)."""
        self.setup()
        return 1 if self.config.channel_independent else len(self.roles.targets)

    @property
    def n_marks(self) -> int:
        self.setup()
        marks = self.datasets["train"].marks
        return 0 if marks is None else marks.shape[1]

    @property
    def columns(self) -> list[str]:
        """The target columns, in the order of the forecasts."""
        self.setup()
        return list(self.roles.targets)

    def dims(self) -> dict[str, Any]:
        side = self.datasets["train"].side
        return {
            **super().dims(),
            "n_past": len(self.roles.past),
            "n_future": len(self.roles.future),
            "n_static_real": 0 if side.static_real is None else side.static_real.shape[1],
            "static_cardinalities": self._cardinalities(),
            "masked": side.values_mask is not None,
        }

    def _cardinalities(self) -> list[int]:
        cardinalities = (self.static or {}).get("cardinalities")
        return [int(c) for c in cardinalities] if cardinalities is not None else []

    def protocol(self) -> dict[str, Any]:
        """With the data read: its rows and :meth:`SeriesTable.digest` (what from_run checks)."""
        self.setup()
        return {
            **super().protocol(),
            "data_rows": len(self.table),
            "data_sha256": self.cached_digest([self.table], self.table.digest),
        }

    def time_type(self) -> dict[str, Any] | None:
        self.setup()
        table = self.table
        layout = None if table is None or table.dates is None else table.layout
        return None if layout is None else layout.time_type

    def window_times(self, stage: str, window: int) -> np.ndarray | None:
        """The times of window ``window`` of ``stage`` (its look-back, then its horizon): the
        data's dates or integer steps, None without a time column."""
        self.setup()
        if self.table is None or self.table.times is None:
            return None
        start = self.borders[stage][0] + window * self.datasets[stage].stride
        span = self.config.seq_len + self.config.pred_len
        return self.table.times[start : start + span]

    def series_ids(self) -> pl.Series | None:
        """A long file's or frame's series (the targets, read jointly) as their ids were typed."""
        self.setup()
        layout = None if self.table is None else self.table.layout
        long = layout is not None and layout.kind == "long" and bool(self.table.groups)
        return typed_id_series(layout, self.table.groups[layout.target_col]) if long else None

    def long_target(self) -> str | None:
        """A long file's value column (its series are the targets)."""
        self.setup()
        layout = None if self.table is None else self.table.layout
        return layout.target_col if layout is not None and layout.kind == "long" else None

    def fitted_targets(self) -> list[tuple[Any, np.ndarray, np.ndarray | None]]:
        """The targets' rows up to the end of validation, with their times."""
        self.setup()
        rows, n = slice(0, self.borders.val[1]), len(self.roles.targets)
        times = None if self.table.times is None else self.table.times[rows]
        return [(None, self.table.values[rows, :n], times)]

    def history_scale(
        self, stage: str, batch: Any, lag: int, original: bool = False
    ) -> torch.Tensor:
        """Each window's scale over every row before its origin (see the base class)."""
        self.setup()
        if (lag, original) not in self._prefixes:
            values = self._originals if original else self._targets[0]
            self._prefixes[lag, original] = seasonal_prefix(values, lag, self._targets[1])
        dataset = self.datasets[stage]
        origins = self.borders[stage][0] + batch["index"].cpu() * dataset.stride + dataset.seq_len
        return batch_columns(history_scale(self._prefixes[lag, original], origins)[0], batch)

    def training_windows(self) -> FixedWindows | None:
        self.setup()
        train = self.datasets["train"]
        return FixedWindows(
            train.values, train.seq_len, train.stride, train.n_windows, self.config.name
        )
