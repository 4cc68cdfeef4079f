"""``cutoffs="shared"``: the folds of a ``mode="independent"`` panel on one calendar.

By default (``cutoffs="per_series"``) each series' folds count back from its own end
(:mod:`tsfm.estimator.panel_fold_sizes`); a fold's model then trains on rows of a series that
ends late which come after the cutoff of a series that ends early, calendar time leaking
across series (:mod:`tsfm.estimator.calendar_overlap` warns of it). With ``"shared"`` fold
``k`` has one cutoff, a time ``C_k``: the per-series rule's cutoff of the series that ends last
(the first of them in id order), so the folds of that series are the default's. Every series
trains a refitted fold on its rows at or before ``C_k`` (``val_size`` holds out the end of
those) and is forecast from them; it is scored in the fold when its rows hold the fold's
whole horizon after ``C_k`` (as every window scores a whole horizon). A series that ends
before then is absent from the fold's scores, ``per_series`` and forecasts (it still trains
the folds; one that no fold scores is warned about); a fold always scores the series that
ends last, so no fold is empty. Every series must hold, at fold
0's cutoff, the rows a fold trains on (``backtest``: more than ``horizon``), as the per-series
folds ask; one that does not is refused with the fixes that fit. A ``backtest`` with shared
cutoffs is refused when the model was fitted on any row after fold 0's cutoff (of any series
it was fitted on), since every fold's forecasts would then come from a model that saw later
rows.

A ``mode="joint"`` panel has one time index: its folds are shared either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.cross_validation import fold_step
from tsfm.estimator.fold_sizes import smallest_cutoff, too_many_folds
from tsfm.estimator.panel_fold_sizes import panel_cutoffs, series_trains

CUTOFF_RULES = ("per_series", "shared")


def check_cutoffs(cutoffs: Any) -> str:
    """``cutoffs`` if it is one of :data:`CUTOFF_RULES`, else an InputError with the fix."""
    if isinstance(cutoffs, str) and cutoffs in CUTOFF_RULES:
        return cutoffs
    dates = (
        " (the folds' cutoffs are not given as dates, as Prophet's cutoffs=[...]: n_windows "
        "and step place them from the end)"
        if isinstance(cutoffs, list | tuple | np.ndarray)
        else ""
    )
    shown = repr(cutoffs) if isinstance(cutoffs, str | int | float | None) else "..."
    raise InputError(
        f"cutoffs={shown}: use 'per_series' (the default: each series' folds count back from "
        "its own end) or 'shared' (every fold one calendar cutoff for all series, that of the "
        f"series that ends last; for mode='independent' panels){dates}"
    )


@dataclass
class SharedFolds:
    """``cuts [K, S]``: each series' rows at or before each fold's cutoff; ``times [K]``: the
    cutoffs; ``scored [K, S]``: whether the series holds the fold's whole horizon after it;
    ``latest``: the series whose folds they are (the one that ends last)."""

    cuts: np.ndarray
    times: np.ndarray
    scored: np.ndarray
    latest: int


def shared_cutoffs(
    est: Any, ids: list, tables: list, n_windows: int, step: int | None, training: bool
) -> SharedFolds:
    """The folds of every series at the cutoffs of the series that ends last, checked for
    ``cross_validate`` (``training``) or ``backtest`` (see the module docstring)."""
    latest = int(np.argmax([t.times[-1] for t in tables]))  # the first of those ending last
    own = panel_cutoffs(est, [ids[latest]], [tables[latest]], n_windows, step, training)[:, 0]
    times = tables[latest].times[own - 1]
    cuts = np.stack([np.searchsorted(t.times, times, side="right") for t in tables], axis=1)
    lengths = np.array([len(t) for t in tables])
    scored = cuts + est.horizon <= lengths[None, :]
    _refuse_short(est, ids, tables, cuts[0], times[0], latest, n_windows, step, training)
    never = [j for j in range(len(ids)) if not scored[:, j].any()]
    if never:
        end = show_time(min(tables[j].times[-1] for j in never), tables[latest].tz)
        warn_user(
            f"cutoffs='shared': series {[ids[j] for j in never][:5]} end before a whole "
            f"horizon after any fold's cutoff (the first: {show_time(times[0], tables[0].tz)}): "
            "they train the folds' models but no fold scores them; for folds that do, pass df "
            f"without the rows after their end ({est.time_col} <= {end})"
        )
    return SharedFolds(cuts, times, scored, latest)


def _refuse_short(
    est: Any, ids: list, tables: list, cut: np.ndarray, when: Any, latest: int,
    n_windows: int, step: int | None, training: bool,
) -> None:  # fmt: skip
    """Refuse the series with too few rows at or before fold 0's cutoff ``when``."""
    step = fold_step(est, n_windows, step)
    fits = series_trains(est) if training else (lambda rows: rows > est.horizon)
    short = [j for j, c in enumerate(cut) if not fits(int(c))]
    if not short:
        return
    j = min(short, key=lambda k: int(cut[k]))
    names = [ids[k] for k in short]
    first = smallest_cutoff(fits)
    purpose = (
        f"{first} to train on (horizon + 1, plus the rows val_size={est.val_size} holds out)"
        if training and est.val_size is not None
        else f"{first} to {'train on' if training else 'forecast from'}"
    )
    fixes = []
    # a later first cutoff gives rows to the series that go on after it: counted in steps of
    # the series that ends last (whose rows place the cutoffs), up to each one's first-th row
    later = [k for k in short if len(tables[k]) >= first]
    grid = tables[latest].times
    now = int(np.searchsorted(grid, when, side="right")) - 1
    needed = [int(np.searchsorted(grid, tables[k].times[first - 1], side="left")) - now
              for k in later]  # fmt: skip
    room = (n_windows - 1) * step - max(needed, default=0)
    if later and len(later) == len(short) and room >= 0:
        fixes.append(f"n_windows={room // step + 1} (the most that fit {step} steps apart)")
        if n_windows > 1 and room // (n_windows - 1) >= 1:
            fixes.append(f"step={room // (n_windows - 1)} (the largest with which {n_windows} fit)")
    if training and est.val_size is not None and all(cut[k] > est.horizon for k in short):
        fixes.append("val_size=None (no rows held out to validate, no early stopping)")
    fixes.append(f"df without the series {names[:5]}" + ("..." if len(names) > 5 else ""))
    tz = tables[latest].tz
    raise InputError(
        f"cutoffs='shared': fold 0 (the first of {n_windows}, {step} steps apart) has its "
        f"cutoff at {est.time_col}={show_time(when, tz)}, that of series {ids[latest]!r}, "
        f"which ends last; series {names[:5]} have too few rows up to it: series {ids[j]!r} "
        f"has {int(cut[j])} of its {len(tables[j])} rows there, and a series needs {purpose}. "
        f"Use {', '.join(fixes[:-1]) + ' or ' if len(fixes) > 1 else ''}{fixes[-1]}"
    )


