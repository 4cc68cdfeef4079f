"""Column names the frames of ``evaluate``, ``backtest`` and ``cross_validate`` add beside the
ones they take from the user's frame.

Their forecasts (``evaluate(return_forecasts=True)``, and every backtest and cross-validation)
hold the id, time and target columns of a long frame under its own names (a wide frame's date
column under its name, its series in ``unique_id`` and their values in ``y``) and add
``cutoff``, ``step``, ``forecast``, ``snaive`` and the bounds ``forecast-lo-<L>`` and
``forecast-hi-<L>``; their scores per series (``evaluate(per_series=True)``, every backtest
and cross-validation) hold a long frame's id column beside ``fold``, ``cutoff``, ``windows``
and the metrics. A user's column of one of the added names would give a frame two columns
of that name (polars refuses it, after every fold of a cross-validation has trained), so it
is refused naming the column, what it clashes with and the fix: by ``fit`` before any
training, and before ``evaluate``, ``backtest`` and ``cross_validate`` score a frame (a model
fitted before this check, or a wide frame whose date column is named otherwise than the
fitted one's).
"""

from __future__ import annotations

from tsfm.data.frames import Layout
from tsfm.errors import InputError
from tsfm.estimator.accuracy import SERIES_COLUMNS

FORECAST_COLUMNS = {
    "cutoff": "each forecast's cutoff, the last time its look-back saw",
    "step": "each forecast's step ahead, 1 to horizon",
    "forecast": "the forecast",
    "snaive": "the seasonal-naive forecast",
}
BOUNDS = ("forecast-lo-", "forecast-hi-")  # + a level
WIDE_COLUMNS = {"unique_id": "a wide frame's series", "y": "a wide frame's actual values"}
SCORE_COLUMNS = {
    "fold": "the fold",
    "cutoff": "the cutoff",
    "windows": "the windows scored",
    **{name: f"the metric {name}" for name in (*SERIES_COLUMNS, "crps", "msis")},
}
SCORE_PREFIXES = ("coverage_", "width_")  # + a level
FORECASTS = "the forecasts of evaluate(return_forecasts=True), backtest and cross_validate"
SCORES = "the per-series scores of evaluate(per_series=True), backtest and cross_validate"
LONG = {  # role, parameter, its default
    "id": ("id column", "id_col", "unique_id"),
    "time": ("time column", "time_col", "ds"),
    "target": ("target column", "target_col", "y"),
}


def refuse_clashing_names(
    layout: Layout | None, forecasts: bool = True, per_series: bool = True
) -> None:
    """Refuse a column of the frame read into ``layout`` whose name the frames asked for add
    (``forecasts``: the forecasts' rows; ``per_series``: the scores per series)."""
    if layout is None:
        return
    for role, name in _user_columns(layout):
        meaning = _added(name, layout.kind == "wide", forecasts, per_series and role == "id")
        if meaning is None:
            continue
        frames, added = meaning
        raise InputError(
            f"the {_role(layout, role)} {name!r} has the name of a column {frames} add "
            f"({added}), so they would hold two columns named {name!r}: {_fix(layout, role, name)}"
        )


def _user_columns(layout: Layout) -> list[tuple[str, str]]:
    """``(role, name)`` of the user's columns the frames keep under their own names."""
    if layout.kind == "long":
        return [("id", layout.id_col), ("time", layout.time_col), ("target", layout.target_col)]
    if layout.time_col is None or layout.time_col.startswith("__"):  # an unnamed index: ds
        return []
    return [("time", layout.time_col)]


def _added(name: str, wide: bool, forecasts: bool, scores: bool) -> tuple[str, str] | None:
    """Which frames add a column ``name``, and what it holds (None: none of those asked)."""
    if forecasts:
        meaning = FORECAST_COLUMNS.get(name) or (WIDE_COLUMNS.get(name) if wide else None)
        if meaning is None and name.startswith(BOUNDS):
            meaning = "an interval's bound"
        if meaning is not None:
            return FORECASTS, meaning
    if scores:
        meaning = SCORE_COLUMNS.get(name)
        if meaning is None and name.startswith(SCORE_PREFIXES):
            meaning = "an interval metric"
        if meaning is not None:
            return SCORES, meaning
    return None


def _role(layout: Layout, role: str) -> str:
    if layout.kind == "long":
        return LONG[role][0]
    return "time index" if layout.time_index else "date column"


def _fix(layout: Layout, role: str, name: str) -> str:
    if layout.kind == "long":
        _, parameter, default = LONG[role]
        return (
            f"rename it in the frame and pass the new name as {parameter} (or name it "
            f"{default!r}, the default {parameter}: df.rename(columns={{{name!r}: {default!r}}}))"
        )
    if layout.time_index:
        return "rename the index (e.g. df.rename_axis('date'))"
    return (
        f"rename it in the frame (e.g. df.rename(columns={{{name!r}: 'date'}}), and "
        "date_col='date' where you name it)"
    )
