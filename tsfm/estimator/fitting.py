"""One fit of the estimator: split, config, data module, the shared pipeline, fitted state."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from tsfm.data import TimeSeriesDataModule
from tsfm.data.frames import Freq, SeriesTable, is_integer_time, next_time, resolve_freq
from tsfm.data.roles import PYTHON_NAMES
from tsfm.data.seasons import resolve_season_length
from tsfm.data.splits import Borders
from tsfm.errors import InputError
from tsfm.estimator.checks import check_window_sizes, remember_fitted_params
from tsfm.estimator.cli_settings import warn_unvalidated
from tsfm.estimator.fit_metrics import fit_record, warn_extremes
from tsfm.estimator.fit_trainer import (
    display_callbacks,
    lightning_output,
    run_directory,
    trainer_arguments,
)
from tsfm.estimator.fitted_record import fitted_rows
from tsfm.estimator.floors import check_fit_values
from tsfm.estimator.lookback import fit_lookback
from tsfm.estimator.output_names import refuse_output_clashes
from tsfm.estimator.params import build_config, describe_key, given_keys
from tsfm.estimator.roles import encode_statics, role_settings, static_frame
from tsfm.estimator.sizing import within_scores
from tsfm.training.conformal import pooling
from tsfm.training.console import quiet
from tsfm.training.preflight import check_run


def validation_rows(n_rows: int, val_size: float | int | None, horizon: int) -> int:
    """How many trailing rows ``val_size`` holds out (0 for None)."""
    if val_size is None:
        return 0
    if isinstance(val_size, bool) or not isinstance(val_size, (int, np.integer, float)):
        raise InputError(f"val_size must be a fraction in (0, 1) or a row count, got {val_size!r}")
    if isinstance(val_size, float) and not 0 < val_size < 1:
        raise InputError(f"val_size as a fraction must be in (0, 1), got {val_size}")
    rows = int(round(val_size * n_rows)) if isinstance(val_size, float) else int(val_size)
    if rows < horizon:
        raise InputError(
            f"val_size={val_size} holds out {rows} rows, fewer than one horizon ({horizon}); "
            f"validation needs at least one full forecast: hold out at least {horizon} rows, "
            "or pass val_size=None to fit without validation"
        )
    return rows


def with_validation(
    table: SeriesTable,
    val_table: SeriesTable | None,
    freq: Freq,
    val_size: float | int | None,
    horizon: int,
) -> tuple[SeriesTable, int, bool]:
    """The rows to use, how many of them train, and whether the rest validate."""
    if val_table is None:
        held_out = validation_rows(len(table), val_size, horizon)
        if held_out >= len(table):
            raise InputError(
                f"the frame has {len(table)} rows, but val_size={val_size} holds out {held_out} "
                "rows to validate, leaving none to train on; pass a smaller val_size "
                "(set_params(val_size=...) on a fitted or loaded model; None fits without "
                "validation) or a longer frame"
            )
        return table, len(table) - held_out, held_out > 0
    if val_table.layout.kind != table.layout.kind:
        raise InputError("val_df must have the same layout (wide or long) as df")
    if [str(c) for c in val_table.columns] != [str(c) for c in table.columns]:
        raise InputError(
            f"val_df must hold the same variates as df, in the same order: df has "
            f"{table.columns}, val_df has {val_table.columns}"
        )
    expected = next_time(table.times[-1], freq)
    if val_table.times[0] != expected:
        raise InputError(
            f"val_df must continue df: its first timestamp should be {expected} (one step after "
            f"df's last, {table.times[-1]}), got {val_table.times[0]}"
        )
    if len(val_table) >= 3:
        resolve_freq(val_table.times, freq)
    if len(val_table) < horizon:
        raise InputError(f"val_df has {len(val_table)} rows, fewer than one horizon ({horizon})")
    joined = replace(
        table,
        values=np.concatenate([table.values, val_table.values]),
        times=np.concatenate([table.times, val_table.times]),
    )
    return joined, len(table), True


def estimator_split(n_rows: int, n_train: int, seq_len: int, validate: bool) -> Borders:
    """Rows ``[0, n_train)`` train (and fit the scaler); with ``validate``, windows whose
    targets lie in ``[n_train, n_rows)`` validate, their look-back reaching into the training
    rows as in the papers' loaders. There is no test split."""
    val = (n_train - seq_len, n_rows) if validate else (n_rows, n_rows)
    return Borders(train=(0, n_train), val=val, test=(n_rows, n_rows), scaler=(0, n_train))


