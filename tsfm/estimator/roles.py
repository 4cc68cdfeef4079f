"""The Forecaster's column roles in the names of the table it trains on, and its statics.

A wide frame's columns are used as named. A long frame aligned into one table (``joint``)
has a column per series for the target and for each covariate (``c[s]``): a role given by
the user's column name covers every series' column.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tsfm.data.frames import SeriesTable, to_polars
from tsfm.data.frames.id_types import in_type, refuse_other_kind
from tsfm.data.roles import PYTHON_NAMES, long_roles, panel_roles
from tsfm.data.statics import StaticEncoder
from tsfm.errors import InputError
from tsfm.estimator.checks import role_names
from tsfm.estimator.static_inputs import warn_unmatched


def role_settings(est: Any, table: SeriesTable) -> dict[str, Any]:
    """``data.`` settings of the roles, in ``table``'s column names."""
    groups = table.groups
    settings: dict[str, Any] = {
        "future_covariates": [str(n) for n in role_names(est, "future_covariates")],
        "past_covariates": [str(n) for n in role_names(est, "past_covariates")],
        "static_covariates": [str(c) for c in role_names(est, "static_covariates")],
        "missing": est.missing,
    }
    if groups is not None:
        refuse_long_targets(est, table.layout.target_col)
        roles = long_roles(
            groups, table.layout.target_col, role_names(est, "future_covariates"),
            role_names(est, "past_covariates"),
            names=PYTHON_NAMES,
        )  # fmt: skip
        settings["targets"] = roles["targets"]
        settings["future_covariates"], settings["past_covariates"] = roles["future"], roles["past"]
    elif role_names(est, "targets"):
        settings["targets"] = [str(c) for c in role_names(est, "targets")]
    return settings


def refuse_long_targets(est: Any, target_col: str) -> None:
    """``targets`` names the forecast columns of a wide frame, or of every series of a
    ``mode="independent"`` long frame (:func:`panel_targets`); a joint long frame has one
    target, its ``target_col`` (each series one variate of the table)."""
    if role_names(est, "targets"):
        raise InputError(
            f"targets {[str(c) for c in role_names(est, 'targets')]} on a long frame needs "
            "mode='independent' (each series one sample with several targets); in "
            "mode='joint' a long frame's series are the variates and its target is its "
            f"target_col ('{target_col}'): leave targets out, or fit with mode='independent'"
        )


def panel_targets(est: Any) -> list[str]:
    """The target columns of every series of a ``mode="independent"`` long frame: ``targets``
    (several per series: each series one multivariate sample), else ``target_col``."""
    named = [str(c) for c in role_names(est, "targets")]
    if not named:
        return [est.target_col]
    if len(set(named)) != len(named):
        raise InputError(f"targets lists a column twice: {named}; name each target once")
    if est.target_col != "y" and est.target_col not in named:
        raise InputError(
            f"target_col='{est.target_col}' and targets={named} both name the long frame's "
            f"targets: list '{est.target_col}' in targets, or leave target_col out"
        )
    return named


def refuse_unused_static_df(est: Any, static_df: Any) -> None:
    """A ``static_df`` for a model without static covariates would be dropped unread."""
    if static_df is not None and not role_names(est, "static_covariates"):
        raise InputError(
            "static_df was given but static_covariates names no column of it: name the "
            "columns to use, e.g. static_covariates=['store'], or leave static_df out"
        )


def static_frame(est: Any, table: SeriesTable, static_df: Any) -> pl.DataFrame | None:
    """The static covariates of every series of ``table`` (one row each, in target order)."""
    refuse_unused_static_df(est, static_df)
    if not role_names(est, "static_covariates"):
        return None
    if table.groups is None:
        raise InputError(
            "static covariates need one value per series: a long frame (unique_id, ds, y, ...) "
            "with the static columns, or with a static_df; a wide frame is one multivariate series"
        )
    series = table.groups[table.layout.target_col]
    return series_statics(est, series, table.layout.id_col, table.statics, static_df)


