"""A panel as a fitted ``mode="independent"`` Forecaster reads it: the frame read as the fit
read it, one table per series, the last look-back rows ``predict()`` starts from
(:class:`PanelHistory`) and each series' scaling.

Apart from the panel fit (:mod:`tsfm.estimator.panels`, which imports Lightning and
re-exports :class:`PanelHistory`, where older pickles name it), so that a loaded model
forecasts without importing Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsfm.data.frames import to_polars
from tsfm.data.frames.column_types import user_types
from tsfm.data.frames.gaps import insert_absent_steps, refuse_coarser_panel
from tsfm.data.frames.long import LongFrame, series_tables
from tsfm.data.frames.panel_freqs import refuse_off_freq
from tsfm.data.frames.read import read_long
from tsfm.data.panel_scaling import require_observed, series_statistics
from tsfm.data.values import last_observed
from tsfm.errors import InputError
from tsfm.estimator.checks import check_options, role_names
from tsfm.estimator.panel_inputs import series_rows
from tsfm.estimator.roles import panel_targets


@dataclass
class PanelHistory:
    """The last ``lookback`` rows of every series (NaN before a series' start)."""

    values: np.ndarray  # [S, L, C]
    times: np.ndarray  # [S, L]; padded steps extrapolated with the frequency
    before: np.ndarray | None = None  # [S, C]: each column's last value before them (or NaN)


def read_panel(
    est: Any, df: Any, fitted: bool = True, inputs: bool = False, name: str = "df"
) -> LongFrame:
    """``df`` read as a panel, for fitting or (``fitted``) as the fitted panel was read, on its
    clock (``name``: the frame, if refused); ``inputs``: it must hold every column the model
    forecasts from (not just the targets)."""
    check_options(est)
    frame, library, _ = to_polars(df, categories=role_names(est, "static_covariates"))
    targets = list(est.columns_) if fitted else panel_targets(est)
    if not {est.id_col, est.time_col, *targets} <= set(frame.columns):
        raise InputError(
            f"mode='independent' needs a long frame ({est.id_col}, {est.time_col}, "
            f"{', '.join(targets)}, covariates); got the columns {frame.columns}"
        )
    lacking = [c for c in est.input_columns_ if c not in frame.columns] if inputs else []
    if lacking:
        raise InputError(
            f"the frame lacks the column(s) {lacking} the model was fitted with "
            f"({est.input_columns_}): every series needs its target and covariates over its "
            "look-back"
        )
    statics = [c for c in role_names(est, "static_covariates") if c in frame.columns]
    wall = bool(est.layout_.time_type.get("wall")) if fitted else None
    types = user_types(df, frame, {"id": est.id_col, "time": est.time_col})
    return read_long(
        frame, library, est.id_col, est.time_col, targets, statics,
        est.missing == "mask", wall, types, est.layout_ if fitted else None, name,
    )  # fmt: skip


def panel_tables(est: Any, long: LongFrame, fitted: bool = True, known: dict | None = None) -> list:
    """One table per series; ``fitted``: each refused by name where its timestamps are not every
    step of the model's frequency. With ``missing="mask"``, absent steps are inserted as
    missing rows instead (of the model's frequency when ``fitted``, else of ``freq`` or each
    series' usual step; a row off that grid is refused), warned about except those of the
    fitted series (or ``known``: by series, warned already)."""
    tables = series_tables(long)
    if est.missing != "mask":
        if fitted:  # the fit checked its series so (panel_freq): refuse gaps and off-grid rows
            refuse_off_freq(long.ids, tables, est.freq_)
        return tables
    freq = est.freq_ if fitted else est.freq
    if known is None:
        known = getattr(est, "absent_steps_", {}) if fitted else {}  # the fit warned of them
    names = [f"series {series!r}" for series in long.ids]
    if not fitted:  # the fitted frequency is the model's, whatever a new series keeps
        refuse_coarser_panel(tables, freq, names)
    return [
        insert_absent_steps(table, freq, name, known.get(series), check_coarser=False)
        for series, name, table in zip(long.ids, names, tables, strict=True)
    ]


def history_of(est: Any, values: list[np.ndarray], times: list[np.ndarray]) -> PanelHistory:
    """The last ``lookback`` rows of every series, NaN-padded at the front."""
    rows = [
        series_rows(v, t, len(v) - est.lookback_, est.lookback_, est.freq_)
        for v, t in zip(values, times, strict=True)
    ]
    before = np.stack([last_observed(v[: max(0, len(v) - est.lookback_)]) for v in values])
    return PanelHistory(np.stack([r for r, _ in rows]), np.stack([s for _, s in rows]), before)


def series_scales(
    est: Any, ids: list, tables: list, rows: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training statistics of known series; a new series' own, from its first ``rows[j]`` rows
    (default all: its history), so a window's scaling never sees the rows it forecasts.
    ``ids`` may repeat (one entry per window)."""
    rows = [len(t) for t in tables] if rows is None else list(rows)
    position = {s: j for j, s in enumerate(est.series_)}
    mean = np.empty((len(ids), tables[0].values.shape[1]))
    std = np.empty_like(mean)
    new = [j for j, s in enumerate(ids) if s not in position]
    if new:
        values = [tables[j].values for j in new]
        names = [ids[j] for j in new]
        require_observed(
            names, values, [rows[j] for j in new], len(est.columns_), "rows before the forecast"
        )
        mean[new], std[new] = series_statistics(
            values, [rows[j] for j in new], est.config_.data.scaler
        )
    for j, series in enumerate(ids):
        if series in position:
            mean[j], std[j] = est.series_mean_[position[series]], est.series_std_[position[series]]
    return mean, std
