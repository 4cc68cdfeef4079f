"""``tsfm.m4_scores``: forecasts in long frames scored the M4 competition's way.

sMAPE and MASE per series, their means over the series, the same for the Naive2 benchmark
forecast from each series' history, and OWA = (MASE / MASE_Naive2 + sMAPE / sMAPE_Naive2) / 2
(the definitions of :mod:`tsfm.data.m4.metrics`, which ``python -m tsfm.run`` scores M4 runs
with). The frames are matched by series id and time, so any row order works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import to_polars
from tsfm.data.m4.metrics import GroupScores, mase_scale, naive2, smape
from tsfm.data.rounding import ROUNDING_FLOAT64
from tsfm.errors import InputError

FORECAST = "__forecast"
SHOWN = 3  # series named in a message


def m4_scores(
    forecasts: Any,
    actuals: Any,
    history: Any,
    season_length: int,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    forecast_col: str | None = None,
) -> dict[str, float]:
    """sMAPE, MASE and OWA of ``forecasts`` against ``actuals``, as the M4 competition scores.

    Args:
        forecasts: long frame (pandas or polars) of the forecasts, e.g. ``Forecaster.predict()``:
            ``id_col``, ``time_col`` and ``forecast_col``.
        actuals: the true values at those rows (M4: the test file), ``target_col``.
        history: each series' rows before its forecasts (M4: the training file), what
            MASE's scale and Naive2 come from; series without actuals are left out.
        season_length: M4's seasonal period ``m`` of MASE and Naive2: 1 for Yearly, Weekly
            and Daily, 4 Quarterly, 12 Monthly, 24 Hourly.
        forecast_col: the forecasts' column (default ``target_col``, as ``predict`` names it).

    Returns ``{"n_series", "smape", "mase", "naive2_smape", "naive2_mase", "owa"}``: means over
    the series of ``actuals`` (sMAPE in percent; several groups combine by series count).
    """
    if isinstance(season_length, bool) or not isinstance(season_length, (int, np.integer)):
        raise InputError(f"season_length must be a whole number >= 1, got {season_length!r}")
    if season_length < 1:
        raise InputError(f"season_length must be a whole number >= 1, got {season_length}")
    forecast_col = forecast_col or target_col
    keys = [id_col, time_col]
    given = _read(forecasts, "forecasts", [*keys, forecast_col])
    truth = _read(actuals, "actuals", [*keys, target_col])
    past = _read(history, "history", [*keys, target_col])
    if truth.is_empty():
        raise InputError("actuals has no rows: nothing to score")
    rows = _matched(given.rename({forecast_col: FORECAST}), truth, keys, target_col)
    pasts = past.sort(keys).partition_by(id_col, as_dict=True, maintain_order=True)
    series = rows.sort(keys).partition_by(id_col, as_dict=True, maintain_order=True)
    missing = [key[0] for key in series if key not in pasts]
    if missing:
        raise InputError(
            f"series {missing[:SHOWN]} ({len(missing)} in all) have actuals but no history "
            "rows: MASE's scale and Naive2 come from each series' history (M4: its training rows)"
        )
    per_series = [
        _scores(key[0], part, pasts[key], time_col, target_col, season_length)
        for key, part in series.items()
    ]
    ours, benchmark = np.array(per_series).reshape(len(per_series), 2, 2).mean(axis=0)
    return GroupScores(len(per_series), *map(float, ours), *map(float, benchmark)).as_dict()


def _read(frame: Any, what: str, columns: list[str]) -> pl.DataFrame:
    """``frame`` as polars with ``columns``, one row per (id, time), no missing value."""
    try:
        df = to_polars(frame)[0]
    except TypeError as err:
        raise InputError(f"{what}: {err}") from None
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise InputError(
            f"{what} has no column {absent} (its columns: {df.columns}); name them with "
            "id_col=, time_col=, target_col= (and forecast_col= for the forecasts)"
        )
    df = df.select(columns)
    if not df.schema[columns[2]].is_numeric():
        raise InputError(
            f"{what}: column '{columns[2]}' holds {df.schema[columns[2]]}, not numbers"
        )
    value = pl.col(columns[2])
    bad = df.filter(value.is_null() | (value.cast(pl.Float64).is_nan()))
    if len(bad):
        raise InputError(
            f"{what} has {len(bad)} missing value(s) in '{columns[2]}' (first: series "
            f"{bad[0, 0]!r} at {columns[1]}={bad[0, 1]!r}); M4 scores need every value "
            "(drop the padding of shorter series)"
        )
    twice = df.filter(df.select(columns[:2]).is_duplicated())
    if len(twice):
        raise InputError(
            f"{what} has {len(twice)} rows sharing a series and time (first: series "
            f"{twice[0, 0]!r} at {columns[1]}={twice[0, 1]!r}); give one row for each"
        )
    return df


def _matched(
    forecasts: pl.DataFrame, actuals: pl.DataFrame, keys: list[str], target_col: str
) -> pl.DataFrame:
    """The actuals with their forecasts, every row of each matched."""
    try:
        rows = actuals.join(forecasts, on=keys, how="full", coalesce=True)
    except pl.exceptions.PolarsError as err:  # ids or times of different types
        raise InputError(
            f"the forecasts' and the actuals' {keys} cannot be matched ({err}); give both "
            "frames the same id and time types"
        ) from None
    unmatched_rows = {
        FORECAST: "actuals without a forecast",
        target_col: "forecasts without an actual",
    }
    for lacking, what in unmatched_rows.items():
        unmatched = rows.filter(pl.col(lacking).is_null())
        if len(unmatched):
            raise InputError(
                f"{len(unmatched)} {what} (first: series {unmatched[0, 0]!r} at "
                f"{keys[1]}={unmatched[0, 1]!r}): each series is scored on the same rows in "
                "both frames (M4: its test horizon)"
            )
    return rows


def _scores(
    name: Any, rows: pl.DataFrame, past: pl.DataFrame, time_col: str, target_col: str, m: int
) -> list[float]:
    """``[sMAPE, MASE, Naive2's sMAPE, Naive2's MASE]`` of one series."""
    start, end = rows[time_col].min(), past[time_col].max()
    try:
        overlaps = end >= start
    except TypeError:
        raise InputError(
            f"series {name!r}: the history's {time_col} ({end!r}) and the actuals' ({start!r}) "
            "are of different types; give both frames the same time type"
        ) from None
    if overlaps:
        raise InputError(
            f"the history of series {name!r} reaches {time_col}={end!r}, but its actuals start "
            f"at {start!r}: pass the rows before the forecasts (M4: the training file, not it "
            "with the test rows appended)"
        )
    x = past[target_col].cast(pl.Float64).to_numpy()
    if len(x) <= m:
        raise InputError(
            f"series {name!r} has {len(x)} history rows; MASE's scale needs more than "
            f"season_length = {m}"
        )
    scale = mase_scale(x, m)
    if not scale > ROUNDING_FLOAT64 * float(np.nanmax(np.abs(x), initial=0.0)):
        raise InputError(
            f"series {name!r} has a history without change at lag {m} (season_length), "
            "or none beyond float rounding: MASE's scale is 0; leave the series out of the "
            "scores"
        )
    y = rows[target_col].cast(pl.Float64).to_numpy()
    f = rows[FORECAST].cast(pl.Float64).to_numpy()
    benchmark = naive2(x, len(y), m)
    return [
        float(smape(f, y)),
        float(np.abs(f - y).mean() / scale),
        float(smape(benchmark, y)),
        float(np.abs(benchmark - y).mean() / scale),
    ]
