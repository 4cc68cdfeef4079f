"""``nonnegative``: forecasts of quantities that cannot go below zero (sales, counts, solar
output, rainfall) floored at zero, and the refusal of such a target whose training values do.

The setting is ``False`` (default: nothing is floored, forecasts bit for bit as without it),
``True`` (every target) or a list of target columns (a frame mixing a price that may go
negative with a demand that may not; a long frame's target column marks all its series).
Flooring happens on the original scale, after unscaling: ``max(value, 0)`` of the point
forecasts, quantiles, interval bounds and sample paths. It is monotone, so quantiles stay in
order and an interval's bounds stay ordered; an interval holds every non-negative value it held
before (a bound below zero becomes zero), so its coverage of non-negative actuals never drops and
its width never grows. Scaled scores see the floored forecast scaled (zero's scaled value).

Count distributions (Poisson, negative binomial) are not offered: the models read and forecast
standardised values (the data scaler, then most models' own instance normalisation), a shifted
and scaled space where a count's support has no meaning; flooring the unscaled forecast is
the tool available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.errors import InputError

SETTING = "nonnegative"


def setting_of(cfg: Any) -> Any:
    """The config's ``nonnegative`` (False where a config saved before it lacks the key)."""
    value = cfg.get(SETTING, False) if cfg is not None else False
    return False if value is None else value


def check_setting(value: Any, name: str = SETTING) -> None:
    """True, False or a list of column names; anything else is refused."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InputError(
            f"{name} must be True, False or a list of target columns (e.g. "
            f"{name}=['sales']), got {value!r}"
        )
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise InputError(
                f"{name} must be True, False or a list of target column names; {item!r} in "
                f"{list(value)!r} is not a column name"
            )


def marked(value: Any, columns: Sequence, long_target: str | None = None) -> np.ndarray:
    """Which of ``columns`` (target columns, or a long frame's series) are floored:
    ``long_target`` is the long frame's target column, whose name marks all its series."""
    if value is True:
        return np.ones(len(columns), dtype=bool)
    if not value:
        return np.zeros(len(columns), dtype=bool)
    names = {str(v) for v in value}
    if long_target is not None and str(long_target) in names:
        return np.ones(len(columns), dtype=bool)
    return np.array([str(c) in names for c in columns], dtype=bool)


def check_targets(value: Any, targets: Sequence, long_target: str | None = None) -> None:
    """Refuse a listed name that is no target (a covariate, a typo)."""
    if value is True or not value:
        return
    known = {str(t) for t in targets} | ({str(long_target)} if long_target is not None else set())
    unknown = [v for v in value if str(v) not in known]
    if unknown:
        shown = [long_target] if long_target is not None else [str(t) for t in targets]
        raise InputError(
            f"nonnegative names {unknown}, which are not targets of this frame; it floors "
            f"forecasts of targets only: name some of {shown}, or pass nonnegative=True for all"
        )


def floor(values: np.ndarray, mask: np.ndarray, quantiles: bool = False) -> np.ndarray:
    """``values [..., N]`` (``quantiles``: ``[..., N, Q]``) with the columns of ``mask``
    floored at zero; ``values`` itself when none is marked (bit-identical when off)."""
    if values is None or not mask.any():
        return values
    where = mask[:, None] if quantiles else mask
    return np.where(where & (values < 0), 0.0, values)


def floor_scaled(
    scaled: np.ndarray,
    original: np.ndarray,
    floored: np.ndarray,
    zero: np.ndarray,
) -> np.ndarray:
    """The scaled forecasts of ``floored`` original ones: ``zero`` (zero's scaled value,
    broadcast as ``scaled``) where flooring changed a value, the model's value elsewhere."""
    if floored is original:
        return scaled
    return np.where(floored != original, zero, scaled)


def refuse_negative(
    values: np.ndarray,
    columns: Sequence,
    times: np.ndarray | None,
    mask: np.ndarray,
    series: Any = None,
) -> None:
    """Refuse a marked target ``values[:, j]`` (of the panel series ``series``) with a
    negative value, naming the column, the count and the first timestamp (row without
    times)."""
    for j in np.flatnonzero(mask):
        below = np.flatnonzero(values[:, j] < 0)
        if not len(below):
            continue
        first = below[0]
        at = f"row {first}" if times is None else _show(times[first])
        of = "" if series is None else f" of series {series!r}"
        raise InputError(
            f"target '{columns[j]}'{of} is marked nonnegative, but {len(below)} of its "
            f"training values are below zero (the first at {at}: {values[first, j]:g}); "
            "flooring its forecasts at zero would hide them. Fix the data, or leave "
            f"'{columns[j]}' out of nonnegative (nonnegative=[...] lists the targets to floor)"
        )


def _show(time: Any) -> str:
    from tsfm.data.frames.dates import show_time

    return show_time(time)


def check_run_data(cfg: Any, datamodule: Any) -> None:
    """The command line's refusals before training: ``nonnegative`` names targets of the
    data, and none of them is below zero in the rows it trains and validates on (each
    series' own of a panel, named; M4's series are positive)."""
    value = setting_of(cfg)
    check_setting(value)
    if not value:
        return
    targets = list(datamodule.columns)
    long_target = datamodule.long_target()
    check_targets(value, targets, long_target)
    if not cfg.get("train", True):
        return
    mask = marked(value, targets, long_target)
    for series, values, times in datamodule.fitted_targets():
        refuse_negative(values, targets, times, mask, series)


def floor_frame(frame: Any, value: Any, target: str | None = None) -> Any:
    """``forecasts.parquet``'s polars frame with the ``forecast`` columns (points and bounds)
    of the marked ``series`` floored at zero (of the marked ``target`` rows where the frame
    has that column: a panel of several targets per series); ``target``: a long file's
    target column, whose name marks every series."""
    if not value:
        return frame
    import polars as pl

    marks = "target" if "target" in frame.columns else "series"  # the rows' target column
    column = pl.col(marks).cast(pl.String)
    names = frame.select(column.unique(maintain_order=True)).to_series().to_list()
    rows = column.is_in([n for n, m in zip(names, marked(value, names, target), strict=True) if m])
    columns = [c for c in frame.columns if c == "forecast" or c.startswith("forecast-")]
    return frame.with_columns(
        pl.when(rows & (pl.col(c) < 0)).then(0.0).otherwise(pl.col(c)).alias(c) for c in columns
    )
