"""Whether every series of a ``mode="independent"`` panel holds the folds asked for, and the
refusal, with the fold's context and the fixes, when one does not.

Fold ``k`` cuts a series of ``T`` rows at row ``c = T - horizon - (n_windows - 1 - k) * step``
(:mod:`tsfm.estimator.panel_folds`): fold 0 has the fewest rows before its cutoff, and the
shortest series the fewest of all. ``cross_validate`` trains there: those rows, less the
validation rows ``val_size`` holds out of them, must be at least ``horizon + 1``, as every
fit asks of each series (:class:`~tsfm.data.panel.PanelDataModule`). ``backtest`` does not
train, and asks more than ``horizon`` rows before the cutoff.

A series too short for fold 0 is refused, never left out of the early folds: a fold's pooled
metrics would then pool other series than the later folds', so a change from fold to fold
could be a change of series, and with ``refit=False`` the one model would forecast the left
out series as new ones in later folds; leaving them out is one line of the user's
(``df[df.unique_id != "W29"]``), and the refusal says so. The refusal names the shortest
series, its length, fold 0's cutoff in it and how many rows that fold would train on, the
other short series, and what fits (fewer ``n_windows``, a smaller ``step``, ``val_size=None``,
the frame without those series).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tsfm.data.frames.dates import show_time
from tsfm.errors import InputError
from tsfm.estimator.cross_validation import fold_step
from tsfm.estimator.fold_sizes import too_many_folds
from tsfm.estimator.panels import panel_validation_rows


def panel_cutoffs(
    est: Any, ids: list, tables: list, n_windows: int, step: int | None, training: bool
) -> np.ndarray:
    """``[n_windows, S]``: each fold's cutoff row in each series, checked for
    ``cross_validate`` (``training``: fold 0 trains on every series) or ``backtest``."""
    step = fold_step(est, n_windows, step)
    lengths = np.array([len(t) for t in tables])
    back = est.horizon + (n_windows - 1 - np.arange(n_windows)) * step
    cuts = lengths[None, :] - back[:, None]
    fits = series_trains(est) if training else (lambda rows: rows > est.horizon)
    short = [s for s, c in zip(ids, cuts[0], strict=True) if not fits(int(c))]
    if short:
        j = int(np.argmin(lengths))  # the fewest rows before every cutoff
        needs = (
            _training_needs(est) if training else (lambda r: f"more than horizon = {est.horizon}")
        )
        also = []  # val_size=None where fold 0 trains without it; the other series if any
        if training and est.val_size is not None and cuts[0, j] > est.horizon:
            also.append("val_size=None (no rows held out to validate, no early stopping)")
        if len(short) < len(ids):
            also.append(f"df without the series {short[:5]}" + ("..." if len(short) > 5 else ""))
        fixes = too_many_folds(
            int(lengths[j]), n_windows, step, est.horizon, fits, needs,
            rows_of=f"series {ids[j]!r}", also=also, longer="series", shorter="horizon",
        )  # fmt: skip
        first = _fold_zero(est, ids[j], tables[j], int(cuts[0, j]), training)
        more = f"; {len(short) - 1} more series are too short for it" if len(short) > 1 else ""
        raise InputError(
            f"series {short[:5]} are too short for the folds: fold 0 (the first of "
            f"{n_windows}, {step} steps apart) {first}{more}. {fixes}"
        )
    return cuts


def series_trains(est: Any) -> Callable[[int], bool]:
    """Whether a series with ``c`` rows before a fold's cutoff has enough to train on: the
    validation rows ``val_size`` holds out of them, plus ``horizon + 1``."""
    panel_validation_rows(2**40, est.val_size, est.horizon)  # a val_size no rows can fix

    def fits(rows: int) -> bool:
        return rows - panel_validation_rows(max(rows, 0), est.val_size, est.horizon) > est.horizon

    return fits


def _training_needs(est: Any) -> Callable[[int], str]:
    """What the rows before a fold's cutoff are for, as :func:`series_trains` counts them."""

    def needs(rows: int) -> str:
        held = panel_validation_rows(rows, est.val_size, est.horizon)
        validation = f" plus the {held} validation rows of val_size={est.val_size}"
        return f"horizon + 1 = {est.horizon + 1} rows to train on{validation if held else ''}"

    return needs


def _fold_zero(est: Any, series: Any, table: Any, cut: int, training: bool) -> str:
    """Where fold 0 cuts ``series`` and what that leaves it (the refusal's middle)."""
    h, rows = est.horizon, len(table)
    if cut < 1:
        where = f"has its cutoff {1 - cut} row(s) before series {series!r} starts ({rows} rows)"
        return f"{where}: nothing to {'train on' if training else 'forecast from'}"
    when = show_time(table.times[cut - 1], table.tz)
    where = f"has its cutoff in series {series!r} at {est.time_col}={when}, row {cut} of {rows}"
    if not training:
        return f"{where}: {cut} row(s) to forecast from, no more than horizon = {h}"
    held = panel_validation_rows(cut, est.val_size, h)
    kept = (
        f"{max(cut - held, 0)} of those {cut} (val_size={est.val_size} holds out the last "
        f"{held} to validate, at least one horizon)"
        if held
        else f"those {cut} rows"
    )
    return (
        f"{where}: that fold trains on {kept}, fewer than horizon + 1 = {h + 1} (one horizon to "
        "learn from and one row to look back on)"
    )
