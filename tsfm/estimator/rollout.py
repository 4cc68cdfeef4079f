"""``predict(steps=n)`` beyond the horizon: the model's own forecasts fed back as look-back.

A model forecasts ``horizon`` steps. For ``steps > horizon`` the forecast is rolled out in
blocks, as darts does when ``n`` exceeds ``output_chunk_length``: each block is a plain
forecast from the rows before it, and the rows it keeps are appended to the frame (their
targets the point forecast, their covariates read from ``future_df``) before the next block
is forecast. The blocks start ``horizon`` steps apart; the last starts at ``steps - horizon``
and ends at ``steps`` exactly (the block before it keeps only the rows up to its start), so
the covariates are needed over ``steps`` steps and no further:

- future covariates over all ``steps`` (each block reads them over its horizon);
- past covariates over the first ``steps - horizon`` (the appended rows are look-back of the
  later blocks), as columns of ``future_df``; with ``missing="mask"`` they may be left out
  (or empty), and are masked inputs, as in training.

The result equals forecasting, appending and forecasting again by hand (``predict``, concat,
``predict``), bit for bit. Intervals reach only the horizon (the conformal scores and the
probabilistic head are of steps 1..horizon; a block fed its own point forecasts has no
calibrated spread), so ``level``/``quantiles`` with ``steps > horizon`` are refused.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tsfm.data.frames import SeriesTable, future_times, future_times_each
from tsfm.data.frames.long import covariate_column
from tsfm.data.values import last_observed
from tsfm.errors import InputError
from tsfm.estimator.checks import role_names


def check_steps(est: Any, steps: Any, interval_columns: list) -> int | None:
    """``steps`` as a positive whole number (None: the horizon); intervals beyond the horizon
    refused."""
    if steps is None:
        return None
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise InputError(
            f"steps must be a positive whole number of steps to forecast, got {steps!r} (e.g. "
            f"steps={2 * est.horizon}; without steps: the horizon, {est.horizon})"
        )
    if steps > est.horizon and interval_columns:
        raise InputError(
            f"intervals reach only the horizon (horizon={est.horizon}): the model's spread is "
            f"calibrated for steps 1..{est.horizon}, not for forecasts fed back as look-back; "
            f"ask level/quantiles with steps <= {est.horizon}, forecast points only with "
            f"steps={steps}, or fit a Forecaster with horizon={steps}"
        )
    return int(steps)


def block_starts(steps: int, horizon: int) -> list[int]:
    """The steps after the origin where each block starts: ``horizon`` apart, the last at
    ``steps - horizon`` (``[0]`` within the horizon)."""
    if steps <= horizon:
        return [0]
    return [*range(0, steps - horizon, horizon), steps - horizon]


def past_names(est: Any) -> list[str]:
    """The past covariates as ``future_df`` names them (a wide frame's all, ``MS`` too)."""
    if est.layout_.kind == "long":
        return [str(c) for c in role_names(est, "past_covariates")]
    return [str(c) for c in est.roles_.past]


def known_after(
    est: Any, future_df: Any, series: list, times: np.ndarray, steps: int
) -> dict[str, list[np.ndarray]]:
    """Every covariate's values over the ``steps`` timestamps ``times[j]`` after each
    series' origin (past ones NaN from ``steps - horizon`` on), checked before any block
    runs, so that a missing value is named up front."""
    from tsfm.estimator.future import horizon_values, require_future_df

    values: dict[str, list[np.ndarray]] = {}
    if est.roles_.future:
        require_future_df(est, future_df)
        plain = without_past(est, future_df)
        values.update(horizon_values(est, plain, series, list(times), steps=steps))
    past, rows = past_names(est), steps - est.horizon
    if not past:
        return values
    masked = est.missing == "mask"
    if future_df is None and not masked:
        raise InputError(
            f"predict(steps={steps}) beyond the horizon feeds its forecasts back as look-back, "
            f"which needs the past covariates {past} over the first steps - horizon = {rows} "
            "steps: give them as columns of future_df (make_future_dataframe(steps=...) lays "
            "it out), or fit with missing='mask' to leave them unknown"
        )
    given = {name: [np.full(steps, np.nan) for _ in series] for name in past}
    if future_df is not None:
        head = [t[:rows] for t in times]
        read = horizon_values(est, future_df, series, head, past, optional=masked, steps=steps)
        for name in past:
            for j, column in enumerate(read[name]):
                given[name][j][:rows] = column
    return {**values, **given}


def without_past(est: Any, future_df: Any) -> Any:
    """``future_df`` as a block's plain forecast reads it: the future covariates only."""
    if future_df is None or not est.roles_.future:
        return None
    drop = [c for c in past_names(est) if c in [str(n) for n in future_df.columns]]
    if not drop:
        return future_df
    if hasattr(future_df, "select") and not hasattr(future_df, "loc"):  # polars
        return future_df.drop(drop)
    return future_df.drop(columns=drop)


def roll_table(
    est: Any, table: SeriesTable, future_df: Any, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``steps`` timestamps and forecasts ``[steps, N]`` after a joint ``table``."""
    from tsfm.estimator.inference import forecast_next

    series = list(est.series_) if est.layout_.kind == "long" else [None]
    times = future_times(table.times[-1], est.freq_, steps)
    known = known_after(est, future_df, series, [times] * len(series), steps)
    plain = without_past(est, future_df)
    targets = [str(c) for c in est.output_columns(table)]
    columns = [str(c) for c in table.columns]
    sources = {}  # table column -> (covariate, series position)
    for name in known:
        for j, s in enumerate(series):
            sources[name if s is None else covariate_column(name, s)] = (name, j)
    starts = block_starts(steps, est.horizon)
    kept_times, kept = [], []
    for k, start in enumerate(starts):
        block_times, values, _ = forecast_next(est, table, plain)
        end = starts[k + 1] if k + 1 < len(starts) else start + est.horizon
        kept_times.append(block_times[: end - start])
        kept.append(values[: end - start])
        if k + 1 == len(starts):
            break
        rows = np.full((end - start, len(columns)), np.nan)
        for i, column in enumerate(columns):
            if column in targets:
                rows[:, i] = values[: end - start, targets.index(column)]
            else:
                name, j = sources[column]
                rows[:, i] = known[name][j][start:end]
        table = replace(
            table,
            values=np.concatenate([table.values, rows]),
            times=np.concatenate([table.times, times[start:end]]),
        )
    return np.concatenate(kept_times), np.concatenate(kept)


def roll_panel(est: Any, inputs: Any, future_df: Any, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``steps`` timestamps and forecasts ``[S, steps, N]`` after every series of a
    ``mode="independent"`` panel's ``inputs`` (:class:`~tsfm.estimator.panel_predict.PanelInputs`)."""
    from tsfm.estimator.panel_history import PanelHistory, history_of, series_scales
    from tsfm.estimator.panel_predict import panel_forecast

    ids = inputs.ids
    times = future_times_each([t[-1] for t in inputs.times], est.freq_, steps)
    known = known_after(est, future_df, ids, times, steps)
    plain = without_past(est, future_df)
    position = {str(c): i for i, c in enumerate(est.input_columns_)}
    n = len(est.columns_)
    starts = block_starts(steps, est.horizon)
    kept_times, kept = [], []
    for k, start in enumerate(starts):
        block_times, values, _ = panel_forecast(est, inputs, plain)
        end = starts[k + 1] if k + 1 < len(starts) else start + est.horizon
        kept_times.append(block_times[:, : end - start])
        kept.append(values[:, : end - start])
        if k + 1 == len(starts):
            break
        given, stamps = [], []
        for j, (old, old_times) in enumerate(zip(inputs.given, inputs.times, strict=True)):
            rows = np.full((end - start, old.shape[1]), np.nan)
            rows[:, :n] = values[j, : end - start]
            for name, per_series in known.items():
                rows[:, position[name]] = per_series[j][start:end]
            given.append(np.concatenate([old, rows]))
            stamps.append(np.concatenate([old_times, times[j, start:end]]))
        history = history_of(est, given, stamps)
        mean, std = inputs.mean, inputs.std
        if inputs.tables is None:  # the fitted look-backs: the rows before them are known
            fitted = est.history_.before
            fitted = [None] * len(given) if fitted is None else list(fitted)
            before = np.stack(
                [
                    last_observed(g[: len(g) - est.lookback_], b)
                    for g, b in zip(given, fitted, strict=True)
                ]
            )
            history = PanelHistory(history.values, history.times, before)
        else:  # as a frame with those rows read again: a new series' scale counts them
            tables = [replace(t, values=g) for t, g in zip(inputs.tables, given, strict=True)]
            mean, std = series_scales(est, ids, tables)
            inputs = replace(inputs, tables=tables)
        inputs = replace(inputs, given=given, times=stamps, history=history, mean=mean, std=std)
    return np.concatenate(kept_times, axis=1), np.concatenate(kept, axis=1)
