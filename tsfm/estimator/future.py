"""Future covariates for the horizon: the frame a forecast needs, and checking the one given.

``future_df`` holds, for every series and every timestamp of the horizon, the values of the
future covariates (and nothing else: targets and past covariates are not known there).
:func:`make_future_frame` returns that frame with the timestamps filled in and the covariate
columns empty, for the user to fill.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames import SeriesTable, future_times, future_times_each, time_series, to_polars
from tsfm.data.frames.column_types import polars_type, user_types
from tsfm.data.frames.dates import show_time
from tsfm.data.frames.id_types import as_fitted_ids
from tsfm.data.frames.long import covariate_column
from tsfm.data.frames.value_columns import is_value_column
from tsfm.data.frames.write import finish_frame, id_series
from tsfm.data.frames.zones import fitted_times
from tsfm.errors import InputError
from tsfm.estimator.checks import role_names
from tsfm.estimator.static_inputs import warn_unmatched

NO_FUTURE_COVARIATES = (
    "this model has no future covariates, so future_df would not be used: do not pass it (to "
    "forecast from covariates known over the horizon, fit with future_covariates=[...])"
)


def future_names(est: Any) -> list[str]:
    """The future covariates as the user named them (before a long frame's expansion)."""
    return [str(c) for c in role_names(est, "future_covariates")]


def future_steps(est: Any, steps: int | None) -> tuple[int, list[str]]:
    """The rows per series of the frame ``predict(steps=steps)`` needs, and the covariates it
    holds (the past ones too beyond the horizon: :mod:`tsfm.estimator.rollout`)."""
    from tsfm.estimator.rollout import check_steps, past_names

    steps = check_steps(est, steps, [])
    if steps is None or steps <= est.horizon:
        return est.horizon, future_names(est)
    return steps, [*future_names(est), *past_names(est)]


def make_future_frame(est: Any, table: SeriesTable, steps: int | None = None) -> Any:
    """The horizon (or ``steps``) after ``table`` (one row per series and step), future
    covariates (and beyond the horizon past ones) empty."""
    rows_each, names = future_steps(est, steps)
    times = future_times(table.times[-1], est.freq_, rows_each)
    layout = table.layout
    if layout.kind == "wide":
        columns = [time_series(layout.time_col, times, layout.time_type)]
        rows = len(times)
    else:
        series = list(est.series_)
        stamps = time_series(layout.time_col, np.tile(times, len(series)), layout.time_type)
        columns = [id_series(layout, series, len(times)), stamps]
        rows = len(times) * len(series)
    columns += empty_covariates(est, rows, layout, names)
    return finish_frame(pl.DataFrame(columns), layout)


def empty_covariates(
    est: Any, rows: int, layout: Any, names: list[str] | None = None
) -> list[pl.Series]:
    """The future covariates' columns of ``rows`` empty values for the user to fill: NaN, or
    in a polars frame null of the fitted column's type (a Boolean flag stays Boolean)."""
    typed = est.layout_.value_types if layout.library == "polars" else {}
    return [
        pl.Series(str(c), [None] * rows, dtype=polars_type(typed[str(c)]))
        if str(c) in typed
        else pl.Series(str(c), np.full(rows, np.nan))
        for c in (future_names(est) if names is None else names)
    ]


def horizon_values(
    est: Any,
    future_df: Any,
    series: list,
    times: list[np.ndarray],
    names: list[str] | None = None,
    optional: bool = False,
    steps: int | None = None,
) -> dict[str, list[np.ndarray]]:
    """``{covariate: [values over the horizon of series j]}`` of every future covariate (or
    of ``names``: past covariates, which a rollout beyond the horizon reads from future_df
    too), for ``series`` (long frames; ``[None]`` for a wide frame) whose horizons are
    ``times``; ``steps``: those of ``predict(steps=steps)`` beyond the horizon (named in
    messages); ``optional``: an absent column, row or value is NaN (masked) not refused."""
    frame, library, time_index = to_polars(future_df, "future_df")
    layout = est.layout_
    time_col = layout.time_col
    allowed = [*future_names(est), *(names or [])]
    role = "future" if names is None else "past"
    span, layout_call = "horizon steps", "make_future_dataframe()"
    if steps is not None:
        layout_call = f"make_future_dataframe(steps={steps})"
        span = f"steps of steps={steps}" if names is None else "first steps - horizon = "
        span += "" if names is None else f"{steps - est.horizon} steps, the later blocks' look-back"
    names = future_names(est) if names is None else names
    index = time_index and time_col not in frame.columns  # a DatetimeIndex, of any name
    if index:  # (to_polars made it the first column)
        frame = frame.rename({frame.columns[0]: time_col})
    long = layout.kind == "long"
    ids = [layout.id_col] if long else []
    extra = [c for c in frame.columns if c not in {time_col, *allowed, *ids}]
    if extra:
        raise InputError(
            f"{unnamed_keys(frame, time_col, ids, extra)}future_df may hold only the "
            f"time column, the series id and the future covariates {future_names(est)}; it "
            f"also has {extra} (targets and past covariates are not known over the horizon; "
            "past covariates only with predict(steps=...) beyond it)"
        )
    wanted = [time_col, *ids, *([] if optional else names)]
    missing_cols = [c for c in wanted if c not in frame.columns]
    if missing_cols:
        why = "" if steps is None else f" (the {role} covariates over the {span})"
        raise InputError(f"future_df lacks the column(s) {missing_cols}{why}: {layout_call} "
                         "lays out the frame to fill")  # fmt: skip
    absent_columns = [n for n in names if n not in frame.columns]
    if absent_columns:  # optional ones: read as missing
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(n) for n in absent_columns)
    text = [n for n in names if not is_value_column(frame.schema[n])]
    if text:
        raise InputError(
            f"future_df: the future covariate(s) {text} are not numeric "
            f"({[str(frame.schema[n]) for n in text]}); give them as numbers, as in the fitted frame"
        )
    if long:  # its ids matched by value, as the frame's (id_types.py)
        given = user_types(future_df, frame, {"id": layout.id_col}).get("id")
        ids = as_fitted_ids(frame[layout.id_col], layout, library, given, "future_df's ids",
                            "future_df")  # fmt: skip
        frame = frame.with_columns(ids)
    # read as the fitted frame's: naive against zone-aware (or the reverse) refused, since read
    # as UTC they would pick every covariate from the wrong hour; another zone converted
    wall = bool(layout.time_type.get("wall"))
    stamps, _ = fitted_times(frame[time_col], wall, layout.time_type, "future_df", library, index)
    zone = None if layout.time_type.get("wall") else layout.time_type.get("tz")
    rows_of: dict[Any, list[int]] = {}
    for r, key in enumerate(frame[layout.id_col].to_list() if long else [None] * frame.height):
        rows_of.setdefault(key, []).append(r)
    columns = {name: frame[name].cast(pl.Float64).to_numpy() for name in names}
    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    known = {*series, *(est.series_ or [])} if long else set()
    strangers = [key for key in rows_of if long and key not in known]
    for s, horizon in zip(series, times, strict=True):
        position = {stamps[r].item(): r for r in rows_of.get(s, [])}
        who = f"series {s!r}" if long else "the series"
        if len(position) < len(rows_of.get(s, [])):
            taken = np.unique(stamps[rows_of[s]], return_counts=True)
            raise InputError(
                f"future_df has more than one row for {who} at "
                f"{show_time(taken[0][taken[1] > 1][0], zone)}: give each timestamp once"
            )
        absent = [t for t in horizon if t.item() not in position]
        if absent and not optional:
            shown = ", ".join(show_time(t, zone) for t in absent[:3])
            raise InputError(
                f"future_df has no row for {who} at {shown}{', ...' if len(absent) > 3 else ''} "
                f"({len(absent)} of the {len(horizon)} {span} missing); "
                f"Forecaster.{layout_call} lists every row needed"
                + (f" (future_df has rows for series {strangers[:5]} the model does not know "
                   "and this call does not forecast: a misspelt id?)" if strangers else "")
            )  # fmt: skip
        picked = np.array([position.get(t.item(), -1) for t in horizon], dtype=np.int64)
        for name in names:
            given = columns[name]
            column = given[np.maximum(picked, 0)] if len(given) else np.zeros(len(picked))
            column = np.where(picked >= 0, column, np.nan)
            gaps = np.flatnonzero(np.isnan(column))
            if len(gaps) and not optional:
                shown = ", ".join(show_time(horizon[g], zone) for g in gaps[:3])
                raise InputError(
                    f"future_df: '{name}' is missing for {who} at {shown}"
                    f"{', ...' if len(gaps) > 3 else ''} ({len(gaps)} of the {len(horizon)} "
                    f"{span}); {role} covariates must be known there: fill those values"
                )
            huge = np.abs(column) > np.finfo(np.float32).max  # inf too: the model reads float32
            if huge.any():
                raise InputError(
                    f"future_df: '{name}' is {column[huge][0]} for {who} at "
                    f"{show_time(horizon[int(np.argmax(huge))], zone)}; future covariates must be "
                    "finite numbers within float32's range: fix or rescale the column"
                )
            values[name].append(column)
    warn_unmatched(strangers, strangers, set(), "are neither series forecast nor series the "
                   "model was fitted on", "future_df")  # fmt: skip
    return values


