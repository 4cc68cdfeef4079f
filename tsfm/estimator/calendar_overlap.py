"""Warnings of calendar time leaking across the series of a ``mode="independent"`` panel.

A global model over series that end on different dates trains on each series' rows up to
that series' own cutoff. With the default per-series folds (``cutoffs="per_series"``,
:mod:`tsfm.estimator.panel_folds`) a fold's model then trains on rows of the series that ends
last which come after the cutoff of the series that ends first: the early series' fold is
forecast by a model that saw later rows of the others. ``val_size`` holds out the last rows
of every series from its own end alike, so a series' validation rows (early stopping, the
epoch kept) can lie before rows the model trains on. Where the series share shocks (markets,
stores, sensors) that is leakage, and the scores (or the early stopping) are optimistic;
where they share no calendar (M4's series) it is not. tsfm keeps the per-series rule (as
neuralforecast and darts) and warns, once per call, with a
:class:`~tsfm.data.user_warnings.CalendarOverlapWarning` naming the series and what to do:
``cross_validate`` and ``backtest`` when a fold's targets of some series lie after its cutoff
but the fold's model was trained (or fitted) on a later row of another series; ``fit`` (and
the folds' fits, once per call) when some series' validation rows begin before the last row
another series trains on. Integer time columns count steps, not a shared calendar: no warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.data.frames import is_integer_time
from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import CalendarOverlapWarning, warn_user

SILENCE = (
    "where the series share no calendar, silence this: "
    "warnings.filterwarnings('ignore', category=tsfm.CalendarOverlapWarning)"
)
SHOCKS = "where the series share shocks (markets, stores, sensors), calendar time leaks"


def _ends(ids: list, tables: list) -> str:
    """The series that end first and last, and when."""
    ends = [t.times[-1] for t in tables]
    first, last, tz = int(np.argmin(ends)), int(np.argmax(ends)), tables[0].tz
    return (
        f"{ids[first]!r} ends first, on {show_time(ends[first], tz)}, {ids[last]!r} last, on "
        f"{show_time(ends[last], tz)}"
    )


def warn_cross_validation(
    ids: list, tables: list, cuts: np.ndarray, refitted: list[bool], time_col: str
) -> bool:
    """Per-series folds ``cuts [K, S]`` (rows before each cutoff) of ``cross_validate``;
    ``refitted``: which folds train a model (the others reuse the latest). Whether it warned."""
    if is_integer_time(tables[0].times):
        return False
    stamps = _cutoff_times(tables, cuts)
    trained = np.zeros(len(cuts), dtype=int)
    for fold in range(len(cuts)):
        trained[fold] = fold if refitted[fold] else trained[fold - 1]
    until = stamps[trained]  # [K, S]: each series' last row the fold's model trained on
    for fold in range(len(cuts)):
        early, late = int(np.argmin(stamps[fold])), int(np.argmax(until[fold]))
        if until[fold, late] > stamps[fold, early]:
            tz = tables[0].tz
            warn_user(
                f"cross_validate: the series end on different dates ({_ends(ids, tables)}) and "
                "cutoffs='per_series' (the default) counts each series' folds back from its "
                f"own end: fold {fold} of series {ids[early]!r} ({time_col} after "
                f"{show_time(stamps[fold, early], tz)}) is forecast by a model trained on rows "
                f"of series {ids[late]!r} up to {show_time(until[fold, late], tz)}. {SHOCKS[0].upper()}"
                f"{SHOCKS[1:]} across series and the scores are optimistic: cutoffs='shared' "
                f"gives every fold one calendar cutoff for all series; {SILENCE}",
                CalendarOverlapWarning,
            )
            return True
    return False


def warn_backtest(ids: list, tables: list, cuts: np.ndarray, seen: dict, time_col: str) -> bool:
    """Per-series folds ``cuts [K, S]`` of ``backtest`` by a model fitted on each series up to
    ``seen[series]`` (every series it was fitted on). Whether it warned."""
    if not seen or is_integer_time(tables[0].times):
        return False
    stamps = _cutoff_times(tables, cuts[:1])[0]  # fold 0: the earliest of every series
    series = max(seen, key=lambda s: seen[s])
    early = int(np.argmin(stamps))
    if not seen[series] > stamps[early]:
        return False
    tz = tables[0].tz
    warn_user(
        f"backtest: the model was fitted on rows of series {series!r} up to "
        f"{show_time(seen[series], tz)}, after the cutoff of fold 0 of series {ids[early]!r} "
        f"({time_col} after {show_time(stamps[early], tz)}): cutoffs='per_series' (the default) "
        f"counts each series' folds back from its own end ({_ends(ids, tables)}), and checks "
        f"only each series' own fitted rows. {SHOCKS[0].upper()}{SHOCKS[1:]} across series and "
        "the scores are optimistic: cutoffs='shared' gives every fold one calendar cutoff for "
        f"all series and refuses folds before any row the model was fitted on; {SILENCE}",
        CalendarOverlapWarning,
    )
    return True


def _cutoff_times(tables: list, cuts: np.ndarray) -> np.ndarray:
    """``[K, S]``: the time of each series' last row before each fold's cutoff."""
    columns = [t.times[np.asarray(c) - 1] for t, c in zip(tables, cuts.T, strict=True)]
    return np.stack(columns, axis=1)


def warn_validation(
    ids: list, times: list, n_train: list[int], val_size: Any, tz: str | None = None,
    what: str = "fit", told: set | None = None,
) -> None:  # fmt: skip
    """``val_size``'s validation rows, each series' after its first ``n_train`` rows, when
    some begin before the last row another series trains on; once per ``told`` (a call's
    record of what it warned of)."""
    if told is not None and "validation" in told:
        return
    if not times or is_integer_time(times[0]):
        return
    if any(not 0 < n < len(t) for t, n in zip(times, n_train, strict=True)):
        return  # a series too short for its validation rows: the fit refuses it
    last = np.array([t[n - 1] for t, n in zip(times, n_train, strict=True)])
    early, late = int(np.argmin(last)), int(np.argmax(last))
    if not last[late] > last[early]:
        return
    if told is not None:
        told.add("validation")
    starts = times[early][n_train[early]]
    warn_user(
        f"{what}: val_size={val_size!r} holds out the last rows of every series from its own "
        f"end, and they do not begin together: series {ids[early]!r} validates from "
        f"{show_time(starts, tz)} while the model trains on rows of series {ids[late]!r} up to "
        f"{show_time(last[late], tz)}. Early stopping and the epoch kept are then chosen on rows "
        f"that later rows of other series inform: {SHOCKS} across series and the validation "
        "loss is optimistic (rows after the fit's are not affected). For one validation "
        "period, give every series the same end and val_size as a number of rows, not a "
        f"share (or val_size=None: a fixed number of epochs); {SILENCE}",
        CalendarOverlapWarning,
    )
