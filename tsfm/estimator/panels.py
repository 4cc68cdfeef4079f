"""``mode="independent"``: a long frame of series with their own dates and lengths, each series
its own sample with its own scaling (:class:`~tsfm.data.panel.PanelDataModule`).

Validation (``val_size``) holds out the last rows of every series; ``predict`` forecasts the
horizon after the end of every series (known series are scaled with their training
statistics, new ones with their own history's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsfm.data.frames import is_integer_time, to_polars
from tsfm.data.frames.column_types import user_types
from tsfm.data.frames.gaps import empty_steps, insert_absent_steps, refuse_coarser_panel
from tsfm.data.frames.long import LongFrame, series_tables, sorted_by_id
from tsfm.data.frames.panel_freqs import panel_freq
from tsfm.data.frames.read import read_long
from tsfm.data.panel import PanelDataModule, require_observed, series_statistics
from tsfm.data.roles import PYTHON_NAMES, panel_roles
from tsfm.data.seasons import resolve_season_length
from tsfm.data.values import last_observed
from tsfm.errors import InputError
from tsfm.estimator.checks import (
    check_options,
    check_window_sizes,
    remember_fitted_params,
    role_names,
)
from tsfm.estimator.cli_settings import warn_unvalidated
from tsfm.estimator.fit_metrics import fit_record
from tsfm.estimator.fitted_record import fitted_rows
from tsfm.estimator.fitting import (
    describe_key,
    display_callbacks,
    lightning_output,
    model_statics,
    run_directory,
    trainer_arguments,
    validation_rows,
)
from tsfm.estimator.panel_inputs import series_rows
from tsfm.estimator.params import build_config, given_keys
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.roles import (
    encode_statics,
    refuse_long_targets,
    refuse_unused_static_df,
    series_statics,
)
from tsfm.estimator.sizing import within_scores
from tsfm.estimator.warm_validation import check_validation_unseen
from tsfm.training.console import quiet
from tsfm.training.preflight import check_run

PANEL_VALIDATION = (
    "val_df is not taken with mode='independent': it validates on the last val_size rows of "
    "each series; append the validation rows to df and set val_size (rows per series, or a "
    "share)"
)


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
    frame, library, _ = to_polars(df)
    if not {est.id_col, est.time_col, est.target_col} <= set(frame.columns):
        raise InputError(
            f"mode='independent' needs a long frame ({est.id_col}, {est.time_col}, "
            f"{est.target_col}, covariates); got the columns {frame.columns}"
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
        frame, library, est.id_col, est.time_col, est.target_col, statics,
        est.missing == "mask", wall, types, est.layout_ if fitted else None, name,
    )  # fmt: skip


def panel_tables(est: Any, long: LongFrame, fitted: bool = True, known: dict | None = None) -> list:
    """One table per series; with ``missing="mask"``, absent steps inserted as missing rows
    (of the model's frequency when ``fitted``, else of ``freq`` or each series' usual step),
    warned about except those of the fitted series (or ``known``: by series, warned already)."""
    tables = series_tables(long)
    if est.missing != "mask":
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


def fit_panel(
    est: Any, df: Any, val_df: Any = None, static_df: Any = None, callbacks: tuple = (),
    warm: Any = None,
) -> Any:  # fmt: skip
    if val_df is not None:
        raise InputError(PANEL_VALIDATION)
    long = read_panel(est, df, fitted=False)
    if warm is not None:  # on the fitted clock, before its steps are read on it
        from tsfm.data.frames.zones import text_times

        warm.check_zone(long.layout, text_times(df, est.time_col))
    return fit_long(est, long, static_df, callbacks, warm)


def fit_long(
    est: Any,
    long: LongFrame,
    static_df: Any = None,
    callbacks: tuple = (),
    warm: Any = None,
    known: dict | None = None,
) -> Any:
    """:func:`fit_panel` on a frame already read (cross-validation's folds); ``warm``: a
    :class:`~tsfm.estimator.warm_start.WarmStart` to train from (its clock checked by
    :func:`fit_panel`); ``known``: each series' absent steps warned about already (the whole
    frame's, read before its folds)."""
    from tsfm.estimator.warm_start import building
    from tsfm.pipeline import fit_and_test

    refuse_clashing_names(long.layout)  # before any training
    est._forget()
    check_window_sizes(est)
    refuse_long_targets(est, est.target_col)  # as a joint fit does (roles.role_settings)
    refuse_unused_static_df(est, static_df)
    long = sorted_by_id(long)  # the rows' order changes nothing; predict() follows the ids
    roles = panel_roles(
        long.value_columns, est.target_col, role_names(est, "future_covariates"),
        role_names(est, "past_covariates"), role_names(est, "static_covariates"), PYTHON_NAMES,
    )  # fmt: skip
    tables = panel_tables(est, long, fitted=False, known=known)
    est.absent_steps_ = {s: empty_steps(t) for s, t in zip(long.ids, tables, strict=True)}
    freq = panel_freq(long.ids, tables, est.freq, est.missing == "mask")
    if warm is not None:
        warm.check_freq(freq, None if tables[0].times is None else tables[0].times[0])
    longest = max(tables, key=len)
    values = [table.select(list(roles.time_varying)).values for table in tables]
    held_out = [panel_validation_rows(len(v), est.val_size, est.horizon) for v in values]
    n_train = [len(v) - h for v, h in zip(values, held_out, strict=True)]
    encoder, statics = encode_statics(
        est,
        series_statics(est, long.ids, est.id_col, long.statics, static_df)
        if roles.static
        else None,
        None if warm is None else warm.static_encoder,
    )
    has_dates = not is_integer_time(longest.times)
    windows = sum(max(0, n - est.horizon) for n in n_train)
    cfg = build_config(
        est, freq=freq, has_dates=has_dates, time_col=est.time_col, n_windows=windows,
        n_scores=lambda k: k * len(long.ids),  # every series' k windows, pooled
    )  # fmt: skip
    check_run(cfg, lambda key: describe_key(est.model, key))
    # stored, as a joint fit does (fitting.py), so evaluate and the folds read the same lag
    cfg.season_length = resolve_season_length(cfg.get("season_length"), freq, est.lookback)
    validate = est.val_size is not None
    if not validate:
        warn_unvalidated(given_keys(est))
        cfg.callbacks.early_stopping.enabled = cfg.callbacks.checkpoint.enabled = False
    times = [t.times for t in tables]
    if warm is not None and validate:  # validation rows the weights were not fitted on
        check_validation_unseen(warm, times, n_train, cfg.conformal.windows, long.ids, tables[0].tz)
    datamodule = PanelDataModule(
        cfg.data, values, times, roles, n_train, validate, freq, long.ids, statics,
        layout=long.layout,
    )  # fmt: skip
    callbacks = (*callbacks, warm) if warm is not None else callbacks
    with (
        quiet(lightning_output(est.verbose)),
        run_directory(est.work_dir) as run_dir,
        building(warm),
    ):
        result = within_scores(  # default levels narrowed to the scores observed, if fewer
            est, [cfg], lambda: fit_and_test(
                cfg, run_dir, datamodule=datamodule,
                extra_callbacks=[*callbacks, *display_callbacks(est)],
                **trainer_arguments(est.verbose, validate),
            ),
        )  # fmt: skip
    result.module.trainer = None
    est.config_, est.module_, est.mode_ = cfg, result.module.eval(), "independent"
    est.roles_, est.columns_ = roles, list(roles.targets)
    est.input_columns_, est.n_variates_ = list(roles.time_varying), len(roles.targets)
    est.series_, est.freq_, est.layout_ = list(long.ids), freq, long.layout
    est.series_mean_, est.series_std_ = datamodule.series_mean, datamodule.series_std
    est.scaler_ = est.input_scaler_ = None
    est.static_encoder_, est.statics_ = encoder, model_statics(statics)
    est.history_ = history_of(est, values, times)
    est.fitted_rows_ = fitted_rows(times, n_train, validate, series=list(long.ids))  # in-sample
    est.dims_ = datamodule.dims()
    used = (sum(n_train), sum(held_out) if validate else 0)  # every series' rows
    est.fit_metrics_ = fit_record(est, cfg, result.metrics, rows=used)
    remember_fitted_params(est)
    return result


def panel_validation_rows(n_rows: int, val_size: float | int | None, horizon: int) -> int:
    """A series' validation rows: a share ``val_size`` of its rows, at least one horizon (as
    the command line's ``data.mode=independent`` holds out), or a count of at least one."""
    if isinstance(val_size, float) and 0 < val_size < 1:
        return max(horizon, round(val_size * n_rows))
    return validation_rows(n_rows, val_size, horizon)


def history_of(est: Any, values: list[np.ndarray], times: list[np.ndarray]) -> PanelHistory:
    """The last ``lookback`` rows of every series, NaN-padded at the front."""
    rows = [
        series_rows(v, t, len(v) - est.lookback, est.lookback, est.freq_)
        for v, t in zip(values, times, strict=True)
    ]
    before = np.stack([last_observed(v[: max(0, len(v) - est.lookback)]) for v in values])
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
        mean[new], std[new] = series_statistics(values, [rows[j] for j in new])
    for j, series in enumerate(ids):
        if series in position:
            mean[j], std[j] = est.series_mean_[position[series]], est.series_std_[position[series]]
    return mean, std
