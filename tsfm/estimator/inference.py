"""Forecasting with a fitted module, outside the Trainer (one window, or every window of a frame).

Inputs are put in the column order the model was trained on (targets, past covariates, future
covariates), scaled with the training rows' statistics, missing values filled and masked as
in training. Target variates the model has not seen (only for models whose capabilities
include ``new_variates``, and without covariates) are standardised with statistics of their
own history, never of the rows being forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from tsfm.data.batch import Batch
from tsfm.data.frames import SeriesTable, is_integer_time
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.horizon_rows import warn_table_horizon_rows
from tsfm.data.robust_scaling import make_scaler
from tsfm.data.scaler import StandardScaler
from tsfm.data.timefeatures import calendar_zone, time_features
from tsfm.data.values import fill_forward, refuse_overflow, warn_unobserved
from tsfm.errors import InputError
from tsfm.estimator.floors import floored_columns
from tsfm.estimator.interval_requests import check_interval_variates
from tsfm.estimator.model_outputs import RadiusOf, finite, forward, unscale, unscale_quantiles
from tsfm.estimator.roles import named_columns
from tsfm.estimator.static_inputs import statics_for
from tsfm.models import capabilities
from tsfm.training.nonnegative import floor


@dataclass
class Prepared:
    """A table in the model's column order, its scaler, and the way back to the caller's."""

    table: SeriesTable
    scaler: StandardScaler | None
    n_targets: int
    restore: np.ndarray | None  # caller's target j = model target restore[j]
    statics: dict[str, torch.Tensor]  # per model target [N, S]; empty without statics


def prepare(est: Any, table: SeriesTable, history_rows: int) -> Prepared:
    """Align ``table``'s columns to the model; ``history_rows`` may fit unknown scalers."""
    table = named_columns(est, table)
    trained, targets = list(est.input_columns_), list(est.columns_)
    columns = [str(c) for c in table.columns]
    if sorted(columns) == sorted(map(str, trained)):
        position = {c: j for j, c in enumerate(columns)}
        aligned = table.select([table.columns[position[str(c)]] for c in trained])
        caller_targets = [c for c in columns if c in set(map(str, targets))]
        order = np.array([[str(t) for t in targets].index(c) for c in caller_targets])
        statics = statics_for(est, aligned.columns[: len(targets)], table.statics)  # the ids
        return Prepared(aligned, est.input_scaler_, len(targets), order, statics)
    if est.roles_.has_covariates:
        missing = [c for c in trained if str(c) not in set(columns)]
        extra = [c for c in columns if c not in set(map(str, trained))]
        raise InputError(
            f"the frame must hold the columns the model was trained on, {trained}; it lacks "
            f"{missing} and has {extra} (a model with covariates forecasts its own targets"
            + (
                "; mode='independent' forecasts any series from its own covariates)"
                if table.groups
                else ")"
            )
        )
    return _new_variates(est, table, history_rows)


def _new_variates(est: Any, table: SeriesTable, history_rows: int) -> Prepared:
    trained, columns = list(est.columns_), list(table.columns)
    known = {str(c): i for i, c in enumerate(trained)}
    if not capabilities(est.model).new_variates:
        new = [c for c in columns if str(c) not in known]
        missing = [c for c in trained if str(c) not in {str(x) for x in columns}]
        raise InputError(
            f"model '{est.model}' was trained on the variates {trained} and can only forecast "
            f"those (any order); this frame has new {new} and lacks {missing}. Models that "
            "declare the new_variates capability (such as iTransformer) forecast any variates"
        )
    statics = statics_for(est, columns, table.statics)
    if est.scaler_ is None:
        return Prepared(table, None, len(columns), None, statics)
    mean, std = np.empty(len(columns)), np.empty(len(columns))
    for j, column in enumerate(columns):
        if str(column) in known:
            i = known[str(column)]
            mean[j], std[j] = est.scaler_.mean[i], est.scaler_.std[i]
        else:
            own = make_scaler(est.config_.data.scaler).fit(table.values[:history_rows, [j]])
            mean[j], std[j] = own.mean[0], own.std[0]
    return Prepared(table, StandardScaler(mean, std), len(columns), None, statics)


