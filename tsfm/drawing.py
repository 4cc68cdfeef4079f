"""Forecast figures with matplotlib, shared by ``Forecaster.plot`` and the CLI's ``forecast.png``.

A :class:`Panel` holds what one axis shows: the history the model saw, the forecast after its
origin, the interval bands and, when known, the actual values. :func:`draw` lays panels out in
a grid and returns a ``matplotlib.figure.Figure`` (not kept by pyplot: nothing is shown or
leaks; ``fig.savefig(path)`` writes it). Dates go on the x-axis when the times are dates.
matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsfm.errors import InputError

DEFAULT_MAX_SERIES = 4  # panels a forecast plot draws when no series are named

HISTORY, ACTUAL, FORECAST, ORIGIN = "history", "actual", "forecast", "forecast origin"


@dataclass
class Panel:
    """One axis: ``past`` at ``past_times`` (the history; its last time is the forecast
    origin), ``forecast`` at ``times``, ``bands`` ``(level, lower, upper)`` and the optional
    ``actual`` values at ``actual_times``. Times are ``datetime64`` or step numbers."""

    title: str
    past_times: np.ndarray
    past: np.ndarray
    times: np.ndarray
    forecast: np.ndarray
    bands: list[tuple[float, np.ndarray, np.ndarray]] = field(default_factory=list)
    actual_times: np.ndarray | None = None
    actual: np.ndarray | None = None

    @property
    def origin(self) -> Any:
        """The last time the model saw (the forecast starts one step after it)."""
        return self.past_times[-1]


def choose_series(
    names: Sequence[str], wanted: Sequence[str] | None, limit: int | None, setting: str
) -> list[str]:
    """``wanted`` (checked against ``names``), or the first ``limit`` of ``names``.

    ``setting`` is how the caller's user names the choice, for the error of an unknown name.
    """
    names = [str(n) for n in names]
    if wanted is None:
        return names if limit is None else names[: max(1, int(limit))]
    if isinstance(wanted, str):
        raise InputError(f"{setting} takes a list of names, e.g. {setting}=[{wanted!r}]")
    chosen = [str(w) for w in wanted]
    unknown = [w for w in chosen if w not in names]
    if unknown:
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise InputError(
            f"{setting} names {unknown}, which are not forecast series; pick from {shown}"
        )
    if not chosen:
        raise InputError(f"{setting} is empty; name at least one series, or leave it unset")
    return chosen


def is_dates(times: np.ndarray | None) -> bool:
    return times is not None and np.issubdtype(np.asarray(times).dtype, np.datetime64)


def moment(time: Any) -> str:
    """A time as people write it: ``2020-01-12 15:00`` (the date alone at midnight)."""
    if not isinstance(time, np.datetime64):
        return f"step {time}"
    text = str(np.datetime_as_string(time, unit="s")).replace("T", " ")
    return text.removesuffix(" 00:00:00").removesuffix(":00")


def wall_times(times: np.ndarray, tz: str | None) -> np.ndarray:
    """UTC instants as the wall-clock times of ``tz`` (what people read on a date axis)."""
    if not tz or not is_dates(times):
        return times
    import polars as pl

    series = pl.Series(np.asarray(times, dtype="datetime64[ns]"))
    local = series.dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    return local.dt.replace_time_zone(None).to_numpy()


def draw_panel(ax: Any, panel: Panel) -> None:
    """History, actual values, bands (widest first, lightest), forecast and origin line."""
    ax.plot(panel.past_times, panel.past, color="0.45", lw=1, label=HISTORY)
    if panel.actual is not None and panel.actual_times is not None and len(panel.actual):
        ax.plot(panel.actual_times, panel.actual, color="black", lw=1, label=ACTUAL)
    for k, (level, lower, upper) in enumerate(sorted(panel.bands, key=lambda b: -b[0])):
        ax.fill_between(
            panel.times,
            lower,
            upper,
            color="tab:red",
            alpha=0.15 + 0.1 * k,
            lw=0,
            label=f"{level:g} % interval",
        )
    ax.plot(panel.times, panel.forecast, color="tab:red", lw=1.2, label=FORECAST)
    ax.axvline(panel.origin, color="0.2", ls="--", lw=0.8, label=ORIGIN)
    ax.set_title(panel.title, fontsize=9)
    if is_dates(panel.times):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)


def draw(panels: list[Panel], n_cols: int = 1, title: str | None = None) -> Any:
    """A Figure with ``panels`` in rows of ``n_cols`` axes (row-major), ``title`` above and
    one legend below them all."""
    from matplotlib.figure import Figure

    if not panels:
        raise InputError("nothing to draw: no series were chosen")
    n_cols = max(1, min(n_cols, len(panels)))
    n_rows = -(-len(panels) // n_cols)
    width = 9.0 if n_cols == 1 else 4.6 * n_cols
    height = 2.3 * n_rows + 0.4 + (0.4 if title else 0)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, panel in zip(axes, panels, strict=False):
        draw_panel(ax, panel)
    for ax in axes[len(panels) :]:
        fig.delaxes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
