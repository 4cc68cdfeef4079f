"""How many rolling-origin folds a frame holds, for the refusal of too many: with ``T`` rows,
``n`` folds ``step`` apart put the first cutoff at ``c = T - horizon - (n - 1) * step`` (see
:mod:`tsfm.estimator.cross_validation`), and the rows before it must be enough to forecast
(backtest: the look-back) or to train (cross_validate: look-back, horizon and any validation
rows). The refusal says how many rows that takes, how many folds fit with the step given, the
step with which the folds asked for fit, and how long a frame they need; never a negative row
count."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tsfm.errors import InputError


def smallest_cutoff(fits: Callable[[int], bool]) -> int:
    """The fewest rows before a cutoff that ``fits`` accepts (``fits``: monotone, more rows
    never fit worse)."""
    high = 1
    while not fits(high):
        high *= 2
        if high > 2**48:
            raise InputError("no number of rows before a cutoff is enough")
    low = high // 2  # does not fit (or is 0)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def too_many_folds(
    n_rows: int,
    n_windows: int,
    step: int,
    horizon: int,
    fits: Callable[[int], bool],
    needs: Callable[[int], str],
    rows_of: str = "the frame",
    also: str | Sequence[str] = "",
    longer: str = "a frame",
    shorter: bool | str = True,
) -> str:
    """Why ``n_windows`` folds ``step`` apart do not fit ``n_rows`` rows, and what fits.
    ``fits(c)``: whether ``c`` rows before a cutoff are enough; ``needs(c)``: what those rows
    are for (``"lookback = 16"``); ``rows_of``: whose rows (``"series 'a'"``); ``also``: one
    more fix (``"a smaller val_size"``) or several; ``longer``: what may be longer (``"series"``);
    ``shorter``: whether shorter lookback or horizon would fit more (not past fitted rows), or
    which of them would (``"horizon"``: a panel's series are padded to the look-back)."""
    more = [fix for fix in ([also] if isinstance(also, str) else also) if fix]
    first = smallest_cutoff(fits)
    wanted = first + (n_windows - 1) * step + horizon
    steps = f", then {n_windows - 1} step(s) of {step} to the last fold" if n_windows > 1 else ""
    text = (
        f"{n_windows} fold(s) {step} steps apart need {wanted} rows: {first} before the first "
        f"cutoff ({needs(first)}){steps}, and its horizon of {horizon}; {rows_of} has {n_rows}"
    )
    room = n_rows - horizon - first  # rows left for the steps between folds
    if room < 0:
        what = shorter if isinstance(shorter, str) else "lookback or horizon"
        fixes = [f"shorten {what}"] if shorter else []
        fixes += [f"use {fix}" for fix in more]
        return (
            f"{text}, too few for even one fold: pass at least {first + horizon} rows (more for "
            f"more folds){''.join(f', or {fix}' for fix in fixes)}"
        )
    most = room // step + 1
    options = [f"n_windows={most} (the most that fit {step} steps apart)"]
    if n_windows > 1 and room // (n_windows - 1) >= 1:
        options.append(f"step={room // (n_windows - 1)} (the largest with which {n_windows} fit)")
    options += more
    options.append(f"{longer} of at least {wanted} rows")
    return f"{text}. Use {', '.join(options[:-1])} or {options[-1]}"


def trains_on(est: Any) -> Callable[[int], bool]:
    """Whether a fold with ``c`` rows before its cutoff has enough to train on: lookback +
    horizon, plus the validation rows ``val_size`` holds out of them."""
    from tsfm.estimator.fitting import validation_rows

    validation_rows(2**40, est.val_size, est.horizon)  # refuses a val_size no rows can fix
    need = est.lookback + est.horizon

    def fits(rows: int) -> bool:
        try:
            return rows >= need + validation_rows(rows, est.val_size, est.horizon)
        except ValueError:  # a share of so few rows is shorter than one horizon
            return False

    return fits


def training_needs(est: Any) -> Callable[[int], str]:
    """What the rows before a fold's cutoff are for, as :func:`trains_on` counts them."""
    from tsfm.estimator.fitting import validation_rows

    def needs(rows: int) -> str:
        held_out = validation_rows(rows, est.val_size, est.horizon)
        validation = (
            f" plus the {held_out} validation rows of val_size={est.val_size}, which must be "
            "at least one horizon"
        )
        return (
            f"lookback + horizon = {est.lookback + est.horizon} rows to train on"
            f"{validation if held_out else ''}"
        )

    return needs
