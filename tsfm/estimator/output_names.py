"""Column names the forecasts generate from the targets' names, checked against the user's
columns at ``fit``.

``predict`` names each target's bounds and quantiles after it (``sales-lo-80``,
``sales-hi-80``, ``sales-q-0.1``; a long frame of one target column: ``y-lo-80``), and the
windows of ``evaluate``, ``backtest`` and ``cross_validate`` of a panel of several targets
per series name each target's forecasts after it (``sales-forecast``, ``sales-snaive``,
``sales-forecast-lo-80``; one target: ``forecast``, checked by
:mod:`tsfm.estimator.result_names`). A column of the frame that the forecast keeps (the id
and time columns, the targets: not the covariates, which no forecast holds) named as one of
these would give the forecast two columns of that name: polars refuses such a frame after
the training, and a pandas one would hold both, the user's values under a name that reads
as a bound. ``fit`` refuses it before any training, for any level or quantile (``predict``
takes others than the fitted ones), naming every clash and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from tsfm.data.frames import Layout
from tsfm.errors import InputError

PREDICT = "predict adds"
WINDOWS = "evaluate's, backtest's and cross_validate's forecasts hold"
BOUNDS = {  # suffix after "<target>-" and a number: what predict adds there
    "lo-": "an interval's lower bound",
    "hi-": "an interval's upper bound",
    "q-": "a quantile",
}
WINDOW_NAMES = {"forecast": "the forecast", "snaive": "the seasonal-naive forecast"}
WINDOW_BOUNDS = {"forecast-lo-": "the forecast's lower bound", "forecast-hi-": "its upper bound"}
FIXED = {"cutoff": "each window's cutoff", "step": "each forecast's step ahead"}


def refuse_output_clashes(layout: Layout | None, targets: Sequence[str], panel: bool) -> None:
    """Refuse the id, time and target columns of the frame read into ``layout`` whose name a
    forecast generates from a target of ``targets`` (``panel``: a ``mode="independent"``
    panel, whose windows name several targets' columns after them)."""
    if layout is None:
        return
    targets = [str(t) for t in targets]
    several = panel and len(targets) > 1
    clashes, names = [], []
    own = {str(layout.id_col): "id column", str(layout.time_col): "time column"}
    for role, name in _kept_columns(layout, targets):
        said = _clash(name, targets, several)
        if said is None and several and role == "target" and name in FIXED:
            said = f"{FIXED[name]}, which {WINDOWS}"
        if role == "target" and layout.kind == "long" and name in own:
            said = f"the frame's {own[name]} (list only value columns in targets=[...])"
        if said is not None:
            clashes.append(f"the {role} {name!r} is named as {said}")
            names.append(name)
    if clashes:
        first = names[0]
        example = {first: first.replace("-", "_") if "-" in first else f"my_{first}"}
        raise InputError(
            f"{'; '.join(clashes)}: the forecasts would hold two columns of "
            f"{'that name' if len(names) == 1 else 'each of these names'} ({names}), one "
            f"overwriting the other; rename {'it' if len(names) == 1 else 'them'} in the "
            f"frame (e.g. df.rename(columns={example})) and pass the new "
            f"name where you name it ({_where(layout)})"
        )


def _kept_columns(layout: Layout, targets: list[str]) -> list[tuple[str, str]]:
    """``(role, name)`` of the user's columns a forecast keeps under their own names."""
    if layout.kind == "long":
        kept = [("id column", str(layout.id_col)), ("time column", str(layout.time_col))]
        return kept + [("target", t) for t in targets]
    kept = [("variate", t) for t in targets]
    if layout.time_col is None or layout.time_col.startswith("__") or layout.time_index:
        return kept  # an unnamed index, or the index: no column of the forecast
    return [("date column", str(layout.time_col)), *kept]


def _clash(name: str, targets: list[str], several: bool) -> str | None:
    """What a forecast generates under ``name`` from one of ``targets`` (None: nothing)."""
    for target in targets:
        found = _generated(name, target, several)
        if found is not None:
            return f"{found[1]} {found[0]} for the target {target!r}"
    return None


def _generated(name: str, target: str, several: bool) -> tuple[str, str] | None:
    """Which frames generate ``name`` from ``target``, and what it holds (None: none)."""
    if name == target or not name.startswith(f"{target}-"):
        return None
    suffix = name[len(target) + 1 :]
    if several:
        if suffix in WINDOW_NAMES:
            return WINDOWS, WINDOW_NAMES[suffix]
        for start, meaning in WINDOW_BOUNDS.items():
            if suffix.startswith(start) and _number(suffix[len(start) :]):
                return WINDOWS, meaning
    for start, meaning in BOUNDS.items():
        if suffix.startswith(start) and _number(suffix[len(start) :]):
            return PREDICT, meaning
    return None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text != ""


def _where(layout: Layout) -> str:
    if layout.kind == "long":
        return "targets=[...], target_col=..., id_col=..., time_col=..."
    return "targets=[...], date_col=..."
