"""The panels of ``Forecaster.plot`` for ``mode="independent"``: each series its own dates;
with several targets per series, a row per series and a column per target (``target=``
picks some)."""

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
    targets: list[str],
) -> tuple[list[Panel], int]:
    """One :class:`Panel` per chosen series id (the first ``max_series`` without ``series``)
    and target of ``targets`` (series by series), and how many series there are."""
    ids, histories = _histories(est, df, targets)
    names = [str(s) for s in ids]
    chosen = choose_series(names, series, max_series, "series")
    forecast, _, _ = to_polars(est.predict(df, future_df, level=list(levels) or None))
    layout = est.layout_
    tz = None if layout.time_type.get("wall") else layout.time_type.get("tz")
    key = pl.col(layout.id_col).cast(pl.String)
    truths = _actuals(est, actual, targets) if actual is not None else None
    several = len(est.columns_) > 1
    panels = []
    for name in chosen:
        times, values = histories[names.index(name)]
        times, values = times[-rows:], values[-rows:]
        horizon = future_times(times[-1], est.freq_, est.horizon)
        rows_of = forecast.filter(key == name)
        for k, column in enumerate(targets):  # predict's column names
            panel = Panel(
                title=f"{name}: {column}" if several else name,
                past_times=wall_times(times, tz),
                past=values[:, k],
                times=wall_times(horizon, tz),
                forecast=rows_of[column].to_numpy(),
                bands=[
                    (
                        v,
                        rows_of[f"{column}-lo-{v:g}"].to_numpy(),
                        rows_of[f"{column}-hi-{v:g}"].to_numpy(),
                    )
                    for v in levels
                ],
            )
            if truths is not None:
                if name not in truths:
                    raise InputError(
                        f"actual has no series {name!r}; pass a long frame with the drawn "
                        "series (or name others with series=[...]), or leave actual out"
                    )
                stamps, truth = truths[name]
                within = within_horizon(stamps, horizon, f"actual's series {name!r}")
                panel.actual_times = wall_times(stamps[within], tz)
                panel.actual = truth[within, k]
            panels.append(panel)
    return panels, len(names)


def plotted_targets(est: Any, target: str | Sequence[str] | None) -> list[str]:
    """The targets ``plot`` draws: ``target`` (one name or a list of them, checked against
    the model's targets), or every target of the model (None)."""
    valid = [str(t) for t in est.columns_]
    if est.mode_ != "independent":
        if target is None:
            return valid
        raise InputError(
            f"target={target!r} picks the targets of a mode='independent' panel; this "
            f"mode='joint' model's targets are its series ({valid[:20]}): name them with "
            "series=[...], or leave target out"
        )
    if target is None:
        return valid
    names = [target] if isinstance(target, str) else target
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise InputError(
            f"target takes a target's name or a list of them, e.g. target={valid[0]!r}; got "
            f"{target!r} (the model's targets: {valid})"
        )
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        what = f"names {unknown}, which are not" if unknown else "is empty; name one of"
        raise InputError(
            f"target {what} the model's targets: pick from {valid} (e.g. target={valid[0]!r}), "
            "or leave target out to draw every target"
        )
    return list(dict.fromkeys(names))


def _histories(
    est: Any, df: Any, targets: list[str]
) -> tuple[list, list[tuple[np.ndarray, np.ndarray]]]:
    """The series ids and each series' ``(times, values [T, len(targets)])`` the forecast
    starts from."""
    if df is None:
        history = est.history_
        at = [[str(c) for c in est.columns_].index(t) for t in targets]  # the targets first
        pairs = []
        for times, values in zip(history.times, history.values[..., at], strict=True):
            observed = np.flatnonzero(~np.isnan(values).all(axis=1))  # short series: padded
            start = observed[0] if len(observed) else 0
            pairs.append((times[start:], values[start:]))
        return list(est.series_), pairs
    long = read_panel(est, df)
    return list(long.ids), [_target_values(t, targets) for t in series_tables(long)]


def _actuals(est: Any, actual: Any, targets: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    long = read_panel(est, actual, name="actual")
    tables = series_tables(long)
    return {str(s): _target_values(t, targets) for s, t in zip(long.ids, tables, strict=True)}


def _target_values(table: Any, targets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A series table's times and its ``targets``' values ``[T, len(targets)]``."""
    names = [str(c) for c in table.columns]
    return table.times, table.values[:, [names.index(t) for t in targets]]
