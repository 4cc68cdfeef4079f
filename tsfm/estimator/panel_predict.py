"""``predict`` of ``mode="independent"``: the horizon after the end of every series, each
scaled with its training statistics (a new series with its own history's); the model
forecasts the series a chunk at a time (:mod:`tsfm.estimator.window_chunks`), so that its
memory does not grow with the number of series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import future_times_each, time_series
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.horizon_rows import trailing_missing, warn_horizon_rows
from tsfm.data.frames.write import finish_frame, id_series
from tsfm.data.values import refuse_overflow, warn_empty_lookback
from tsfm.errors import InputError
from tsfm.estimator.floors import floored_columns
from tsfm.estimator.model_outputs import finite
from tsfm.estimator.panel_given import check_given_rows
from tsfm.estimator.panel_history import (
    PanelHistory,
    history_of,
    panel_tables,
    read_panel,
    series_scales,
)
from tsfm.estimator.panel_inputs import filled_windows, panel_batch
from tsfm.estimator.static_inputs import statics_for
from tsfm.estimator.window_chunks import chunk_size, spans
from tsfm.training.nonnegative import floor
from tsfm.training.runtime import fitted_precision, inference


@dataclass
class PanelInputs:
    """What a panel forecast starts from: each series' rows (``given``, in the model's column
    order, with their ``times``), the look-backs cut from them, scaling and statics."""

    layout: Any
    ids: list
    given: list[np.ndarray]
    times: list[np.ndarray]
    history: PanelHistory
    mean: np.ndarray
    std: np.ndarray
    statics: dict
    tables: list | None  # the tables read from df (None: the fitted look-backs)


def panel_inputs(
    est: Any, df: Any = None, intervals: bool = False, what: str = "predict"
) -> PanelInputs:
    """The inputs of a forecast after every series of ``df`` (or of the fitted data), the rows
    given of each checked (:mod:`tsfm.estimator.panel_given`; ``intervals``: the forecast has
    intervals, quantiles or paths; ``what``: the call, in its warnings)."""
    if df is None:
        history, ids = est.history_, list(est.series_)
        statics = statics_for(est, ids, None)
        given = list(history.values)  # the last lookback rows of each fitted series
        return PanelInputs(est.layout_, ids, given, list(history.times), history,
                           est.series_mean_, est.series_std_, statics, None)  # fmt: skip
    long = read_panel(est, df, inputs=True)
    tables = [t.select(est.input_columns_) for t in panel_tables(est, long)]
    ids = list(long.ids)
    given, times = [t.values for t in tables], [t.times for t in tables]
    check_given_rows(est, ids, tables, intervals, what)
    mean, std = series_scales(est, ids, tables)
    statics = statics_for(est, ids, long.statics)
    history = history_of(est, given, times)
    return PanelInputs(long.layout, ids, given, times, history, mean, std, statics, tables)


def predict_panel(
    est: Any,
    df: Any = None,
    future_df: Any = None,
    taus: tuple[float, ...] = (),
    columns: list[tuple[str, float]] = (),
    steps: int | None = None,
) -> Any:
    """The horizon after every series of ``df`` (or of the fitted data); with ``taus``, the
    interval and quantile ``columns`` (``(suffix, tau)``) of a probabilistic head too;
    ``steps``: the first ``steps`` of them, or beyond the horizon the rollout of
    :mod:`tsfm.estimator.rollout`."""
    inputs = panel_inputs(est, df, bool(taus))  # forecasts come back in the library of df
    if steps is not None and steps > est.horizon:
        from tsfm.estimator.rollout import roll_panel

        horizons, values = roll_panel(est, inputs, future_df, steps)
        return _write(inputs.layout, inputs.ids, est.columns_, horizons, values)
    horizons, values, quantiles = panel_forecast(est, inputs, future_df, taus)
    bands = [(suffix, quantiles[..., list(taus).index(tau)]) for suffix, tau in columns]
    keep = slice(None, steps)
    bands = [(suffix, band[:, keep]) for suffix, band in bands]
    targets = est.columns_
    return _write(inputs.layout, inputs.ids, targets, horizons[:, keep], values[:, keep], bands)


def panel_forecast(
    est: Any,
    inputs: PanelInputs,
    future_df: Any,
    taus: tuple[float, ...] = (),
    looks: list | None = None,
    floored: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The horizon's timestamps ``[S, H]``, forecasts ``[S, H, N]`` and (with ``taus``)
    quantiles ``[S, H, N, Q]`` of every series of ``inputs`` (``N`` targets per series);
    ``looks``: a list that gets the model's scaled look-back inputs ``x`` of each chunk
    (``[s, L, N]``, the series' order), whose spread normalised conformal scores are read at
    (sample paths); ``floored=False``: the model's own forecasts, not floored by
    ``nonnegative`` (sample paths floor later)."""
    from tsfm.estimator.future import NO_FUTURE_COVARIATES, horizon_values, require_future_df

    ids, history, given = inputs.ids, inputs.history, inputs.given
    mean, std, statics = inputs.mean, inputs.std, inputs.statics
    n = len(est.columns_)
    trailing = [trailing_missing(v[:, :n]).min() for v in given]
    warn_horizon_rows(ids, np.array(trailing), "each series' last row")
    empty = np.isnan(history.values[:, :, :n]).all(axis=1).any(axis=1)
    if empty.any():  # as a joint predict warns (evaluate leaves such windows out of its scores)
        warn_empty_lookback([s for s, e in zip(ids, empty, strict=True) if e], est.lookback_)
    horizons = future_times_each([t[-1] for t in history.times], est.freq_, est.horizon)
    n_cov_future = len(est.roles_.future)
    future = np.zeros((len(ids), est.horizon, history.values.shape[2]))
    if n_cov_future:
        require_future_df(est, future_df)
        known = horizon_values(est, future_df, ids, list(horizons))
        for k, name in enumerate(est.roles_.future):
            future[:, :, -n_cov_future + k] = np.stack(known[name])
    elif future_df is not None:
        raise InputError(NO_FUTURE_COVARIATES)
    as_read = np.concatenate([history.values, future], axis=1)
    scaled = (as_read - mean[:, None]) / std[:, None]
    stamps = np.concatenate([history.times, horizons], axis=1)
    refuse_overflow(
        scaled,
        est.input_columns_,
        lambda i: f"for series {ids[i[0]]!r} at {show_time(stamps[i[:2]])}",
        as_read,
    )
    before = None if history.before is None else (history.before - mean) / std
    filled = filled_windows(scaled, before)
    predictions, quantiles = [], []
    for part in spans(len(ids), chunk_size(est, scaled.shape[2], len(taus))):  # bounded memory
        own = {key: value[part] for key, value in statics.items()}
        batch = panel_batch(est, scaled[part], stamps[part], own, filled[part])
        if looks is not None:
            looks.append(batch["x"])
        with inference(est.config_, est.module_.device, fitted_precision(est)):
            output = est.module_(batch)
            predictions.append(output.prediction.float().cpu().numpy().astype(np.float64))
            if taus:
                q = est.module_.predictive_quantiles(output, batch, taus)
                quantiles.append(q.float().cpu().numpy().astype(np.float64))
    prediction = np.concatenate(predictions)
    values = finite(prediction * std[:, None, :n] + mean[:, None, :n], "the forecast", est.module_)
    n_targets = len(est.columns_)  # nonnegative, on the original scale (floored=False: none)
    mask = floored_columns(est, list(est.columns_)) if floored else np.zeros(n_targets, bool)
    values = floor(values, mask)
    if not taus:
        return horizons, values, None
    quantiles = np.concatenate(quantiles) * std[:, None, :n, None] + mean[:, None, :n, None]
    quantiles = floor(finite(quantiles, "the quantiles", est.module_), mask, quantiles=True)
    return horizons, values, quantiles


def _write(
    layout: Any, ids: list, targets: list, times: np.ndarray, values: np.ndarray, bands: list = ()
) -> Any:
    """A long frame in ``layout``: the horizon of every series after its own end, a column
    per target of ``values [S, H, N]`` (each followed by its ``bands``: ``(suffix, values
    [S, H, N])``)."""
    columns = [
        id_series(layout, ids, times.shape[1]),
        time_series(layout.time_col, times.reshape(-1), layout.time_type),
    ]
    for k, target in enumerate(targets):
        columns.append(pl.Series(str(target), values[..., k].reshape(-1)))
        columns += [pl.Series(f"{target}{s}", b[..., k].reshape(-1)) for s, b in bands]
    return finish_frame(pl.DataFrame(columns), layout)
