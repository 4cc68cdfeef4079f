"""The rows a ``mode="independent"`` forecast (``predict``, ``sample_paths``) is given of each
series, checked before it is scaled and forecast.

A series the model was fitted on is scaled with its training statistics whatever rows are
given; one given fewer rows than the look-back is padded before its first row, as training
pads short series, and warned about (unless its rows start where its fitted ones did: a
series that short). A series the model never saw can only be scaled by the rows given, so its
scale (and with it the forecast and its intervals' width, which are conformal scores or
quantiles of the scaled series times that scale) is an estimate from them: refused where
there is none (fewer than 2 observed values of a target, or, with intervals, rows constant in
a target: the scale would fall back to 1 or to the level's magnitude, whatever the series'
spread), and warned about when it comes from fewer than ``lookback + horizon`` rows (one
training window).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.data.scaler import constant_rule
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.fitted_record import record

SHOWN = 5  # series named in a message


def check_given_rows(est: Any, ids: list, tables: list, intervals: bool, what: str) -> None:
    """Refuse or warn about the rows ``tables`` (one per series of ``ids``, in the model's
    column order) give a forecast (``what``: ``"predict"``, ``"sample_paths"``) as the module
    docstring says; ``intervals``: the forecast has intervals, quantiles or paths."""
    fitted = set(est.series_)
    n = len(est.columns_)
    new = [j for j, s in enumerate(ids) if s not in fitted]
    _refuse_unscalable(
        est, [ids[j] for j in new], [tables[j].values[:, :n] for j in new], intervals
    )
    enough = est.lookback_ + est.horizon
    few = {ids[j]: len(tables[j]) for j in new if len(tables[j]) < enough}
    if few:
        warn_user(
            f"{what}: {_named(few)} not seen in training are scaled by the rows given, fewer "
            f"than lookback + horizon ({enough}): a new series' scale is estimated from its own "
            "rows (a fitted series' came from its training rows), and the forecast and its "
            "intervals' width scale with it, so an estimate from few rows (or from a stretch "
            "flatter or steeper than the series) makes them too narrow or too wide. Pass each "
            "new series' full history"
        )
    short = [j for j, s in enumerate(ids) if s in fitted and len(tables[j]) < est.lookback_]
    starts = _fitted_starts(est) if short else {}  # a fitted series that short: no warning
    short = {
        ids[j]: len(tables[j]) for j in short if not _from_start(tables[j], starts.get(ids[j]))
    }
    if short:
        warn_user(
            f"{what}: {_named(short)} are given fewer rows than the look-back "
            f"({est.lookback_}): the steps before their first row are padded as missing "
            "values (as training pads series shorter than the look-back), so the forecast "
            f"starts from those rows only. Pass at least the last {est.lookback_} rows of each "
            "series"
        )


def _named(rows: dict) -> str:
    """``series ['a', 'b'] (3 and 5 rows)``, the first :data:`SHOWN` of them."""
    names = list(rows)[:SHOWN]
    counts = " and ".join(str(rows[s]) for s in names)
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    plural = "" if len(names) == 1 and rows[names[0]] == 1 else "s"
    return f"series {names}{more} ({counts} row{plural})"


def _refuse_unscalable(est: Any, ids: list, values: list, intervals: bool) -> None:
    """Refuse new series whose rows give no scale: a single observed value of a target (none:
    refused by :func:`~tsfm.data.panel_scaling.require_observed`), or (``intervals``) a
    target constant over them."""
    counts = [(~np.isnan(v)).sum(axis=0).min() for v in values]  # 0: require_observed's
    single = [s for s, c in zip(ids, counts, strict=True) if c == 1]
    if single:
        raise InputError(
            f"series {single[:SHOWN]} not seen in training have 1 observed value of a target in "
            "the rows given: a new series is scaled by the spread of its own observed values, "
            "and fewer than 2 give none. Pass its history (at least the look-back, "
            f"{est.lookback_} rows), or drop it"
        )
    if not intervals:
        return
    flat = [s for s, v, c in zip(ids, values, counts, strict=True) if c and _constant(v)]
    if flat:
        raise InputError(
            f"series {flat[:SHOWN]} not seen in training are constant in a target over the rows "
            "given: a new series is scaled by the spread of its own rows, and a constant one's "
            "scale falls back to 1 (or its level's magnitude), so its intervals would have a "
            "width unrelated to the series. Pass more of its history (rows where it varies), or "
            "forecast it without intervals (no level or quantiles)"
        )


def _constant(values: np.ndarray) -> bool:
    """Whether a target of ``values [T, N]`` is constant by the scalers' rule."""
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    return bool(constant_rule(values, mean, std, 1e-12, 1.0)[2].any())


def _fitted_starts(est: Any) -> dict:
    """Each fitted series' first fitted timestamp over every fit (none where not recorded)."""
    rows = record(est)
    starts: dict = {}
    for fit in () if rows is None else rows.fits():
        if fit.start is None or fit.series is None:
            continue
        for series, start in zip(fit.series, fit.start, strict=True):
            starts[series] = min(starts.get(series, start), start)
    return starts


def _from_start(table: Any, start: Any) -> bool:
    """Whether ``table``'s rows start no later than its series' fitted rows did."""
    return start is not None and table.times is not None and table.times[0] <= start
