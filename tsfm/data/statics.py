"""Static covariates (one value per series) as model inputs.

Numeric columns (integers and floats) are standardised with the mean and standard deviation
over the training series. Other columns (strings, booleans, categoricals: a pandas
``category`` or polars ``Categorical``/``Enum`` whatever its categories' type) and the numeric
columns named in ``data.static_categorical`` are categorical: each category seen in training
gets an embedding index from 1; index 0 is reserved for a category the model never saw, which
is mapped there with a warning naming the column and the values (the model then uses the
embedding it learnt for no particular category). Categories are matched by their text
(:func:`category_text`: the integer 3, the float 3.0 and the text "3" are one category).

A frame given to a fitted model holds each static covariate in the fitted kind: a numeric one
given as text or categories is refused naming the column, the series and the fix (never
parsed: "99" as text may be a code, not a number).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError


class StaticEncoder:
    """Fitted on the static frame of the training series (one row per series)."""

    def __init__(self, state: dict[str, Any] | None = None):
        state = state or {}
        self.real: list[str] = list(state.get("real", []))
        self.mean = np.asarray(state.get("mean", []), dtype=np.float64)
        self.std = np.asarray(state.get("std", []), dtype=np.float64)
        self.categories: dict[str, list[str]] = dict(state.get("categories", {}))

    @property
    def cardinalities(self) -> list[int]:
        return [len(v) for v in self.categories.values()]

    def fit(
        self, statics: pl.DataFrame, columns: list[str], categorical: list[str] = ()
    ) -> StaticEncoder:
        """Fitted on ``statics`` (one row per series) for ``columns``; ``categorical``: those
        read as categories even where numeric (integer codes: ``data.static_categorical``)."""
        refuse_missing(statics, columns)
        stray = [c for c in categorical if c not in columns]
        if stray:
            raise InputError(
                f"static_categorical names {stray}, which are not static covariates "
                f"({list(columns)}): name them in static_covariates too, or drop them"
            )
        self.real = [c for c in columns if statics.schema[c].is_numeric() and c not in categorical]
        cats = [c for c in columns if c not in self.real]
        if self.real:
            values = statics.select(pl.col(c).cast(pl.Float64) for c in self.real).to_numpy()
            self.mean, std = values.mean(0), values.std(0)
            self.std = np.where(std > 0, std, 1.0)
        self.categories = {
            c: sorted({category_text(v) for v in statics[c].to_list() if v is not None})
            for c in cats
        }
        return self

    def transform(self, statics: pl.DataFrame, ids: list | None = None) -> dict[str, np.ndarray]:
        """``{"real": [n, Sr] float32, "cat": [n, Sc] int64}`` for the series of ``statics``
        (``ids``: theirs, named where a value is refused)."""
        refuse_missing(statics, [*self.real, *self.categories])
        n = statics.height
        real = np.zeros((n, len(self.real)), dtype=np.float32)
        for column in self.real:
            refuse_non_numeric(statics, column, ids)
        if self.real:
            values = statics.select(pl.col(c).cast(pl.Float64) for c in self.real).to_numpy()
            real = ((values - self.mean) / self.std).astype(np.float32)
        cat = np.zeros((n, len(self.categories)), dtype=np.int64)
        for j, (column, known) in enumerate(self.categories.items()):
            index = {value: i + 1 for i, value in enumerate(known)}
            raw = [category_text(v) for v in statics[column].to_list()]
            unseen = sorted({v for v in raw if v not in index})
            if unseen:
                warn_user(
                    f"static covariate '{column}': categories {unseen[:5]} were not seen in "
                    f"training (it was fitted as a category, of {known[:5]}"
                    f"{' ...' if len(known) > 5 else ''}; values match by their text); they "
                    "get the reserved 'unseen' embedding (index 0)"
                )
            cat[:, j] = [index.get(v, 0) for v in raw]
        return {"real": real, "cat": cat, "cardinalities": np.array(self.cardinalities)}

    def state_dict(self) -> dict[str, Any]:
        """Plain lists, safe to store as JSON."""
        return {
            "real": self.real,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "categories": self.categories,
        }


def category_text(value: Any) -> str:
    """The category a static value names: its text, a float holding an integer as that
    integer (3.0 is the category 3, as an integer column with a gap reads in pandas)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def refuse_non_numeric(statics: pl.DataFrame, column: str, ids: list | None) -> None:
    """A static covariate fitted as a number, given as text, categories or booleans, refused
    naming the series: parsing "99" would guess (a code, a number with a unit?)."""
    dtype = statics.schema[column]
    if dtype.is_numeric():
        return
    value = statics[column][0]
    who = f"series {ids[0]!r}" if ids else "the first series"
    kind = "text" if dtype == pl.String else "boolean" if dtype == pl.Boolean else "categories"
    raise InputError(
        f"static covariate '{column}' is given as {kind} ({dtype}; {value!r} for {who}), but the "
        "model was fitted with it numeric (standardised as a number; a model saved by a tsfm "
        "that read a pandas category of numbers as numbers was): give it as numbers in the "
        f"frame that holds it (df or static_df), e.g. frame['{column}'] = "
        f"frame['{column}'].astype(float), or refit with it categorical "
        f"(data__static_categorical=['{column}'], or text or category values)"
    )


def refuse_missing(statics: pl.DataFrame, columns: list[str]) -> None:
    """A static covariate missing for a series (null, NaN or empty text) is refused, naming
    it: an imputed value would be a made-up property of the series."""
    for column in columns:
        values = statics[column]
        missing = values.is_null()
        if values.dtype.is_float():
            missing = missing | values.is_nan()
        elif values.dtype == pl.String:
            missing = missing | (values.str.strip_chars() == "")
        if missing.any():
            row = int(missing.arg_max())
            raise InputError(
                f"static covariate '{column}' is missing for {int(missing.sum())} series (the "
                f"first is the frame's series number {row + 1}); fill it (a category such as "
                "'unknown', a number) or drop those series"
            )
