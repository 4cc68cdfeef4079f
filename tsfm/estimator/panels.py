"""``mode="independent"``: a long frame of series with their own dates and lengths, each series
its own sample with its own scaling (:class:`~tsfm.data.panel.PanelDataModule`); with
``targets=[...]``, several targets per series (one multivariate sample each, scaled per series
and target; :func:`~tsfm.estimator.roles.panel_targets`).

Validation (``val_size``) holds out the last rows of every series (from its own end: where
series end on different dates, a warning says that some series' validation rows lie before
rows others train on, :mod:`tsfm.estimator.calendar_overlap`); ``predict`` forecasts the
horizon after the end of every series (known series are scaled with their training
statistics, new ones with their own history's).
"""

from __future__ import annotations

from typing import Any

from tsfm.data.frames import is_integer_time
from tsfm.data.frames.gaps import empty_steps
from tsfm.data.frames.long import LongFrame, sorted_by_id
from tsfm.data.frames.panel_freqs import panel_freq
from tsfm.data.panel import PanelDataModule
from tsfm.data.seasons import resolve_season_length
from tsfm.errors import InputError
from tsfm.estimator.calendar_overlap import warn_validation
from tsfm.estimator.checks import (
    check_window_sizes,
    remember_fitted_params,
)
from tsfm.estimator.cli_settings import warn_unvalidated
from tsfm.estimator.fit_metrics import fit_record, warn_extremes
from tsfm.estimator.fit_trainer import (
    display_callbacks,
    lightning_output,
    run_directory,
    trainer_arguments,
)
from tsfm.estimator.fitted_record import fitted_rows
from tsfm.estimator.fitting import model_statics, validation_rows
from tsfm.estimator.floors import check_fit_values
from tsfm.estimator.lookback import fit_lookback
from tsfm.estimator.output_names import refuse_output_clashes
from tsfm.estimator.panel_history import (  # the panel as a fitted model reads it
    PanelHistory,  # noqa: F401 (re-exported: pickles made before it moved name it here)
    history_of,
    panel_tables,
    read_panel,
)
from tsfm.estimator.params import build_config, describe_key, given_keys
from tsfm.estimator.result_names import refuse_clashing_names
from tsfm.estimator.roles import (
    encode_statics,
    fit_panel_roles,
    panel_static_frame,
    panel_targets,
    refuse_unused_static_df,
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


def fit_panel(
    est: Any, df: Any, val_df: Any = None, static_df: Any = None, callbacks: tuple = (),
    warm: Any = None,
) -> Any:  # fmt: skip
    return fit_long(est, read_fit_panel(est, df, val_df, warm), static_df, callbacks, warm)


def read_fit_panel(est: Any, df: Any, val_df: Any, warm: Any) -> LongFrame:
    """The long frame a panel fit reads (``val_df`` refused); a warm fit's on the fitted clock,
    before its steps are read on it."""
    if val_df is not None:
        raise InputError(PANEL_VALIDATION)
    long = read_panel(est, df, fitted=False)
    if warm is not None:
        from tsfm.data.frames.zones import text_times

        warm.check_zone(long.layout, text_times(df, est.time_col))
    return long


def fit_long(
    est: Any,
    long: LongFrame,
    static_df: Any = None,
    callbacks: tuple = (),
    warm: Any = None,
    known: dict | None = None,
    told: set | None = None,
) -> Any:
    """:func:`fit_panel` on a frame already read (cross-validation's folds); ``warm``: a
    :class:`~tsfm.estimator.warm_start.WarmStart` to train from (its clock checked by
    :func:`fit_panel`); ``known``: each series' absent steps warned about already (the whole
    frame's, read before its folds); ``told``: the calendar warnings given already in this
    call (:mod:`tsfm.estimator.calendar_overlap`: the folds' fits warn once per call)."""
    from tsfm.estimator.warm_start import building
    from tsfm.pipeline import fit_and_test

    refuse_clashing_names(long.layout)  # before any training
    refuse_output_clashes(long.layout, [str(t) for t in panel_targets(est)], panel=True)
    est._forget()
    check_window_sizes(est)
    refuse_unused_static_df(est, static_df)
    long = sorted_by_id(long)  # the rows' order changes nothing; predict() follows the ids
    roles = fit_panel_roles(est, long)
    tables = panel_tables(est, long, fitted=False, known=known)
    est.absent_steps_ = {s: empty_steps(t) for s, t in zip(long.ids, tables, strict=True)}
    freq = panel_freq(long.ids, tables, est.freq, est.missing == "mask")
    if warm is not None:
        warm.check_freq(freq, None if tables[0].times is None else tables[0].times[0])
    longest = max(tables, key=len)
    values = [table.select(list(roles.time_varying)).values for table in tables]
    held_out = [panel_validation_rows(len(v), est.val_size, est.horizon) for v in values]
    n_train = [len(v) - h for v, h in zip(values, held_out, strict=True)]
    est.lookback_ = fit_lookback(est, freq, n_train, warm)  # the user's, or by the data
    encoder, statics = encode_statics(
        est,
        panel_static_frame(est, long, roles, static_df),
        None if warm is None else warm.static_encoder,
    )
    has_dates = not is_integer_time(longest.times)
    windows = sum(max(0, n - est.horizon) for n in n_train)
    applied: dict[str, Any] = {}  # what the small-data defaults did (schedule_stretch)
    cfg = build_config(
        est, freq=freq, has_dates=has_dates, time_col=est.time_col, n_windows=windows,
        n_scores=lambda k: k * len(long.ids),  # every series' k windows, pooled
        applied=applied, fitted_model=warm.model_settings if warm is not None else None,
    )  # fmt: skip
    check_run(cfg, lambda key: describe_key(est.model, key))
    targets = [str(t) for t in panel_targets(est)]
    for series, table in zip(long.ids, tables, strict=True):  # nonnegative: none below zero
        own = table.values[:, : len(targets)]  # the targets first
        check_fit_values(
            cfg, own, targets, targets, table.times, long.layout, "independent", series
        )
    # stored, as a joint fit does (fitting.py), so evaluate and the folds read the same lag
    cfg.season_length = resolve_season_length(cfg.get("season_length"), freq, est.lookback_)
    validate = est.val_size is not None
    if not validate:
        warn_unvalidated(given_keys(est))
        cfg.callbacks.early_stopping.enabled = cfg.callbacks.checkpoint.enabled = False
    times = [t.times for t in tables]
    if validate:  # validation rows of some series before rows others train on: said
        what = "fit" if told is None else "cross_validate (the folds' fits)"
        warn_validation(list(long.ids), times, n_train, est.val_size, tables[0].tz, what, told)
    if warm is not None and validate:  # validation rows the weights were not fitted on
        check_validation_unseen(warm, times, n_train, cfg.conformal.windows, long.ids, tables[0].tz)
    datamodule = PanelDataModule(
        cfg.data, values, times, roles, n_train, validate, freq, long.ids, statics,
        layout=long.layout,
    )  # fmt: skip
    warn_extremes(est, datamodule.extreme_values, cfg.data)  # before training
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
                best_in_memory=est.work_dir is None,  # work_dir keeps best.ckpt
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
    stretch = applied.get("schedule_stretch")  # the small-data defaults'
    est.fit_metrics_ = fit_record(
        est, cfg, result.metrics, rows=used, trainer=result.trainer, stretch=stretch
    )
    remember_fitted_params(est)
    return result


def panel_validation_rows(n_rows: int, val_size: float | int | None, horizon: int) -> int:
    """A series' validation rows: a share ``val_size`` of its rows, at least one horizon (as
    the command line's ``data.mode=independent`` holds out), or a count of at least one."""
    if isinstance(val_size, float) and 0 < val_size < 1:
        return max(horizon, round(val_size * n_rows))
    return validation_rows(n_rows, val_size, horizon)