def _at(times: np.ndarray | None, row: int) -> str:
    return f"at row {row}" if times is None else f"at {show_time(times[row])}"


def calendar(est: Any, times: np.ndarray) -> np.ndarray | None:
    """Calendar features of ``times`` as the model was trained with (None if it had none)."""
    if not est.dims_.get("n_marks"):
        return None
    if is_integer_time(times):
        raise InputError("the model uses calendar features, so the frame needs real timestamps")
    return time_features(times, est.config_.data.freq, estimator_calendar_zone(est))


def estimator_calendar_zone(est: Any) -> str | None:
    """The zone whose clock the fitted model's calendar features read (None: the times')."""
    return calendar_zone(est.layout_.time_type, est.config_.data.get("local_calendar", False))


class Windows:
    """Every window of a prepared table: scaled, filled, masked, cut into model inputs; and
    its targets as read (:meth:`actual_read`, :meth:`lookback_read`), which the scores use."""

    def __init__(self, est: Any, prepared: Prepared, times: np.ndarray):
        self.est, self.n, self.statics = est, prepared.n_targets, prepared.statics
        values = prepared.table.values
        scaled = values if prepared.scaler is None else prepared.scaler.transform(values)
        refuse_overflow(scaled, prepared.table.columns, lambda i: _at(times, i[0]), values)
        self.mask = ~np.isnan(scaled) if np.isnan(scaled).any() else None
        raw_before = before = prepared.table.before  # the last values before a look-back cut
        if before is not None and prepared.scaler is not None:
            before = prepared.scaler.transform(before[None])[0]
        self.scaled = fill_forward(scaled, before) if self.mask is not None else scaled
        self.targets = values[:, : self.n]  # as read: NaN where missing
        self.read = self.targets  # as read, filled as the scaled look-backs are (0: the mean)
        if self.mask is not None:
            mean = 0.0 if prepared.scaler is None else prepared.scaler.mean[: self.n]
            kept = None if raw_before is None else raw_before[: self.n]
            self.read = fill_forward(self.targets, kept, mean)
        self.marks = calendar(est, times)
        roles = est.roles_
        self.past = slice(self.n, self.n + len(roles.past))
        self.future = slice(self.n + len(roles.past), self.n + len(roles.past) + len(roles.future))

    def batch(self, starts: np.ndarray) -> Batch:
        """Model inputs of the windows whose look-back starts at rows ``starts``."""
        lookback, horizon = self.est.lookback_, self.est.horizon
        rows = starts[:, None] + np.arange(lookback + horizon)
        x_rows = rows[:, :lookback]

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(array, dtype=torch.float32)

        batch = Batch(x=tensor(self.scaled[x_rows][..., : self.n]))
        if self.past.stop > self.past.start:
            batch["past_covariates"] = tensor(self.scaled[x_rows][..., self.past])
        if self.future.stop > self.future.start:
            batch["future_covariates"] = tensor(self.scaled[rows][..., self.future])
        if self.mask is not None:
            batch["x_mask"] = tensor(self.mask[x_rows][..., : self.n])
            if "past_covariates" in batch:
                batch["past_covariates_mask"] = tensor(self.mask[x_rows][..., self.past])
            if "future_covariates" in batch:
                batch["future_covariates_mask"] = tensor(self.mask[rows][..., self.future])
        if self.marks is not None:
            batch["x_mark"] = tensor(self.marks[x_rows])
            batch["y_mark"] = tensor(self.marks[rows[:, lookback:]])
        for key, value in self.statics.items():
            batch[key] = value.unsqueeze(0).expand(len(starts), -1, -1)
        return batch

    def actual(self, starts: np.ndarray) -> np.ndarray:
        """Scaled target values of the horizons after ``starts`` (NaN where missing)."""
        rows = starts[:, None] + np.arange(
            self.est.lookback_, self.est.lookback_ + self.est.horizon
        )
        actual = self.scaled[rows][..., : self.n].copy()
        if self.mask is not None:
            actual[~self.mask[rows][..., : self.n]] = np.nan
        return actual

    def actual_read(self, starts: np.ndarray) -> np.ndarray:
        """The targets of the horizons after ``starts`` as read (NaN where missing): what the
        scores and returned frames use, never values scaled and back."""
        rows = starts[:, None] + np.arange(
            self.est.lookback_, self.est.lookback_ + self.est.horizon
        )
        return self.targets[rows]

    def lookback_read(self, starts: np.ndarray) -> np.ndarray:
        """The targets of the look-backs from ``starts`` as read, filled as the model saw
        them."""
        return self.read[starts[:, None] + np.arange(self.est.lookback_)]


