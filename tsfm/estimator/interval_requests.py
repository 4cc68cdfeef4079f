"""What a ``predict(level=..., quantiles=...)`` or ``plot(level=...)`` call asks for, checked
before any forecast: interval levels in percent, and quantile levels (``True``: the fitted
grid, ``config_.quantiles``; a list: those levels).

Which quantiles a model gives: a distribution head (``loss='normal'``, ``'student_t'``) any in
(0, 1); conformal scores any whose central interval the calibration scores support (``n``
scores: from ``1 / (2 (n + 1))`` to ``1 - 1 / (2 (n + 1))``); a quantile head
(``loss='quantile'``) only the levels it was fitted on. Per-series conformal scores serve only
a frame of exactly the fitted variates (:func:`check_interval_variates`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.errors import InputError
from tsfm.training.conformal import supports
from tsfm.training.scoring import (
    check_levels,
    check_quantiles,
    refuse_text,
    sorted_quantiles,
    tau_level,
)

LEVEL_FORMS = "a list of percentages, e.g. level=[80, 95]"
QUANTILE_FORMS = (
    "True (the fitted grid, the Forecaster's quantiles), False, or a list of quantile levels "
    "in (0, 1), e.g. quantiles=[0.1, 0.5, 0.9]"
)


def requested_levels(level: Any) -> tuple[float, ...]:
    """``level`` as sorted percentages, or a ValueError naming the problem and the fix (a
    single number gets the list it most likely meant: ``0.9`` -> ``[90]``, ``90`` -> ``[90]``)."""
    if isinstance(level, (bool, np.bool_, str, bytes)):
        raise InputError(f"level takes {LEVEL_FORMS}; got {level!r}")
    if isinstance(level, numbers.Real):
        value = float(level)
        if 0.0 < value < 1.0:  # a fraction: the percentage it stands for
            raise InputError(
                f"level takes a list of percentages, e.g. level=[{value * 100:g}] for the "
                f"{value * 100:g} % interval; got {level!r}"
            )
        hint = f"level=[{value:g}]" if 1.0 < value < 100.0 else "level=[80, 95]"
        raise InputError(f"level takes a list of percentages, e.g. {hint}; got {level!r}")
    return check_levels(level, name="level")


def requested_quantiles(quantiles: Any) -> tuple[float, ...] | bool | None:
    """``quantiles`` as asked: ``True`` (the fitted grid), ``None`` (none: ``False`` or
    ``None``) or the levels of a list, sorted (``()`` for an empty one); anything else is
    refused with the forms it takes."""
    if quantiles is None or isinstance(quantiles, (bool, np.bool_)):
        return True if quantiles else None
    if isinstance(quantiles, (str, bytes, numbers.Number)):
        try:
            value = float(quantiles)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan
        single = f" (the {value:g} quantile alone: quantiles=[{value:g}])" if 0 < value < 1 else ""
        raise InputError(f"quantiles takes {QUANTILE_FORMS}{single}; got {quantiles!r}")
    refuse_text(quantiles, "quantiles")
    try:
        values = [float(q) for q in quantiles]
    except (TypeError, ValueError):
        raise InputError(f"quantiles takes {QUANTILE_FORMS}; got {quantiles!r}") from None
    if not values:
        return ()
    return check_quantiles(sorted_quantiles(values), name="quantiles")


def available_quantiles(est: Any, taus: Sequence[float]) -> None:
    """Refuses quantile levels the fitted model cannot give (see the module docstring)."""
    module = est.module_
    if module.head.name == "quantile":
        grid = list(module.head.levels)
        missing = [t for t in taus if not any(math.isclose(t, q, abs_tol=1e-9) for q in grid)]
        if missing:
            raise InputError(
                f"this model (loss='quantile') forecasts only the quantiles it was fitted on, "
                f"{grid}; {missing} are not among them: ask for some of those (quantiles=True "
                "for all), or refit with quantiles=[...] holding them"
            )
    elif module.conformal is not None:
        n = int(module.conformal.counts.min())  # the fewest scores an interval is read from
        wide = [t for t in taus if not supports(n, tau_level(t))]
        if wide:
            lowest = 1.0 / (2 * (n + 1))
            raise InputError(
                f"quantiles {wide} lie outside what the conformal calibration gives: {n} "
                f"scores give quantiles from {lowest:.4g} to {1 - lowest:.4g} (central "
                f"intervals up to {100.0 * n / (n + 1):.1f} %); ask for quantiles in that "
                "range, or calibrate on more windows (conformal_windows)"
            )


def check_interval_variates(est: Any, prepared: Any) -> None:
    """Per-series conformal scores describe the forecasts of the fitted variates, made from
    all of them together: a frame with other variates, or only some of them, is refused
    with the reason and the fix."""
    conformal = est.module_.conformal
    if conformal is None or conformal.scores.shape[2] == 1 or prepared.restore is not None:
        return
    fitted = [str(c) for c in est.columns_]
    columns = [str(c) for c in prepared.table.columns[: prepared.n_targets]]
    new = [c for c in columns if c not in set(fitted)]
    lacking = [c for c in fitted if c not in set(columns)]
    problems, fixes = [], []
    if new:
        problems.append(f"its {new} have no calibration scores")
        fixes.append(f"leave {new} out")
    if lacking:
        together = "" if est.config_.data.channel_independent else (
            f" (model '{est.model}' forecasts each variate from all the variates of the frame, "
            "so the scores of forecasts made with every fitted variate do not describe "
            "forecasts made without some of them)"
        )  # fmt: skip
        problems.append(f"it lacks {lacking}{together}")
        fixes.append("pass every fitted variate and keep the columns you need from the result")
    raise InputError(
        f"the conformal intervals were calibrated per series on forecasts of the fitted "
        f"variates {fitted}; this frame does not hold exactly those: {' and '.join(problems)}."
        f" For intervals {' and '.join(fixes)}; or forecast points only (predict without "
        "level= or quantiles=)"
    )
