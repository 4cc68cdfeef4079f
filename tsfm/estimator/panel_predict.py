"""``predict`` of ``mode="independent"``: the horizon after the end of every series, each
scaled with its training statistics (a new series with its own history's); the model
forecasts the series a chunk at a time (:mod:`tsfm.estimator.window_chunks`), so that its
memory does not grow with the number of series."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import future_times_each, time_series
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.horizon_rows import trailing_missing, warn_horizon_rows
from tsfm.data.frames.write import finish_frame, id_series
from tsfm.data.values import refuse_overflow, warn_empty_lookback
from tsfm.errors import InputError
from tsfm.estimator.model_outputs import finite
from tsfm.estimator.panel_history import history_of, panel_tables, read_panel, series_scales
from tsfm.estimator.panel_inputs import filled_windows, panel_batch
from tsfm.estimator.static_inputs import statics_for
from tsfm.estimator.window_chunks import chunk_size, spans
from tsfm.training.runtime import inference


def predict_panel(
    est: Any,
    df: Any = None,
    future_df: Any = None,
    taus: tuple[float, ...] = (),
    columns: list[tuple[str, float]] = (),
) -> Any:
    """The horizon after every series of ``df`` (or of the fitted data); with ``taus``, the
    interval and quantile ``columns`` (``(suffix, tau)``) of a probabilistic head too."""
    from tsfm.estimator.future import NO_FUTURE_COVARIATES, horizon_values, require_future_df

    layout = est.layout_
    if df is None:
        history, ids = est.history_, list(est.series_)
        mean, std = est.series_mean_, est.series_std_
        statics = statics_for(est, ids, None)
        given = list(history.values)  # the last lookback rows of each fitted series
    else:
        long = read_panel(est, df, inputs=True)
        layout = long.layout  # forecasts come back in the frame library of df
        tables = [t.select(est.input_columns_) for t in panel_tables(est, long)]
        ids = list(long.ids)
        given = [t.values for t in tables]
        history = history_of(est, given, [t.times for t in tables])
        mean, std = series_scales(est, ids, tables)
        statics = statics_for(est, ids, long.statics)
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
    scaled = (np.concatenate([history.values, future], axis=1) - mean[:, None]) / std[:, None]
    stamps = np.concatenate([history.times, horizons], axis=1)
    refuse_overflow(
        scaled,
        est.input_columns_,
        lambda i: f"for series {ids[i[0]]!r} at {show_time(stamps[i[:2]])}",
    )
    before = None if history.before is None else (history.before - mean) / std
    filled = filled_windows(scaled, before)
    predictions, quantiles = [], []
    for part in spans(len(ids), chunk_size(est, scaled.shape[2], len(taus))):  # bounded memory
        own = {key: value[part] for key, value in statics.items()}
        batch = panel_batch(est, scaled[part], stamps[part], own, filled[part])
        with inference(est.config_, est.module_.device):
            output = est.module_(batch)
            predictions.append(output.prediction.float().cpu().numpy().astype(np.float64))
            if taus:
                q = est.module_.predictive_quantiles(output, batch, taus)
                quantiles.append(q.float().cpu().numpy().astype(np.float64))
    prediction = np.concatenate(predictions)
    quantiles = np.concatenate(quantiles) if taus else None
    values = finite(prediction * std[:, None, :n] + mean[:, None, :n], "the forecast")
    bands = []
    if taus:
        quantiles = quantiles * std[:, None, :n, None] + mean[:, None, :n, None]
        quantiles = finite(quantiles, "the quantiles")
        bands = [(suffix, quantiles[..., 0, list(taus).index(tau)]) for suffix, tau in columns]
    return _write(layout, ids, horizons, values[..., 0], bands)


def _write(layout: Any, ids: list, times: np.ndarray, values: np.ndarray, bands: list = ()) -> Any:
    """A long frame in ``layout``: the horizon of every series after its own end (and
    ``bands``: ``(suffix, values [S, H])`` columns after the target's)."""
    frame = pl.DataFrame(
        [
            id_series(layout, ids, times.shape[1]),
            time_series(layout.time_col, times.reshape(-1), layout.time_type),
            pl.Series(layout.target_col, values.reshape(-1)),
            *(pl.Series(f"{layout.target_col}{s}", b.reshape(-1)) for s, b in bands),
        ]
    )
    return finish_frame(frame, layout)
