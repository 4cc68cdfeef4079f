"""The value columns of a ``mode="independent"`` panel's window rows (``evaluate``'s
``return_forecasts``, ``cross_validate``'s and ``backtest``'s forecasts): one target, the
actual under its column's name, ``forecast``, ``snaive`` and the bounds (``forecast-lo-80``);
several targets per series, those columns for each target, named after it (``sales``,
``sales-forecast``, ``sales-snaive``, ``sales-forecast-lo-80``, then ``returns``, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl


def window_value_columns(
    targets: list[str],
    actual: np.ndarray,
    forecast: np.ndarray,
    snaive: np.ndarray,
    bands: list[tuple[str, np.ndarray]] = (),
) -> list[pl.Series]:
    """The columns of windows' ``actual``, ``forecast`` and ``snaive`` ``[W, H, N]`` and
    ``bands`` (``(name, values [W, H, N])``), ``N = len(targets)`` (see the module docstring)."""
    several = len(targets) > 1
    columns: list[Any] = []
    for k, target in enumerate(targets):
        prefix = f"{target}-" if several else ""
        columns += [
            pl.Series(str(target), actual[..., k].reshape(-1), nan_to_null=True),
            pl.Series(f"{prefix}forecast", forecast[..., k].reshape(-1)),
            pl.Series(f"{prefix}snaive", snaive[..., k].reshape(-1), nan_to_null=True),
            *(pl.Series(f"{prefix}{name}", v[..., k].reshape(-1)) for name, v in bands),
        ]
    return columns