def fit_table(
    est: Any,
    table: SeriesTable,
    val_table: SeriesTable | None = None,
    *,
    callbacks: Sequence = (),
    val_size: float | int | None = None,
    static_df: Any = None,
    calibrate: bool = True,
    warm: Any = None,
    max_time: float | None = None,
) -> Any:
    """Train ``est`` on ``table`` through :func:`tsfm.pipeline.fit_and_test`; sets its state.

    With ``conformal_windows``, the pipeline calibrates on the validation rows, or, without
    them, :mod:`tsfm.estimator.calibration` on the end of the training rows with a refit
    (``calibrate=False``: no calibration, for that refit's helper model). ``warm``: a
    :class:`~tsfm.estimator.warm_start.WarmStart` to train from (its scaler and weights).
    ``max_time``: the seconds this training may take (the helper's share of the fit's time
    limit; default the fit's ``max_time``). The helper and the final training share one
    ``max_time``: the helper gets half of it, the final training what the helper left.
    """
    from tsfm.estimator.warm_start import building
    from tsfm.pipeline import fit_and_test

    freq = resolve_freq(table.times, est.freq, table.tz)
    if warm is not None:
        warm.check_freq(freq, None if table.times is None else table.times[0])
    check_window_sizes(est, freq)
    size = est.val_size if val_size is None else val_size
    rows, n_train, validate = with_validation(table, val_table, freq, size, est.horizon)
    est.lookback_ = fit_lookback(est, freq, n_train, warm)  # the user's, or by the data
    has_dates = not is_integer_time(rows.times)
    roles = role_settings(est, rows)
    long = rows.layout is not None and rows.layout.kind == "long"  # its series: one column
    names = [rows.layout.target_col] if long else target_names(rows, roles)
    refuse_output_clashes(rows.layout, names, panel=False)  # before any training
    encoder = warm.static_encoder if warm is not None else None
    encoder, statics = encode_statics(est, static_frame(est, rows, static_df), encoder)
    applied: dict[str, Any] = {}  # what the small-data defaults did (schedule_stretch)
    cfg = build_config(
        est,
        freq=freq,
        has_dates=has_dates,
        time_col=rows.layout.time_col,
        roles=roles,
        n_windows=n_train - est.lookback_ - est.horizon + 1,
        n_scores=lambda k: pooling(k, n_targets(rows, roles))[1],
        applied=applied,
        fitted_model=warm.model_settings if warm is not None else None,
    )
    check_run(cfg, lambda key: describe_key(est.model, key))
    check_fit_values(cfg, rows.values, rows.columns, target_names(rows, roles), rows.times,
                     rows.layout, "joint")  # fmt: skip
    # the data's own frequency, not a preset's calendar one; stored, so evaluate uses it too
    cfg.season_length = resolve_season_length(cfg.get("season_length"), freq, est.lookback_)
    needed = est.lookback_ + est.horizon
    if n_train < needed:
        held = len(rows) - n_train if validate and val_table is None else 0
        raise InputError(
            f"{n_train} training rows"
            + (f" (the frame's {len(rows)} less the {held} val_size={size} holds out)" * bool(held))
            + f", but one window needs lookback + horizon = {needed}; pass a longer frame"
            + (
                ", shorten lookback/horizon, or hold out fewer rows (set_params(val_size=...))"
                if held
                else ", or shorten lookback/horizon"
            )
        )
    windows, normalize = cfg.conformal.windows if calibrate else 0, cfg.conformal.normalize
    if warm is not None and validate:  # validation rows the weights were not fitted on
        from tsfm.estimator.warm_validation import check_validation_unseen

        check_validation_unseen(warm, [rows.times], [n_train], windows, tz=rows.tz)
    if not validate:  # nothing to stop early on or to pick a best epoch with
        warn_unvalidated(given_keys(est))
        cfg.callbacks.early_stopping.enabled = False
        cfg.callbacks.checkpoint.enabled = False
    run_cfg, residuals, helper = cfg, None, None
    if not calibrate or (windows and not validate):
        run_cfg = copy.deepcopy(cfg)
        run_cfg.conformal.windows = 0  # the pipeline calibrates on validation rows only
        run_cfg.conformal.adaptive_rate = 0.0
    if max_time is not None:  # a calibration helper's share of the fit's time limit
        run_cfg = copy.deepcopy(run_cfg) if run_cfg is cfg else run_cfg
        run_cfg.trainer.max_time = max_time
    if windows and not validate:
        from tsfm.estimator.calibration import check_residuals, timed_refit

        *residuals, helper = timed_refit(est, rows, cfg, run_cfg, static_df, warm)

        def check() -> None:  # default levels narrowed to the errors observed, if fewer
            check_residuals(residuals[0], cfg.quantiles, cfg.levels, target_names(rows, roles))

        within_scores(est, [cfg, run_cfg], check)
    datamodule = TimeSeriesDataModule(
        cfg.data,
        table=replace(rows, columns=[str(c) for c in rows.columns]),
        split=estimator_split(len(rows), n_train, cfg.data.seq_len, validate),
        static=statics,
        names=PYTHON_NAMES,
        scaler=warm.input_scaler if warm is not None else None,
    )
    if warm is not None:
        warm.check_columns(datamodule.resolve_roles(datamodule.load_table()).time_varying)
        callbacks = [*callbacks, warm]
    datamodule.setup()  # read and scaled now: its extreme values are warned of before training
    warn_extremes(est, datamodule.extreme_values, cfg.data, shown=calibrate)
    with (
        quiet(lightning_output(est.verbose)),
        run_directory(est.work_dir) as run_dir,
        building(warm),
    ):
        result = within_scores(  # default levels narrowed to the scores observed, if fewer
            est, [cfg, run_cfg], lambda: fit_and_test(
                run_cfg, run_dir, datamodule=datamodule,
                extra_callbacks=[*callbacks, *display_callbacks(est)],
                memory_switch="check_memory=False", **trainer_arguments(est.verbose, validate),
                best_in_memory=est.work_dir is None,  # work_dir keeps best.ckpt
            ),
        )  # fmt: skip
    result.module.trainer = None  # the trainer holds the data; the estimator keeps only the model
    est.config_ = cfg
    est.module_ = result.module.eval()
    keep_data_state(est, datamodule)
    est.series_ = list(rows.groups[rows.layout.target_col]) if rows.groups else None
    est.static_encoder_ = encoder
    est.statics_ = model_statics(statics)
    est.freq_ = freq
    est.layout_ = table.layout
    own = {str(c): c for c in rows.columns}  # the frame's names: a long frame's ids as given
    est.history_ = rows.select([own[c] for c in est.input_columns_]).tail(est.lookback_)
    if rows.times is not None:  # what evaluate warns of scoring (estimator/fitted_record.py)
        est.fitted_rows_ = fitted_rows([rows.times], [n_train], validate)
    # a calibration helper's training (calibrate=False) is reported with the final one's
    used = (n_train, len(rows) - n_train if validate else 0)  # the rows trained, validated on
    est.fit_metrics_ = fit_record(
        est,
        cfg,
        result.metrics,
        helper,
        shown=calibrate,
        rows=used,
        trainer=result.trainer,
        stretch=applied.get("schedule_stretch"),
    )
    remember_fitted_params(est)
    if residuals is not None:
        from tsfm.estimator.calibration import scores_from_residuals

        rate = cfg.conformal.adaptive_rate
        est.module_.conformal = scores_from_residuals(est, *residuals, normalize, rate)
    return result