def require_future_df(est: Any, future_df: Any) -> None:
    """Refuse a forecast of a model with future covariates without their values."""
    if future_df is None:
        raise InputError(
            f"the model uses future covariates {future_names(est)}: pass future_df=... (to "
            "predict or plot) with their values over the horizon "
            "(Forecaster.make_future_dataframe() gives the frame to fill)"
        )


def future_rows(est: Any, window: SeriesTable, future_df: Any) -> tuple[SeriesTable, np.ndarray]:
    """The look-back ``window`` extended by the horizon: its timestamps, the future covariates
    from ``future_df`` and zeros elsewhere (never read: targets and past covariates are not
    inputs over the horizon)."""
    times = future_times(window.times[-1], est.freq_, est.horizon)
    horizon = np.zeros((est.horizon, window.values.shape[1]))
    if est.roles_.future:
        require_future_df(est, future_df)
        columns = [str(c) for c in window.columns]
        series = est.series_ if est.layout_.kind == "long" else [None]
        known = horizon_values(est, future_df, series, [times] * len(series))
        for name, per_series in known.items():
            for s, column in zip(series, per_series, strict=True):
                target = name if s is None else covariate_column(name, s)
                horizon[:, columns.index(target)] = column
    elif future_df is not None:
        raise InputError(NO_FUTURE_COVARIATES)
    values = np.concatenate([window.values, horizon])
    all_times = np.concatenate([window.times, times])
    joined = SeriesTable(values, all_times, window.columns, window.layout, before=window.before)
    return joined, all_times


