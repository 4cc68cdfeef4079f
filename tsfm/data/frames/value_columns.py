"""What a value column may hold, and the messages for columns that hold something else.

Values are numbers. A Boolean column (a holiday flag) is read as 0/1 as a covariate, but
never as a target: a forecast of a flag as a number between 0 and 1 is rarely what is meant,
so the user converts it when it is (``astype(float)``). A text column of numbers (a file read
with every column as text) is told apart from a column of labels, with the conversion that
fixes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.frames.dates import show_time
from tsfm.data.frames.files import stray_text
from tsfm.errors import InputError

BOOLEAN = {"name": "Boolean"}  # a Boolean value column, as a layout's value_types describes it


def is_value_column(dtype: pl.DataType) -> bool:
    """Numeric or boolean (read as 0/1)."""
    return dtype.is_numeric() or dtype == pl.Boolean


def refuse_empty(frame: pl.DataFrame, columns: list, fix: str) -> None:
    """Columns without a single value (read as text, so not "non-numeric" but empty)."""
    empty = [c for c in columns if frame[c].null_count() == frame.height]
    if empty:
        raise InputError(f"column(s) {empty} are empty (every value is missing); {fix}")


def check_finite(
    values: np.ndarray, columns: list, dates: np.ndarray | None, allow_missing: bool = False
) -> None:
    """Refuse infinite values, then NaN (unless ``allow_missing``), naming the first one: an
    infinite value is no missing one, which masking (``missing='mask'``) also refuses."""
    infinite = np.isinf(values)
    bad = infinite if infinite.any() or allow_missing else np.isnan(values)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    when = f" ({show_time(dates[row])})" if dates is not None else ""
    if infinite.any():
        what, fix = "an infinite", "replace them with finite values or drop those rows"
    else:
        what = "a NaN/missing"
        fix = (
            "fill or interpolate missing values, drop those rows, or let tsfm mask them "
            "(missing='mask' in Python, data.missing=mask in the CLI)"
        )
    kind = "infinite" if infinite.any() else "missing"
    raise InputError(
        f"column '{columns[col]}' has {what} value at row {row}{when} "
        f"({int(bad.sum())} {kind} value(s) in all); {fix}"
    )


def to_float(columns: list, library: str) -> str:
    """How to make ``columns`` numbers in the user's library."""
    if library == "polars":
        names = repr(columns[0]) if len(columns) == 1 else str(columns)
        return f"df.with_columns(pl.col({names}).cast(pl.Float64))"
    if len(columns) == 1:
        return f"df[{columns[0]!r}] = df[{columns[0]!r}].astype(float)"
    return f"df[{columns}] = df[{columns}].astype(float)"


def boolean_targets(columns: list, library: str | None, covariates: str = "") -> str:
    """The refusal of Boolean ``columns`` as targets, with the conversion that forecasts them
    as 0/1 and the covariate roles (``covariates``) that read them as they are."""
    role = f"; a flag known ahead (a holiday) is a covariate ({covariates})" if covariates else ""
    fix = (
        "write them as 1/0 in the file"
        if library is None
        else f"convert them first ({to_float(columns, library)})"
    )
    return f"target column(s) {columns} are Boolean; to forecast them as 0/1, {fix}{role}"


def refuse_boolean_targets(table: Any, targets: list, covariates: str, file: bool) -> None:
    """Refuse the ``targets`` of a wide ``table`` that were Boolean columns (its layout's
    value types say so); ``covariates``: the covariate settings to name; ``file``: read
    from a file on the command line."""
    layout = getattr(table, "layout", None)
    if layout is None or layout.kind != "wide":
        return
    flags = [str(c) for c in targets if layout.value_types.get(str(c)) == BOOLEAN]
    if flags:
        library = None if file else layout.library
        raise InputError(boolean_targets(flags, library, covariates))


def text_numbers(frame: pl.DataFrame, columns: list, library: str) -> dict[str, str]:
    """Advice for each text column of ``columns`` that holds numbers written as text (at
    most 10 % of its values not: those become missing), with the conversion."""
    advice = {}
    for name in columns:
        if frame.schema[name] != pl.String:
            continue
        text = frame[name].str.strip_chars()
        words = text.cast(pl.Float64, strict=False).is_null() & text.is_not_null()
        given = text.is_not_null()
        if not given.any() or words.sum() > 0.1 * given.sum():
            continue
        first = int((given & ~words).arg_max())
        said = f"'{name}' holds numbers written as text ({frame[name][first]!r} at row {first})"
        if words.any():
            row = int(words.arg_max())
            said += f" and {int(words.sum())} value(s) that are not, the first {text[row]!r}"
            said += f" at row {row}"
        advice[name] = f"{said}: convert it ({_numbers(name, library, bool(words.any()))})"
    return advice


def _numbers(name: str, library: str, words: bool) -> str:
    if library == "polars":
        strict = ", strict=False" if words else ""
        return f"df.with_columns(pl.col({name!r}).cast(pl.Float64{strict}))"
    coerce = ", errors='coerce'" if words else ""
    return f"df[{name!r}] = pd.to_numeric(df[{name!r}]{coerce})"


def non_numeric_target(frame: pl.DataFrame, target_col: str, library: str | None) -> str:
    """Why a long frame's target column cannot be read, and the fix (``library`` None: in a
    file read on the command line, what to write in it)."""
    dtype = frame.schema[target_col]
    if dtype == pl.Boolean:
        return boolean_targets([target_col], library)
    if library is None:
        advice = stray_text(frame, [target_col]).removesuffix("; or ")
        return f"target column '{target_col}' is {dtype}, not numeric{advice and ': ' + advice}"
    advice = text_numbers(frame, [target_col], library)
    if advice:
        return f"target column {advice[target_col]}"
    return f"target column '{target_col}' is {dtype}, not numeric"


def non_numeric_variates(
    frame: pl.DataFrame, bad: list, time_name: str, library: str, by_name: bool
) -> str:
    """Why the columns ``bad`` of a wide frame are not variates, and the fix: numbers written
    as text; timestamps beside the time column taken by its name (``by_name``: no date_col);
    labels."""
    stamps = [c for c in bad if frame.schema[c].is_temporal()]
    if stamps and by_name and not frame.schema[time_name].is_temporal():
        return (
            f"column '{stamps[0]}' holds timestamps, but the {frame.schema[time_name]} column "
            f"named '{time_name}' was taken as the time column by its name; pass "
            f"date_col='{stamps[0]}' (or rename '{time_name}')"
        )
    if stamps:
        return (
            f"column(s) {stamps} hold timestamps, as the time column '{time_name}' does; drop "
            f"them, or pass date_col=... naming the time column to use"
        )
    advice = text_numbers(frame, bad, library)
    labels = [c for c in bad if c not in advice]
    said = [f"non-numeric column(s) {bad} in a wide frame", *advice.values()]
    if labels:
        said.append(
            f"every column but the time column '{time_name}' must be a numeric variate: drop "
            f"{labels}, encode them as numbers (a category as 0/1 columns, e.g. "
            "pandas.get_dummies), or pass a long frame (unique_id, ds, y) where a label that "
            "names the series is its id or a static covariate"
        )
    return "; ".join(said)
