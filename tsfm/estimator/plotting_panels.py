"""The panels of ``Forecaster.plot`` for ``mode="independent"``: each series its own dates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import future_times, to_polars
from tsfm.data.frames.long import series_tables
from tsfm.drawing import Panel, choose_series, wall_times
from tsfm.errors import InputError
from tsfm.estimator.panel_history import read_panel
from tsfm.estimator.plotting import within_horizon


def panel_panels(
    est: Any,
    df: Any,
    series: Sequence[str] | None,
    max_series: int | None,
    rows: int,
    actual: Any,
    levels: tuple[float, ...],
    future_df: Any,
) -> tuple[list[Panel], int]:
    """One :class:`Panel` per chosen series id (the first ``max_series`` without ``series``),
    and how many series there are."""
    ids, histories = _histories(est, df)
    names = [str(s) for s in ids]
    chosen = choose_series(names, series, max_series, "series")
    forecast, _, _ = to_polars(est.predict(df, future_df, level=list(levels) or None))
    layout = est.layout_
    tz = None if layout.time_type.get("wall") else layout.time_type.get("tz")
    key = pl.col(layout.id_col).cast(pl.String)
    truths = _actuals(est, actual) if actual is not None else None
    panels = []
    for name in chosen:
        times, values = histories[names.index(name)]
        times, values = times[-rows:], values[-rows:]
        horizon = future_times(times[-1], est.freq_, est.horizon)
        rows_of = forecast.filter(key == name)
        target = layout.target_col
        panel = Panel(
            title=name,
            past_times=wall_times(times, tz),
            past=values,
            times=wall_times(horizon, tz),
            forecast=rows_of[target].to_numpy(),
            bands=[
                (
                    v,
                    rows_of[f"{target}-lo-{v:g}"].to_numpy(),
                    rows_of[f"{target}-hi-{v:g}"].to_numpy(),
                )
                for v in levels
            ],
        )
        if truths is not None:
            if name not in truths:
                raise InputError(
                    f"actual has no series {name!r}; pass a long frame with the drawn series "
                    "(or name others with series=[...]), or leave actual out"
                )
            stamps, truth = truths[name]
            within = within_horizon(stamps, horizon, f"actual's series {name!r}")
            panel.actual_times, panel.actual = wall_times(stamps[within], tz), truth[within]
        panels.append(panel)
    return panels, len(names)


def refuse_several_targets(est: Any) -> None:
    """A panel's plot draws one target per series: a model with several is refused, with
    what draws them."""
    if len(est.columns_) > 1:
        raise InputError(
            f"plot draws one target per series, and this mode='independent' model forecasts "
            f"{len(est.columns_)} ({est.columns_}): plot predict()'s columns yourself (one "
            "column per target), or fit a model of one target (target_col) to plot it"
        )


def _histories(est: Any, df: Any) -> tuple[list, list[tuple[np.ndarray, np.ndarray]]]:
    """The series ids and each series' ``(times, target values)`` the forecast starts from."""
    if df is None:
        history = est.history_
        pairs = []
        for times, values in zip(history.times, history.values[..., 0], strict=True):
            observed = np.flatnonzero(~np.isnan(values))  # the front is padded for short series
            start = observed[0] if len(observed) else 0
            pairs.append((times[start:], values[start:]))
        return list(est.series_), pairs
    long = read_panel(est, df)
    return list(long.ids), [(t.times, t.values[:, 0]) for t in series_tables(long)]


def _actuals(est: Any, actual: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    long = read_panel(est, actual, name="actual")
    tables = series_tables(long)
    return {str(s): (t.times, t.values[:, 0]) for s, t in zip(long.ids, tables, strict=True)}
