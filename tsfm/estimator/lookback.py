"""The look-back a fit uses where the user chose none (``lookback=None``, the default).

A fixed 96 steps is four days of hourly data but 24 years of quarterly data, and leaves a
weekly series of two years almost no training windows. The rule instead:

1. ``FALLBACK`` (96) steps, as before, but no more than ``SEASONS`` (4) seasons of the
   data (``season_length`` where given, else the frequency's longest natural season,
   :func:`tsfm.data.seasons.natural_seasons`) and no less than one season: hourly,
   15-minute and weekly data keep 96, daily gets 28 (4 weeks), monthly 48, quarterly 16
   (4 years, not 24), 5-minute 288 (a day); at most ``CEILING`` (720) steps (minute and
   second data); 96 where the frequency has no season (yearly data, integer time steps);
2. at most a ``1 / SHARE`` (a third) of the training rows (the rows left after ``val_size``;
   the median series' for a ``mode="independent"`` panel, whose short series are padded),
   so that two thirds of them still start training windows;
3. at least 2 steps (:func:`tsfm.data.seasons.check_lookback`); where even 2 steps and the
   horizon do not fit the training rows, the fit is refused.

A warm fit keeps the fitted look-back (the weights are sized by it); an explicit integer is
used exactly as given; cross-validation and tuning resolve it once, on the shortest fold's
training rows, so that every fold and trial forecasts from the same look-back. The value a
fit chose is ``lookback_`` and ``fit_metrics_["lookback"]`` (saved with the model).
Measured on aus_production, us_change, national_illness and M4 Weekly (README "Defaults
from the data"): 4 seasons of quarterly data forecast better than 96 steps; on weekly data
208 steps (4 years) forecast worse than 96, which is why 96 bounds the seasons' count.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from tsfm.data.seasons import natural_seasons
from tsfm.errors import InputError

SEASONS = 4
FALLBACK = 96
CEILING = 720
SHARE = 3


def season_steps(freq: str | int | None, season_length: Any = None) -> int | None:
    """The season the rule counts in: ``season_length`` where given (a whole number above 1),
    else the frequency's longest natural season; None where there is none."""
    if isinstance(season_length, int) and not isinstance(season_length, bool):
        return season_length if season_length > 1 else None
    seasons = natural_seasons(freq)
    return seasons[0] if seasons else None


def default_lookback(
    freq: str | int | None,
    horizon: int,
    train_rows: int,
    season_length: Any = None,
    panel: bool = False,
) -> int:
    """The rule of the module docstring for ``train_rows`` training rows (of the median
    series, for a ``panel``); :class:`InputError` where no look-back of 2 or more steps leaves
    room for one window of ``horizon`` targets (not for a panel: its series are padded, and
    its fit refuses by name the series too short to train)."""
    season = season_steps(freq, season_length)
    wanted = min(SEASONS * season, max(FALLBACK, season)) if season else FALLBACK
    wanted = min(wanted, CEILING)
    lookback = max(2, min(wanted, train_rows // SHARE))
    if lookback + horizon > train_rows and not panel:
        raise InputError(
            f"{train_rows} training rows leave no look-back: one window needs lookback + "
            f"horizon = at least 2 + {horizon} rows; pass a longer frame, or shorten the "
            "horizon (or val_size)"
        )
    return lookback


def fit_lookback(
    est: Any, freq: str | int | None, train_rows: int | Sequence[int], warm: Any = None
) -> int:
    """The look-back a fit of ``est`` uses: its ``lookback`` where set, a warm fit's fitted
    one, else :func:`default_lookback` of the training rows (a panel's: one count per series,
    their median counts)."""
    if est.lookback is not None:
        return int(est.lookback)
    if warm is not None and getattr(warm, "lookback", None) is not None:
        return int(warm.lookback)
    panel = not isinstance(train_rows, int)
    rows = int(statistics.median(train_rows)) if panel else train_rows
    season = est.extra_params().get("season_length")
    return default_lookback(freq, est.horizon, rows, season, panel)


def pinned(est: Any, lookback: int) -> Any:
    """``est`` itself where its look-back is set, else a clone of it with ``lookback``: the
    folds of a cross-validation (and the trials of a search) share one look-back."""
    if est.lookback is not None:
        return est
    from sklearn.base import clone

    model = clone(est)
    model.lookback = lookback
    return model


def fold_model(est: Any, freq: str | int | None, rows: int | Sequence[int]) -> Any:
    """``est`` for a cross-validation whose first fold has ``rows`` rows before its cutoff
    (a panel's: one count per series): :func:`pinned` to the look-back a fit on them would
    choose (the validation rows ``val_size`` holds out left out), so every fold's model
    forecasts from the same look-back. Where they hold none, 2: the folds' own refusal then
    says how many rows they need."""
    if est.lookback is not None:
        return est
    from tsfm.estimator.fitting import validation_rows
    from tsfm.estimator.panels import panel_validation_rows

    counts = [rows] if isinstance(rows, int) else list(rows)
    held_out = validation_rows if isinstance(rows, int) else panel_validation_rows  # as fit's
    try:
        train = [n - held_out(n, est.val_size, est.horizon) for n in counts]
        lookback = fit_lookback(est, freq, train[0] if isinstance(rows, int) else train)
    except ValueError:  # InputError too: too few rows, which the fold check words
        lookback = 2
    return pinned(est, lookback)


def lookback_of(est: Any) -> int | None:
    """The look-back of ``est``'s fit (``lookback_``, set as a fit starts), else its
    ``lookback`` parameter (None before a fit where the data chooses)."""
    return getattr(est, "lookback_", None) or est.lookback