def refuse_fitted_after(est: Any, seen: dict, ids: list, tables: list, folds: SharedFolds,
                        n_windows: int, step: int | None) -> None:  # fmt: skip
    """A backtest with shared cutoffs: refused when the model was fitted on a row (of any
    series it was fitted on; ``seen``: each one's last) after fold 0's cutoff."""
    after = {s: t for s, t in seen.items() if t > folds.times[0]}
    if not after:
        return
    series = max(after, key=lambda s: after[s])
    table = tables[folds.latest]
    need = int(np.searchsorted(table.times, after[series], side="right"))
    fits = too_many_folds(
        len(table), n_windows, fold_step(est, n_windows, step), est.horizon,
        lambda rows: rows >= need, lambda rows: "the rows the model was fitted on",
        rows_of=f"series {ids[folds.latest]!r} (which ends last)",
        also="cross_validate (which retrains per fold)", longer="series", shorter=False,
    )  # fmt: skip
    raise InputError(
        f"cutoffs='shared': the model was fitted on rows up to {show_time(after[series], table.tz)} "
        f"(series {series!r}, validation rows included), after fold 0's cutoff "
        f"{show_time(folds.times[0], table.tz)}; a backtest with shared cutoffs scores a model "
        f"that saw no row after them. {fits}; or fit on rows that end by the first cutoff"
    )