def make_future_panel(est: Any, df: Any = None, steps: int | None = None) -> Any:
    """One row per series and horizon step (or ``steps``) after each series' end, future
    covariates (and beyond the horizon past ones) empty."""
    rows_each, names = future_steps(est, steps)
    from tsfm.estimator.panel_history import panel_tables, read_panel

    history, layout = (est.history_, est.layout_) if df is None else (None, None)
    if history is None:
        long = read_panel(est, df)
        tables = panel_tables(est, long)
        ids, last = list(long.ids), [t.times[-1] for t in tables]
        layout = long.layout  # in the frame library of df
    else:
        ids, last = list(est.series_), [t[-1] for t in history.times]
    times = future_times_each(last, est.freq_, rows_each)
    columns = [id_series(layout, ids, rows_each)]
    columns.append(time_series(layout.time_col, times.reshape(-1), layout.time_type))
    rows = len(ids) * rows_each
    columns += empty_covariates(est, rows, layout, names)
    return finish_frame(pl.DataFrame(columns), layout)


def unnamed_keys(frame: pl.DataFrame, time_col: str, ids: list[str], extra: list[str]) -> str:
    """What future_df lacks of the time column and the series id, named as the fitted frame's
    (its time column under another name reads as an unknown column), with the rename that fixes
    it where the unknown columns tell which is which (one of dates, one other); empty where it
    has both."""
    lacking = [c for c in [time_col, *ids] if c not in frame.columns]
    if not lacking:
        return ""
    dates = [c for c in extra if frame.schema[c].is_temporal()]
    others = [c for c in extra if c not in dates]
    if time_col == "__index__":  # the fitted frame's times were its pandas DatetimeIndex
        moved = f"future_df.set_index({dates[0]!r})" if len(dates) == 1 else "set_index(...)"
        return (
            "future_df has no times: the fitted frame held them in its DatetimeIndex, so give "
            f"future_df's as its index too (pandas: {moved}). "
        )
    what = {time_col: "time column", **{c: "series id column" for c in ids}}
    named = " and ".join(f"no {what[c]} {c!r}" for c in lacking)
    guess = {time_col: dates, **{c: others for c in ids}}
    pairs = {c: guess[c][0] for c in lacking if len(guess[c]) == 1}
    one = len(lacking) == 1
    how = f"name {'it' if one else 'them'} as in the fitted frame"
    if len(pairs) == len(lacking):
        rename = ", ".join(f"{old!r}: {new!r}" for new, old in pairs.items())
        how += f" (pandas: future_df.rename(columns={{{rename}}}))"
    return f"future_df has {named} (the fitted frame's name{'' if one else 's'}): {how}. "