def keep_data_state(est: Any, datamodule: TimeSeriesDataModule) -> None:
    """The fitted state a joint fit takes from its data module: the scalers, column roles
    and dimensions."""
    est.mode_ = "joint"
    est.scaler_, est.input_scaler_ = datamodule.scaler, datamodule.input_scaler
    est.roles_ = datamodule.roles
    est.columns_ = list(datamodule.roles.targets)
    est.input_columns_ = list(datamodule.roles.time_varying)
    est.n_variates_ = len(est.columns_)
    est.dims_ = datamodule.dims()


def model_statics(statics: dict[str, Any] | None) -> dict[str, Any]:
    """The encoded statics as the batch carries them (``[N, S]`` per target), non-empty only."""
    out: dict[str, Any] = {}
    for key, dtype in (("real", torch.float32), ("cat", torch.long)):
        if statics is not None and statics[key].shape[1]:
            out[f"static_{key}"] = torch.as_tensor(statics[key], dtype=dtype)
    return out


def n_targets(table: SeriesTable, roles: dict[str, Any]) -> int:
    """How many targets the roles leave in ``table`` (every column without a covariate role,
    unless named)."""
    return max(1, len(target_names(table, roles)))


def target_names(table: SeriesTable, roles: dict[str, Any]) -> list[str]:
    """The targets the roles leave in ``table``, in its column order."""
    if roles.get("targets"):
        named = set(roles["targets"])
        return [str(c) for c in table.columns if str(c) in named]
    covariates = {*roles.get("future_covariates", []), *roles.get("past_covariates", [])}
    return [str(c) for c in table.columns if str(c) not in covariates]