def one_window(
    est: Any,
    prepared: Prepared,
    windows: Windows,
    taus: Sequence[float],
    radius_of: RadiusOf | None = None,
    floored: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The original-scale forecast ``[H, N]`` (and quantiles ``[H, N, Q]``) of the window
    whose look-back starts at row 0, in the caller's target order; ``floored``: with the
    ``nonnegative`` targets floored at zero (:mod:`tsfm.estimator.floors`)."""
    if taus:
        check_interval_variates(est, prepared)
    scaled, quantiles = forward(est, windows.batch(np.array([0])), taus, radius_of)
    n = prepared.n_targets
    values = finite(unscale(prepared.scaler, scaled[0], n), "the forecast", est.module_)
    if quantiles is not None:
        quantiles = finite(
            unscale_quantiles(prepared.scaler, quantiles[0], n), "the quantiles", est.module_
        )
    if floored:  # on the original scale, in the model's column order
        mask = floored_columns(est, prepared.table.columns[:n])
        values, quantiles = floor(values, mask), floor(quantiles, mask, quantiles=True)
    if prepared.restore is not None:
        values = values[:, prepared.restore]
        quantiles = None if quantiles is None else quantiles[:, prepared.restore]
    return values, quantiles


def table_to_forecast_from(est: Any, df: Any) -> SeriesTable:
    """The fitted data (``df`` None) or ``df`` as read, refused when it holds fewer rows than
    the look-back a forecast reads."""
    table = est.history_ if df is None else est._read(df)
    if len(table) < est.lookback_:
        raise InputError(
            f"the frame has {len(table)} rows; a forecast needs the last lookback = "
            f"{est.lookback_} of them"
        )
    return table


def forecast_next(
    est: Any,
    table: SeriesTable,
    future: SeriesTable | None = None,
    taus: Sequence[float] = (),
    radius_of: RadiusOf | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The ``horizon`` steps after ``table`` (its last ``lookback`` rows are the input;
    ``future`` holds the future covariates of the horizon): times, values ``[H, N]`` and,
    with ``taus``, quantiles ``[H, N, Q]`` (else None; conformal ones read at ``radius_of``'s
    radii when given)."""
    prepared, windows, times = next_window(est, table, future)
    values, quantiles = one_window(est, prepared, windows, taus, radius_of)
    return times[est.lookback_ :], values, quantiles


def next_window(
    est: Any, table: SeriesTable, future: SeriesTable | None = None
) -> tuple[Prepared, Windows, np.ndarray]:
    """The window after ``table`` (its look-back starts at row 0 of :class:`Windows`), the
    prepared ``table`` it is cut from and the window's times (look-back, then horizon)."""
    from tsfm.estimator.future import future_rows

    prepared = prepare(est, table, len(table))
    window = prepared.table.tail(est.lookback_)
    warn_unobserved(window, prepared.n_targets)
    warn_table_horizon_rows(prepared.table, prepared.n_targets, est.horizon)
    joined, times = future_rows(est, window, future)
    return prepared, Windows(est, replace(prepared, table=joined, restore=None), times), times


def forecast_at(
    est: Any, table: SeriesTable, cutoff: int, taus: Sequence[float] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The forecast of the ``horizon`` rows from ``cutoff`` on, from the ``lookback`` rows
    before it (and the future covariates of ``table``'s horizon rows: nothing else of those
    rows is read), as :func:`forecast_next` returns it."""
    window = table.rows(slice(cutoff - est.lookback_, cutoff + est.horizon))
    prepared = prepare(est, window, est.lookback_)
    windows = Windows(est, prepared, prepared.table.times)
    values, quantiles = one_window(est, prepared, windows, taus)
    return window.times[est.lookback_ :], values, quantiles
