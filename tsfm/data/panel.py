"""Panels of independent series: each series is its own sample, with its own dates, length,
covariates and scaling (``mode="independent"``).

Every series is scaled with the statistics of its own training rows (per column, missing
values left out). A window's look-back may reach before the start of its series: those steps
are padded (value 0, ``x_mask`` 0), so a series needs only ``horizon + 1`` training rows; a
shorter one is refused, naming it, as is one without an observed target value. Calendar
features of padded steps come from the timestamps the series would have had there. Windows keep their series in the batch (``series``), and the
training module undoes each sample's own scaling for original-scale metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import torch
from torch import Tensor

from tsfm.data.config import DataConfig
from tsfm.data.contract import ForecastDataModule
from tsfm.data.extreme_values import panel_extreme_values
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.table import Layout, data_digest
from tsfm.data.frames.write import typed_id_series
from tsfm.data.panel_scaling import require_observed, series_statistics
from tsfm.data.panel_times import PanelTimes
from tsfm.data.panel_windows import PanelWindows
from tsfm.data.roles import ColumnRoles
from tsfm.data.seasonal_scales import history_scale, seasonal_prefix
from tsfm.data.statics import StaticEncoder
from tsfm.data.timefeatures import series_time_features
from tsfm.data.values import fill_forward, refuse_overflow
from tsfm.errors import InputError


class PanelDataModule(PanelTimes, ForecastDataModule):
    """Series of different lengths as independent samples (see the module docstring).

    Args:
        config: the data settings (look-back, horizon, batch sizes, calendar features).
        values: per series ``[T_i, C]`` values of the ``roles.time_varying`` columns (NaN:
            missing).
        times: per series timestamps ``[T_i]`` (datetime64 or integer steps).
        roles: the column roles (targets first in ``values``).
        n_train: per series, how many leading rows train (and fit the series' scaler); with
            ``validate``, windows whose horizon lies in the rest validate.
        freq: the frequency, for calendar features of padded steps.
        static: ``{"real": [S, Sr], "cat": [S, Sc], "cardinalities": [...]}`` or None.
        n_test: per series, how many trailing rows are test horizons (validation then ends
            before them); None: no test split (the Forecaster's fits).
        layout: the long file's :class:`~tsfm.data.frames.Layout` (its time type, zone
            included, for writing timestamps back) and ``static_encoder`` its fitted
            :class:`~tsfm.data.statics.StaticEncoder`, where a file was read (from_run).
    """

    pools_series = True

    def __init__(
        self,
        config: DataConfig,
        values: list[np.ndarray],
        times: list[np.ndarray],
        roles: ColumnRoles,
        n_train: Sequence[int],
        validate: bool,
        freq: str | int,
        names: Sequence[Any],
        static: dict[str, Any] | None = None,
        n_test: Sequence[int] | None = None,
        layout: Layout | None = None,
        static_encoder: StaticEncoder | None = None,
    ):
        super().__init__()
        self.config, self.roles, self.freq, self.static = config, roles, freq, static
        self.sampling = freq  # what the default season_length follows
        self.values, self.times, self.n_train = values, times, list(n_train)
        self.n_test = None if n_test is None else list(n_test)
        self.layout, self.static_encoder = layout, static_encoder
        self._padded: dict[int, np.ndarray] = {}
        self._before: dict[Any, np.ndarray] = {}  # the padded steps before a first timestamp
        self.validate, self.names = validate, list(names)
        short = [
            s for s, n in zip(self.names, self.n_train, strict=True) if n < config.pred_len + 1
        ]
        if short:
            first = self.names.index(short[0])
            rows, kept = len(values[first]), self.n_train[first]
            fix = (  # the command line's split, or the Forecaster's (no test rows)
                "to validate and to test (at least one horizon each); a larger data.train_ratio"
                if n_test is not None
                else "to validate (val_size, at least one horizon); a smaller val_size, or None,"
            )
            held = (
                f" ({short[0]!r} trains on {kept} of its {rows} rows: the other {rows - kept} are "
                f"held out {fix} holds out less)"
                if 0 < kept < rows
                else f" ({short[0]!r} has {rows} rows, and {rows - kept} are to be held out {fix} "
                "holds out less)"
                if kept <= 0
                else ""
            )
            raise InputError(
                f"{len(short)} series (e.g. {short[:3]}) have fewer than horizon + 1 = "
                f"{config.pred_len + 1} training rows: one horizon to learn from and one row to "
                f"look back on{held}; drop them or shorten the horizon"
            )
        require_observed(self.names, values, self.n_train, len(roles.targets), "training rows")
        self.series_mean, self.series_std = series_statistics(values, self.n_train, config.scaler)
        self.extreme_values = panel_extreme_values(  # data/extreme_values.py
            values, self.n_train, list(roles.time_varying), times, self.names, layout
        )
        self.scaler = None  # per-series scaling: see scaler_state()
        self.storage: dict[str, Any] = {}
        self._prefixes: dict[tuple, tuple] = {}  # per (lag, original), for history_scale

    def scaler_state(self) -> dict[str, list]:
        """``{"mean": [S, N], "std": [S, N]}`` of the targets, indexed by ``series``."""
        n = len(self.roles.targets)
        return {
            "mean": self.series_mean[:, :n].tolist(),
            "std": self.series_std[:, :n].tolist(),
        }

    def _at(self, j: int) -> Any:
        """Where a value of series ``j`` is, from its index ``(row, column)``."""
        return lambda index: f"for series {self.names[j]!r} at {show_time(self.times[j][index[0]])}"

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        cfg = self.config
        lookback = cfg.seq_len
        blocks, masks, offsets, originals, marks = [], [], [0], [], None
        n_t, n_p = len(self.roles.targets), len(self.roles.past)
        for j, values in enumerate(self.values):
            scaled = (values - self.series_mean[j]) / self.series_std[j]
            refuse_overflow(scaled, list(self.roles.time_varying), self._at(j), values)
            pad = np.zeros((lookback, values.shape[1]))
            blocks.append(np.concatenate([pad, fill_forward(scaled)]))
            # the targets as read, padded and filled as their scaled copies (0: the mean)
            mean = self.series_mean[j, :n_t]
            read = np.concatenate([np.broadcast_to(mean, (lookback, n_t)), values[:, :n_t]])
            originals.append(fill_forward(read, default=mean))
            masks.append(np.concatenate([pad, ~np.isnan(scaled)]))
            offsets.append(offsets[-1] + len(values) + lookback)
        if cfg.time_features and not np.issubdtype(self.times[0].dtype, np.integer):
            padded = [self._padded_times(j) for j in range(len(self.times))]
            freq = str(cfg.freq or self.freq)
            marks = series_time_features(padded, freq, self._calendar_zone())
        self.storage = {
            "values": torch.as_tensor(np.concatenate(blocks), dtype=torch.float32),
            "originals": torch.as_tensor(np.concatenate(originals), dtype=torch.float64),
            "mask": torch.as_tensor(np.concatenate(masks), dtype=torch.float32),
            "marks": None if marks is None else torch.as_tensor(marks),
            "offsets": torch.as_tensor(offsets[:-1]),
            "seq_len": lookback,
            "pred_len": cfg.pred_len,
            "n_targets": n_t,
            "past": slice(n_t, n_t + n_p),
            "future": slice(n_t + n_p, n_t + n_p + len(self.roles.future)),
            "static_real": self._static("real", torch.float32),
            "static_cat": self._static("cat", torch.long),
            "names": self.names,
        }
        self.datasets["train"] = self._windows(lambda j: (1, self.n_train[j]))
        if self.validate:
            self.datasets["val"] = self._windows(
                lambda j: (self.n_train[j], self._tested(j)), evaluation=True
            )
        if self.n_test is not None:
            self.datasets["test"] = self._windows(
                lambda j: (self._tested(j), len(self.values[j])), evaluation=True
            )

    def history_scale(self, stage: str, batch: Any, lag: int, original: bool = False) -> Tensor:
        """Each window's scale over its series' rows before its origin (see the base class):
        the padding before a series is never observed, so no pair reaches another series."""
        self.setup()
        s, n = self.storage, self.storage["n_targets"]
        if (lag, original) not in self._prefixes:
            values = s["originals"] if original else s["values"][:, :n]
            self._prefixes[lag, original] = seasonal_prefix(values, lag, s["mask"][:, :n] > 0)
        dataset, index = self.datasets[stage], batch["index"].cpu()
        starts = s["offsets"][dataset.series[index]]
        origins = starts + dataset.cuts[index] + s["seq_len"]
        return history_scale(self._prefixes[lag, original], origins, starts)[0]

    def _tested(self, j: int) -> int:
        """The first test row of series ``j`` (its length without a test split)."""
        return len(self.values[j]) - (self.n_test[j] if self.n_test is not None else 0)

    def window_series(self, stage: str, window: int) -> str:
        self.setup()
        return str(self.names[int(self.datasets[stage].series[window])])

    def window_name(self, stage: str, window: int) -> str:
        return f"series {self.window_series(stage, window)!r}, {stage} window {window}"

    def series_ids(self) -> pl.Series | None:
        long = self.layout is not None and self.layout.kind == "long"
        return typed_id_series(self.layout, self.names) if long else None

    def long_target(self) -> str | None:
        """One target: its name marks every series (the forecasts are named by series id)."""
        return str(self.roles.targets[0]) if len(self.roles.targets) == 1 else None

    def fitted_targets(self) -> list[tuple[Any, np.ndarray, np.ndarray]]:
        """Each series' targets over its training and validation rows (before its test)."""
        n = len(self.roles.targets)
        return [
            (name, values[: self._tested(j), :n], times[: self._tested(j)])
            for j, (name, values, times) in enumerate(
                zip(self.names, self.values, self.times, strict=True)
            )
        ]

    def _static(self, key: str, dtype: torch.dtype) -> Tensor | None:
        array = None if self.static is None else self.static.get(key)
        return None if array is None or not array.shape[1] else torch.as_tensor(array, dtype=dtype)

    def _windows(self, target_rows, evaluation: bool = False) -> PanelWindows:
        """Every window whose horizon lies in ``target_rows(j)`` of series ``j``
        (``evaluation``: its batches carry the targets as read)."""
        horizon, cuts, series = self.config.pred_len, [], []
        for j in range(len(self.values)):
            first, end = target_rows(j)
            found = np.arange(first, end - horizon + 1)
            cuts.append(found)
            series.append(np.full(len(found), j))
        # the flat look-back start of cut c is offsets[j] + c: L padded rows precede row 0
        return PanelWindows(
            self.storage, np.concatenate(cuts), np.concatenate(series), originals=evaluation
        )

    @property
    def n_vars(self) -> int:
        return len(self.roles.targets)

    @property
    def n_marks(self) -> int:
        self.setup()
        marks = self.storage["marks"]
        return 0 if marks is None else marks.shape[1]

    @property
    def columns(self) -> list[str]:
        return list(self.roles.targets)

    def series_names(self) -> list[str]:
        """A one-target panel's test metrics are per series (its ids); else per target."""
        return [str(n) for n in self.names] if len(self.roles.targets) == 1 else self.columns

    def untested_series(self) -> list[int]:
        """The series without a test window (``data.cutoffs=shared``: those that end before a
        whole horizon after the test start), when the test metrics are per series."""
        if self.n_test is None or len(self.roles.targets) != 1:
            return []
        return [j for j, n in enumerate(self.n_test) if n < self.config.pred_len]

    def protocol(self) -> dict[str, Any]:
        """With the data read: its rows and their :func:`data_digest` (what from_run checks)."""
        rows = [a for v, t in zip(self.values, self.times, strict=True) for a in (t, v)]
        statics = [self.static.get(k) for k in ("real", "cat")] if self.static else []
        columns = [*self.names, *self.roles.time_varying]
        digest = self.cached_digest(
            [*rows, *statics, *columns], lambda: data_digest(columns, [*rows, *statics])
        )
        return {
            **super().protocol(),
            "data_rows": sum(map(len, self.values)),
            "data_sha256": digest,
        }

    def dims(self) -> dict[str, Any]:
        self.setup()
        real, cat = self.storage["static_real"], self.storage["static_cat"]
        cardinalities = [] if self.static is None else self.static.get("cardinalities", [])
        return {
            **super().dims(),
            "n_past": len(self.roles.past),
            "n_future": len(self.roles.future),
            "n_static_real": 0 if real is None else real.shape[1],
            "static_cardinalities": [int(c) for c in cardinalities] if cat is not None else [],
            "masked": True,
        }