def series_statics(
    est: Any, series: list, id_col: str, frame: pl.DataFrame | None, static_df: Any
) -> pl.DataFrame:
    """The static covariates of ``series`` (one row each, in that order), from the long
    frame's static columns (``frame``) and ``static_df``."""
    names = role_names(est, "static_covariates")
    held = [] if frame is None else list(frame.columns)  # the long frame's static columns
    if static_df is not None:
        given, library, _ = to_polars(static_df, "static_df", names)
        if id_col not in given.columns:
            raise InputError(f"static_df needs the id column '{id_col}'")
        if given[id_col].is_duplicated().any():
            raise InputError(f"static_df has several rows for a series ('{id_col}' repeats)")
        unknown = [c for c in given.columns if c != id_col and c not in names]
        if unknown:
            raise InputError(
                f"static_df has column(s) {unknown} that are not static covariates of the model "
                f"({names}): name them in static_covariates, or drop them"
            )
        ours = pl.Series(series).dtype if frame is None else frame.schema[id_col]
        theirs = getattr(static_df.get(id_col), "dtype", None) if library == "pandas" else None
        refuse_other_kind(given.schema[id_col], ours, id_col, "static_df's ids", library,
                          theirs and str(theirs), "the frame's ids", frame="static_df")  # fmt: skip
        twice = [c for c in given.columns if c != id_col and c in held]
        if twice:  # as predict refuses them (static_inputs.with_static_df)
            raise InputError(f"both df and static_df hold {twice}; give each static covariate once")
        asked = given[id_col].to_list()
        given = given.with_columns(in_type(given[id_col], ours))  # matched by value
        warn_unmatched(asked, given[id_col].to_list(), set(series), "are not series of df")
        frame = given if frame is None else frame.join(given, on=id_col, how="left")
    missing = [c for c in names if frame is None or c not in frame.columns]
    if missing:
        raise InputError(
            f"static covariate(s) {missing} are neither columns of df nor of static_df"
        )
    order = pl.DataFrame({id_col: series}).cast({id_col: frame.schema[id_col]})
    frame = order.join(frame, on=id_col, how="left")
    given_ids = None if static_df is None else set(given[id_col].to_list())
    refuse_absent_statics(frame, names, id_col, given_ids, held)
    return frame.select(names)


def refuse_absent_statics(
    frame: pl.DataFrame, names: list, id_col: str, given_ids: set | None, held: list
) -> None:
    """A series without a value for a static covariate, named with where it was to come
    from: ``held``, the long frame's static columns (missing in every row of the series), or
    ``static_df`` (its ids ``given_ids``: no row for the series, or an empty value)."""
    for name in names:
        absent = frame[name].is_null()
        if not absent.any():
            continue
        series = frame[id_col][int(absent.arg_max())]
        count = f"{int(absent.sum())} series"
        fill = "fill it (a category such as 'unknown', a number) or drop those series"
        if name in held:
            problem = f"df has no value (null or NaN) of the static covariate '{name}' for {count}"
            problem += f", the first {series!r}"
        elif series not in (given_ids or set()):
            problem = f"static_df has no row for series {series!r} of df ({count} without)"
            fill = "give each series of df a row, or drop those series from df"
        else:
            problem = f"static_df gives series {series!r} no value for '{name}' ({count} without)"
        raise InputError(f"{problem}; {fill}")


def encode_statics(
    est: Any, frame: pl.DataFrame | None, encoder: StaticEncoder | None = None
) -> tuple[StaticEncoder | None, dict[str, Any] | None]:
    """The encoder (fitted here unless given) and the encoded statics of ``frame``."""
    if frame is None:
        return None, None
    names = role_names(est, "static_covariates")
    categorical = list(est.data_setting("static_categorical") or [])
    encoder = encoder or StaticEncoder().fit(frame, names, categorical)
    return encoder, encoder.transform(frame)


def picks_columns(est: Any) -> bool:
    """Whether the fit chose its columns (``targets`` named, or ``features`` S or MS) rather
    than forecasting every column it was given."""
    data = est.config_.data
    run_targets = data.get("targets") and est.layout_.kind != "long"  # long: the series
    return bool(role_names(est, "targets") or run_targets) or data.get("features", "M") != "M"


def named_columns(est: Any, table: SeriesTable) -> SeriesTable:
    """When the fit chose its columns, the frame's columns the model uses: other columns are
    left out, as the fit left them out (rather than forecast as new variates or scored)."""
    used = {str(c) for c in est.input_columns_}
    if not picks_columns(est) or not used < {str(c) for c in table.columns}:
        return table
    return table.select([c for c in table.columns if str(c) in used])


def fit_panel_roles(est: Any, long: Any) -> Any:
    """The column roles of a ``mode="independent"`` long frame (a ``LongFrame``) as its fit
    reads them: the targets, the covariates named, every other column refused."""
    return panel_roles(
        long.value_columns, panel_targets(est), role_names(est, "future_covariates"),
        role_names(est, "past_covariates"), role_names(est, "static_covariates"), PYTHON_NAMES,
    )  # fmt: skip


def panel_static_frame(est: Any, long: Any, roles: Any, static_df: Any) -> Any:
    """The static covariates of every series of ``long`` (None where ``roles`` has none)."""
    if not roles.static:
        return None
    return series_statics(est, long.ids, est.id_col, long.statics, static_df)
