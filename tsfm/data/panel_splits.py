"""Where the command line splits a long file of independent series (``data.mode=independent``)
into training, validation and test rows: ``data.cutoffs``, the Forecaster's ``cutoffs`` names.

``shared``: the split of the panel's calendar, every timestamp of every series
together, by the ratio rule of :mod:`tsfm.data.panel_files` (its last ``max(pred_len,
round(test_ratio * U))`` of ``U`` timestamps test, the ``max(pred_len, round((1 - train_ratio
- test_ratio) * U))`` before them validate); each series' rows before the first validation
timestamp train, those from the first test timestamp on are its test targets, the rest
validate. No series then trains on a row at or after the time any series' validation or test
targets begin. A series that ends before a whole horizon after the test start is trained
(and validated) but not tested (warned); one with fewer than ``pred_len + 1`` rows before the
validation start is refused by name, with the fixes. Series that share their timestamps (one
series, or every series on one calendar) are split as by ``per_series``, row for row.

``per_series`` (the default, as the Forecaster's folds): each series split by its own rows
from its own end. Where the series end on
different dates (or have different lengths), a series' test targets can lie before rows
another series trains on: one global model has then seen later rows of the others, calendar
time leaks across series where they share shocks (markets, stores, sensors) and the test
scores are optimistic. It is warned of with a
:class:`~tsfm.data.user_warnings.CalendarOverlapWarning` (never for integer time columns:
steps, not a shared calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.data.frames import is_integer_time
from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import CalendarOverlapWarning, warn_user
from tsfm.errors import InputError

CUTOFF_RULES = ("per_series", "shared")
SILENCE = (
    "where the series share no calendar, silence this: "
    "warnings.filterwarnings('ignore', category=tsfm.CalendarOverlapWarning)"
)


def check_cutoffs_setting(value: Any) -> None:
    """Refuse a ``data.cutoffs`` that is not one of :data:`CUTOFF_RULES`."""
    if value not in CUTOFF_RULES:
        raise InputError(
            f"data.cutoffs must be one of {CUTOFF_RULES}, got {value!r}: 'per_series' (the "
            "default) splits each series from its own end, 'shared' cuts every series' "
            "validation and test rows at the same timestamps"
        )


def held_out_rows(n_rows: int, ratio: float, horizon: int) -> int:
    """Trailing rows a ``ratio`` of ``n_rows`` holds out, at least one horizon."""
    return max(horizon, round(ratio * n_rows))


def panel_split(
    cfg: Any, ids: Sequence[Any], times: Sequence[np.ndarray], tz: str | None = None
) -> tuple[list[int], list[int]]:
    """Each series' training rows (leading) and test rows (trailing) by ``cfg.cutoffs``
    (module docstring); its validation rows are those between."""
    check_cutoffs_setting(cfg.cutoffs)
    val_ratio = 1 - cfg.train_ratio - cfg.test_ratio
    if cfg.cutoffs == "shared":
        return _shared_split(cfg, ids, times, val_ratio, tz)
    n_test = [held_out_rows(len(t), cfg.test_ratio, cfg.pred_len) for t in times]
    n_val = [held_out_rows(len(t), val_ratio, cfg.pred_len) for t in times]
    n_train = [len(t) - a - b for t, a, b in zip(times, n_test, n_val, strict=True)]
    _warn_overlap(ids, times, n_train, n_test, tz)
    return n_train, n_test


def _shared_split(
    cfg: Any, ids: Sequence[Any], times: Sequence[np.ndarray], val_ratio: float, tz: str | None
) -> tuple[list[int], list[int]]:
    calendar = np.unique(np.concatenate(times))
    tested = held_out_rows(len(calendar), cfg.test_ratio, cfg.pred_len)
    validated = held_out_rows(len(calendar), val_ratio, cfg.pred_len)
    if tested + validated >= len(calendar):
        return [0] * len(times), [len(t) for t in times]  # too short: the module refuses it
    test_start, val_start = calendar[-tested], calendar[-tested - validated]
    n_train = [int(np.searchsorted(t, val_start, side="left")) for t in times]
    n_test = [len(t) - int(np.searchsorted(t, test_start, side="left")) for t in times]
    short = [j for j, n in enumerate(n_train) if n < cfg.pred_len + 1]
    if short:
        names = [ids[j] for j in short]
        j = short[0]
        raise InputError(
            f"data.cutoffs=shared: series {names[:5]} have fewer than horizon + 1 = "
            f"{cfg.pred_len + 1} rows before the panel's validation start "
            f"{show_time(val_start, tz)} (series {ids[j]!r} has {n_train[j]} of its "
            f"{len(times[j])} rows there, from {show_time(times[j][0], tz)}); every series "
            "trains on its rows before that time. Use a larger data.train_ratio, a file "
            "without those series, or data.cutoffs=per_series (each series split from its "
            "own end, which lets calendar time leak across series)"
        )
    untested = [ids[j] for j, n in enumerate(n_test) if n < cfg.pred_len]
    if untested:
        warn_user(
            f"data.cutoffs=shared: series {untested[:5]} end before a whole horizon after the "
            f"panel's test start {show_time(test_start, tz)}: they are trained (and validated "
            "where they can be) but not tested, and metrics.json has no scores of theirs"
        )
    return n_train, n_test


def _warn_overlap(
    ids: Sequence[Any], times: Sequence[np.ndarray], n_train: list[int], n_test: list[int],
    tz: str | None,
) -> None:  # fmt: skip
    """Warn when some series' test targets begin at or before the last row another trains on."""
    if is_integer_time(times[0]) or any(
        not 0 < n < len(t) for t, n in zip(times, n_train, strict=True)
    ):
        return  # steps, not a calendar; or a series too short: the data module refuses it
    if any(n < 1 for n in n_test):
        return
    trained = np.array([t[n - 1] for t, n in zip(times, n_train, strict=True)])
    tested = np.array([t[len(t) - n] for t, n in zip(times, n_test, strict=True)])
    early, late = int(np.argmin(tested)), int(np.argmax(trained))
    if trained[late] < tested[early]:
        return
    warn_user(
        f"data.cutoffs=per_series splits each series from its own end, and the series' "
        f"calendars overlap: series {ids[early]!r} is tested from "
        f"{show_time(tested[early], tz)} while the model trains on rows of series "
        f"{ids[late]!r} up to {show_time(trained[late], tz)}. Where the series share shocks "
        "(markets, stores, sensors), calendar time leaks across series and the test scores "
        "are optimistic: data.cutoffs=shared cuts every series' validation and test rows at "
        f"the same timestamps; {SILENCE}",
        CalendarOverlapWarning,
    )
