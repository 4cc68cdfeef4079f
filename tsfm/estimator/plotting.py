"""A picture of a Forecaster's next forecast (``Forecaster.plot``, ``tsfm.plot_forecast``).

One panel per series (with several targets per series, ``mode="independent"``, a row per
series and a column per target, or the targets ``target=`` names): the history the model saw (the last ``history`` rows), the forecast
after the origin (a dashed line at the last observed time), the interval bands when the model
has intervals and, with ``actual``, the true values after the origin. Real timestamps on the
x-axis (wall-clock times of a time-zone-aware frame), steps for integer time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.drawing import DEFAULT_MAX_SERIES, Panel, choose_series, draw, moment, wall_times
from tsfm.errors import InputError
from tsfm.estimator.checks import check_fitted
from tsfm.estimator.interval_requests import requested_levels


def plot_forecast(
    forecaster: Any,
    df: Any = None,
    *,
    series: Sequence[str] | None = None,
    max_series: int | None = DEFAULT_MAX_SERIES,
    history: int | None = None,
    actual: Any = None,
    level: Sequence[float] | str | None = "auto",
    future_df: Any = None,
    title: str | None = None,
    target: str | Sequence[str] | None = None,
) -> Any:
    """The forecast after ``df`` (after the fitted data without it), as a matplotlib Figure.

    Args:
        forecaster: a fitted :class:`~tsfm.Forecaster` (``mode="joint"`` or ``"independent"``).
        df: the frame to forecast from, as for ``predict`` (None: the fitted data).
        series: the series to draw, one panel each: variate columns of a wide frame, series
            ids of a long one (None: the first ``max_series``).
        max_series: how many panels at most when ``series`` is None (None: every series).
        history: rows of history shown before the origin (default: ``lookback``, the rows the
            model saw; without ``df`` only the fitted ``lookback`` rows are kept).
        actual: a frame holding the true values after the origin (e.g. the test frame, in the
            layout of ``df``); its rows within the horizon are drawn as ``actual``.
        level: interval levels in percent drawn as bands when the model has intervals
            (``"auto"``: the levels it scores, 80 and 95 or those its quantiles bound; None
            or ``[]``: no bands).
        future_df: the future covariates over the horizon, as for ``predict``.
        title: the figure's title (default: the model, the horizon and which series).
        target: a ``mode="independent"`` model of several targets per series
            (``targets=[...]``): the target to draw, or a list of them (None: every target,
            a column of panels each, a row per series).

    Returns a ``matplotlib.figure.Figure``; ``fig.savefig(path)`` writes it (nothing is shown,
    and pyplot keeps no reference to it).
    """
    check_fitted(forecaster)
    rows = forecaster.lookback_ if history is None else history
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
        raise InputError(f"history takes a positive number of rows, e.g. history=96; got {rows!r}")
    levels = ()
    if isinstance(level, str):
        if level != "auto":
            raise InputError(f"level takes a list of percentages, None or 'auto'; got {level!r}")
        from tsfm.estimator.intervals import scored_levels

        level = list(scored_levels(forecaster))  # the levels the model scores
    if level and forecaster.module_.has_intervals:
        levels = requested_levels(level)
    from tsfm.estimator.plotting_panels import panel_panels, plotted_targets

    targets = plotted_targets(forecaster, target)
    columns = 1
    if forecaster.mode_ == "independent":
        panels, total = panel_panels(
            forecaster, df, series, max_series, int(rows), actual, levels, future_df, targets
        )
        columns = len(targets) if len(forecaster.columns_) > 1 else 1
    else:
        panels, total = _joint_panels(
            forecaster, df, series, max_series, int(rows), actual, levels, future_df
        )
    if title is None:
        title = f"{forecaster.model}: {forecaster.horizon} steps ahead"
        if len({str(p.origin) for p in panels}) == 1:
            title += f" of {moment(panels[0].origin)}"
        if len(panels) // columns < total:
            hint = "" if series is not None else "; series=[...] picks others"
            title += f" ({len(panels) // columns} of {total} series{hint})"
    return draw(panels, n_cols=columns, title=title)


def _joint_panels(
    est: Any,
    df: Any,
    series: Sequence[str] | None,
    max_series: int | None,
    rows: int,
    actual: Any,
    levels: tuple[float, ...],
    future_df: Any,
) -> tuple[list[Panel], int]:
    from tsfm.estimator.inference import forecast_next, table_to_forecast_from
    from tsfm.estimator.intervals import band_values, column_request

    table = table_to_forecast_from(est, df)
    taus, requested = column_request(est, levels or None, False)
    times, values, quantiles = forecast_next(est, table, future_df, taus)
    bands = dict(band_values(requested, taus, quantiles)) if taus else {}
    columns = est.output_columns(table)
    names = [str(c) for c in columns]
    chosen = choose_series(names, series, max_series, "series")
    past = table.select(columns).tail(rows)
    truth = None if actual is None else _actual_table(est, actual, chosen, times)
    tz = table.tz  # None for naive times and for local dates
    panels = []
    for name in chosen:
        j = names.index(name)
        panel = Panel(
            title=name,
            past_times=wall_times(past.times, tz),
            past=past.values[:, j],
            times=wall_times(times, tz),
            forecast=values[:, j],
            bands=[(v, bands[f"-lo-{v:g}"][:, j], bands[f"-hi-{v:g}"][:, j]) for v in levels],
        )
        if truth is not None:
            panel.actual_times = wall_times(truth[0], tz)
            panel.actual = truth[1][name]
        panels.append(panel)
    return panels, len(names)


def _actual_table(
    est: Any, actual: Any, chosen: list[str], times: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The times of ``actual`` within the forecast's horizon and each chosen series there."""
    table = est.read(actual, "actual", fitted=True)
    names = [str(c) for c in table.columns]
    missing = [c for c in chosen if c not in names]
    if missing:
        raise InputError(
            f"actual has no series {missing}; pass a frame with the forecast's series (in the "
            f"layout of the fitted data), or leave actual out"
        )
    within = within_horizon(table.times, times, "actual")
    return table.times[within], {c: table.values[within, names.index(c)] for c in chosen}


def within_horizon(stamps: np.ndarray | None, times: np.ndarray, what: str) -> np.ndarray:
    """The rows of ``stamps`` after the origin, up to the forecast's last time (a mask)."""
    if stamps is None:
        raise InputError(f"{what} has no time column; pass a frame with the times of its rows")
    first, last = times[0], times[-1]
    try:
        within = (stamps >= first) & (stamps <= last)
    except TypeError:
        raise InputError(
            f"{what}'s times are not of the forecast's kind ({times.dtype}); pass a frame "
            "with the same time column as the data"
        ) from None
    if not within.any():
        raise InputError(
            f"{what} has no rows from {moment(first)} to {moment(last)} (the forecast's horizon); "
            "pass the "
            "rows that follow the forecast's input, e.g. the test frame"
        )
    return within
