"""Every test forecast of a command-line run as a file (``output.forecasts=true``):
``forecasts.parquet`` in the run directory, one row per (test window, series, step).

Columns: ``window`` (the test window's index), ``series`` (the target column, or the series
id of M4 and of panels, in the type the ids were read in: integer ids stay integers), for a
panel of several targets per series (``data.targets=[...]`` with ``data.mode=independent``)
then ``target`` (the target column: one row set per target, the layout of a wide run's
targets, each under its series' id),
``cutoff`` and ``ds`` (the last look-back time and the forecast time, on the data's dates, in
the data's time zone (a CSV's offsets are read as UTC instants, without a zone); the data's
integer steps for integer time, steps counted from the window's start without a time column),
``step`` (1 .. pred_len), ``y`` (the actual value as the data was read, float64, null where
missing: the batch's ``y_original``), ``forecast`` and, for a model with intervals,
``forecast-lo-<L>`` / ``forecast-hi-<L>`` of the run's levels; with ``nonnegative``, those of
its targets floored at zero, as the test metrics score them
(:mod:`tsfm.training.test_floors`). These are the values the test metrics are computed from,
exactly: the mean absolute error of ``forecast - y`` is
``test/mae_original`` (to float64 rounding), the share of ``y`` inside the bounds
``test/coverage_<L>``, and under adaptive conformal
(``conformal.adaptive_rate``) the bounds are those the test pass scores, moving along the test
windows in origin order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from tsfm.data import ForecastDataModule
from tsfm.data.batch import batch_to
from tsfm.data.frames import time_series
from tsfm.training.adaptive_conformal import SequentialTestPass, adaptive_quantiles
from tsfm.training.module import ForecastingModule
from tsfm.training.nonnegative import floor_frame
from tsfm.training.scoring import index_of, level_bounds, level_name, lookback_spread

INDEX_KEYS = ("index", "variate", "variates", "series")  # what rows and the scaling read


def _series_of(
    batch: dict, windows: np.ndarray, datamodule, names: list[str], n: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The series name of every (sample, column) of a batch ``[B, N]``: the window's series
    where each window is one series' (M4, panels), else the target columns; and, for a panel
    of several targets per series, the target column of each (else None)."""
    owners = [datamodule.window_series("test", int(w)) for w in windows]
    if "variate" in batch:  # channel-independent: one column per sample
        return np.array(names, dtype=object)[batch["variate"].cpu().numpy()][:, None], None
    columns = np.broadcast_to(np.array(names, dtype=object), (len(windows), n))
    if all(owner is not None for owner in owners):
        ids = np.broadcast_to(np.array(owners, dtype=object)[:, None], (len(windows), n))
        return ids, (columns if n > 1 else None)
    return columns, None


def _windows_of(batch: dict, dataset: object) -> np.ndarray:
    """The test window of every sample (channel-independent samples are variate-major)."""
    index = batch["index"].cpu().numpy()
    if getattr(dataset, "channel_independent", False):
        return index % dataset.n_windows
    return index


@torch.no_grad()
def forecast_frame(module: ForecastingModule, datamodule: ForecastDataModule) -> pl.DataFrame:
    """Every test window's forecast, long (see the module docstring)."""
    datamodule.setup("test")
    dataset = datamodule.datasets["test"]
    names = [str(c) for c in datamodule.columns]
    size = datamodule.config.eval_batch_size
    levels = sorted(module.hparams.get("levels", ()), reverse=True) if module.has_intervals else []
    taus = [tau for level in levels for tau in level_bounds(level)]
    conformal = module.conformal
    adaptive = bool(taus) and conformal is not None and bool(conformal.adaptive_rate)
    precise = torch.float32 if module.device.type == "mps" else torch.float64  # as the metrics
    was_training = module.training
    module.eval()
    batches, sequence = [], SequentialTestPass()
    for start in range(0, len(dataset), size):
        samples = list(range(start, min(start + size, len(dataset))))
        batch = batch_to(dataset.__getitems__(samples), module.device)
        output = module(batch)
        columns = {
            "forecast": module.to_original(output.prediction, batch, precise).cpu().numpy(),
            "y": module.as_read(batch, "y", precise).cpu().numpy(),  # not scaled and back
        }
        if "y_mask" in batch:
            columns["y"] = np.where(batch["y_mask"].cpu().numpy() > 0, columns["y"], np.nan)
        if adaptive:  # bounds once every window is in: see _adaptive_bands
            stride = getattr(dataset, "stride", 1)
            sequence.add(output.prediction, batch, lookback_spread(batch["x"]), None, stride)
        elif taus:
            quantiles = module.predictive_quantiles(output, batch, taus)
            columns.update(_bands(module, batch, quantiles, taus, levels, precise))
        batches.append(({key: batch[key] for key in INDEX_KEYS if key in batch}, columns))
    module.train(was_training)
    if adaptive:
        _adaptive_bands(module, sequence, batches, levels, precise)
    parts = [_rows(keys, dataset, datamodule, names, columns) for keys, columns in batches]
    frame = _typed_ids(pl.concat(parts), datamodule.series_ids())
    time_type = datamodule.time_type()
    if time_type is not None and frame.schema["ds"].is_temporal():  # the data's zone and unit
        frame = frame.with_columns(
            time_series(name, frame[name].to_numpy(), time_type) for name in ("cutoff", "ds")
        )
    return frame


