"""The static covariates a fitted model is given for the series it forecasts.

A series whose static values the frame holds (the static columns of a long frame) is encoded
from them with the training encoder: numeric values standardised with the training
statistics, categories unseen in training mapped to the reserved embedding with a warning.
A series the frame gives none for uses the values it was trained with; a series the model
was not trained on, without values, is refused with the fix. So what the user passes is what
the model sees, and a new series can be forecast when its statics are given.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import torch

from tsfm.data.frames import to_polars
from tsfm.data.frames.convert import refuse_lazy
from tsfm.data.frames.id_types import ids_dtype, in_type, refuse_other_kind
from tsfm.data.frames.write import pandas_ids
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.checks import role_names


def statics_for(est: Any, series: list, given: pl.DataFrame | None) -> dict[str, torch.Tensor]:
    """Batch tensors ``{"static_real": [S, R], "static_cat": [S, C]}`` of ``series`` (in that
    order; empty for a model without static covariates). ``given``: one row per series, the
    id column and the static columns the frame holds (None: the frame holds none)."""
    fitted = getattr(est, "statics_", None) or {}
    if not fitted:
        return {}
    names = role_names(est, "static_covariates")
    encoded: dict[str, dict[str, torch.Tensor]] = {}
    if given is not None and given.width > 1:
        lacking = [c for c in names if c not in given.columns]
        if lacking:
            held = [c for c in names if c in given.columns]
            raise InputError(
                f"the frame holds the static covariate(s) {held} but not {lacking}; give every "
                f"static covariate of the model ({names}), or none to use the training values"
            )
        id_col = next(c for c in given.columns if c not in names)
        absent = {c: _absent(c, given.schema[c]) for c in names}
        given = given.filter(~pl.all_horizontal(absent.values()))  # none given: not given
        for column in names:
            empty = given.filter(absent[column])
            if empty.height:
                raise InputError(
                    f"series {empty[id_col][0]!r} has no value for the static covariate "
                    f"'{column}' but has the others; give a series every static covariate, or "
                    "none to keep its training values"
                )
        values = est.static_encoder_.transform(given.select(names), given[id_col].to_list())
        for row, key in enumerate(given[id_col].to_list()):
            encoded[key] = {
                "static_real": torch.as_tensor(values["real"][row], dtype=torch.float32),
                "static_cat": torch.as_tensor(values["cat"][row], dtype=torch.long),
            }
    trained = {s: j for j, s in enumerate(est.series_ or [])}  # by value (id_types.py)
    unknown = [s for s in series if s not in encoded and s not in trained]
    if unknown:
        raise InputError(
            f"series {unknown[:3]} were not in training and the frame gives no static "
            f"covariates for them: add the columns {names} (one value per series) to the frame, "
            "or the series to static_df"
        )
    rows: dict[str, list[torch.Tensor]] = {key: [] for key in fitted}
    for s in series:
        for key, table in fitted.items():
            own = encoded.get(s)
            rows[key].append(own[key] if own is not None else table[trained[s]])
    return {key: torch.stack(parts) for key, parts in rows.items()}


def _absent(column: str, dtype: pl.DataType) -> pl.Expr:
    null = pl.col(column).is_null()
    return null | pl.col(column).is_nan() if dtype.is_float() else null


def warn_unmatched(
    asked: list, matched: list, known: set, where: str, frame: str = "static_df"
) -> None:
    """Warn that the ``frame`` (``static_df``, ``future_df``) rows whose id (``asked``;
    ``matched``: in the frame's id type, None where it cannot hold it) is none of ``known`` are
    left unread, naming them: a table of more series than a call uses is a habit, but a
    misspelt id would leave the series it meant without (or on its training) values unnoticed."""
    unknown = [a for a, m in zip(asked, matched, strict=True) if m is None or m not in known]
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        warn_user(
            f"{frame} has rows for series {unknown[:5]}{more} that {where}: they are not "
            "used (drop them; a misspelt id leaves the series it meant without its values)"
        )


def with_static_df(est: Any, df: Any, static_df: Any) -> Any:
    """``df`` (a long frame) with the static covariates of ``static_df`` (one row per series:
    the id column and static covariates) joined on, in ``df``'s own frame library."""
    if static_df is None:
        return df
    if not role_names(est, "static_covariates"):
        raise InputError("static_df was given but the model has no static_covariates")
    if df is None:
        raise InputError("static_df gives the static covariates of the series of df: pass df too")
    refuse_lazy(df)
    refuse_lazy(static_df, "static_df")
    id_col = est.id_col
    frame_columns = list(df.columns)
    if id_col not in frame_columns:
        raise InputError(f"static_df needs a long frame df with the id column '{id_col}'")
    given = list(static_df.columns)
    if id_col not in given:
        raise InputError(f"static_df needs the id column '{id_col}'")
    unknown = [c for c in given if c != id_col and c not in role_names(est, "static_covariates")]
    if unknown:
        raise InputError(
            f"static_df has column(s) {unknown} that are not static covariates of the model "
            f"({role_names(est, 'static_covariates')})"
        )
    twice = [c for c in given if c != id_col and c in frame_columns]
    if twice:
        raise InputError(f"both df and static_df hold {twice}; give each static covariate once")
    given_pl, library, _ = to_polars(static_df, "static_df", role_names(est, "static_covariates"))
    ours, _, our_name = ids_dtype(df, id_col)
    given_name = None if library == "polars" else str(static_df[id_col].dtype)  # (checked)
    refuse_other_kind(given_pl.schema[id_col], ours, id_col, "static_df's ids", library,
                      given_name, "df's ids", our_name, "static_df")  # fmt: skip
    if given_pl[id_col].is_duplicated().any():
        raise InputError(f"static_df has several rows for a series ('{id_col}' repeats)")
    # matched by value: static_df's ids in df's type (an id that type cannot hold is none
    # of df's series), never cast by text
    asked = given_pl[id_col].to_list()
    given_pl = given_pl.with_columns(in_type(given_pl[id_col], ours))
    ids = df[id_col].unique() if isinstance(df, pl.DataFrame) else df[id_col].drop_duplicates()
    known = {*ids, *(est.series_ or [])}  # Python values (pandas: Timestamps, not datetime64)
    warn_unmatched(asked, given_pl[id_col].to_list(), known, "are neither series of df nor "
                   "series the model was fitted on")  # fmt: skip
    given_pl = given_pl.drop_nulls(id_col)
    if isinstance(df, pl.DataFrame):
        return df.join(given_pl, on=id_col, how="left")
    given_pd = given_pl.drop(id_col).to_pandas()
    given_pd.insert(0, id_col, pandas_ids(given_pl[id_col], df[id_col].dtype))
    return df.merge(given_pd, on=id_col, how="left", sort=False).set_axis(df.index)
