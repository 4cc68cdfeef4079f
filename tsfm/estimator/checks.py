"""Checks of the Forecaster's own arguments, before any data is read (messages use the
Python argument names)."""

from __future__ import annotations

from typing import Any

MODES = ("joint", "independent")
MISSING = ("refuse", "mask")
ROLE_ARGUMENTS = ("targets", "future_covariates", "past_covariates", "static_covariates")


def check_options(est: Any) -> None:
    if est.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {est.mode!r}")
    if est.verbose not in (0, 1, 2):  # True and False are 1 and 0
        raise ValueError(
            f"verbose must be 0 (silent), 1 (epoch lines) or 2 (Lightning's), got {est.verbose!r}"
        )
    if est.missing not in MISSING:
        raise ValueError(f"missing must be one of {MISSING}, got {est.missing!r}")
    for name in ROLE_ARGUMENTS:
        value = getattr(est, name)
        if value is not None and (isinstance(value, str) or not hasattr(value, "__iter__")):
            raise ValueError(f"{name} must be a list of column names, got {value!r}")


def frame_columns(df: Any) -> list[str]:
    """The column names of a pandas or polars frame (a pandas index name included)."""
    columns = [str(c) for c in getattr(df, "columns", [])]
    index = getattr(getattr(df, "index", None), "name", None)
    return [*columns, str(index)] if index is not None else columns