def _typed_ids(frame: pl.DataFrame, ids: pl.Series | None) -> pl.DataFrame:
    """``series`` in the type the data's ids were read in (a long file's integer ids stay
    integers, so the file joins back to the user's frame); column names stay text."""
    if ids is None or ids.dtype == pl.String:
        return frame
    names = [str(i) for i in ids.to_list()]  # how the rows name them (see _series_of)
    typed = pl.col("series").replace_strict(names, ids, return_dtype=ids.dtype)
    return frame.with_columns(typed)


def _bands(
    module: ForecastingModule,
    batch: dict,
    quantiles: torch.Tensor,
    taus: list[float],
    levels: list[float],
    precise: torch.dtype,
) -> dict[str, np.ndarray]:
    """``forecast-lo/hi-<L>`` of ``levels`` (original scale) from scaled ``quantiles [B, H, N,
    Q]`` at ``taus``."""
    bands = module.to_original(quantiles, batch, precise).cpu().numpy()
    out = {}
    for level in levels:
        lo, hi = (index_of(taus, tau) for tau in level_bounds(level))
        out[f"forecast-lo-{level_name(level)}"] = bands[..., lo]
        out[f"forecast-hi-{level_name(level)}"] = bands[..., hi]
    return out


def _adaptive_bands(module, sequence, batches: list, levels: list[float], precise) -> None:
    """Adds the adaptive conformal bounds to each batch's columns: those the test pass scores
    (:meth:`~tsfm.training.interval_scoring.IntervalScoring._score_sequential`), every test
    window in origin order at the metrics' quantile grid, of which the levels' bounds are
    read (the grid's levels nest the intervals, so the bounds depend on it)."""
    found = sequence.take(lambda values: values)
    grid = list(module.interval_metrics["test"].taus)
    quantiles = adaptive_quantiles(
        module.conformal,
        found["point"],
        found["y"],
        grid,
        found["origin"],
        observed=found.get("mask"),
        columns=found.get("variate"),
        spread=found["spread"],
    )
    sizes = [len(columns["forecast"]) for _, columns in batches]
    for (keys, columns), part in zip(batches, quantiles.split(sizes), strict=True):
        scaled = part.to(module.device, precise)
        columns.update(_bands(module, keys, scaled, grid, levels, precise))


def _rows(batch, dataset, datamodule, names, columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """One row per (sample, column, step) of a batch's ``[B, H, N]`` values."""
    size, horizon, n = columns["forecast"].shape
    windows = _windows_of(batch, dataset)
    seq_len = datamodule.config.seq_len
    times = [datamodule.window_times("test", int(w)) for w in windows]
    if any(t is None for t in times):
        times = [np.arange(seq_len + horizon) for _ in windows]
    times = np.stack(times)  # [B, L + H]
    order = (size, n, horizon)  # rows: sample-major, then column, then step

    def spread(values: np.ndarray) -> np.ndarray:  # [B, H, N] -> rows
        return np.moveaxis(values, 2, 1).reshape(-1)

    series, targets = _series_of(batch, windows, datamodule, names, n)
    frame = {
        "window": np.broadcast_to(windows[:, None, None], order).reshape(-1),
        "series": np.broadcast_to(series[..., None], order).reshape(-1),
        **(
            {"target": np.broadcast_to(targets[..., None], order).reshape(-1)}
            if targets is not None
            else {}
        ),
        "cutoff": np.broadcast_to(times[:, seq_len - 1, None, None], order).reshape(-1),
        "ds": np.broadcast_to(times[:, None, seq_len:], order).reshape(-1),
        "step": np.broadcast_to(np.arange(1, horizon + 1), order).reshape(-1),
        **{name: spread(values) for name, values in columns.items()},
    }
    series = {}
    for name, values in frame.items():
        if values.dtype == object:
            series[name] = pl.Series(name, values.tolist())
        elif np.issubdtype(values.dtype, np.floating):
            series[name] = pl.Series(name, values, nan_to_null=True)  # null: missing
        else:
            series[name] = pl.Series(name, values)
    return pl.DataFrame(series)


def write_forecasts(
    module: ForecastingModule,
    datamodule: ForecastDataModule,
    path: str | Path,
    nonnegative: Any = False,
) -> Path:
    """Write :func:`forecast_frame` to ``path`` (Parquet), the forecasts and bounds of the
    ``nonnegative`` targets floored at zero (:func:`tsfm.training.nonnegative.floor_frame`);
    returns the path."""
    path = Path(path)
    frame = forecast_frame(module, datamodule)
    floor_frame(frame, nonnegative, datamodule.long_target()).write_parquet(path)
    return path
