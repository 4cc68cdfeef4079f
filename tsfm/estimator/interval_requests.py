"""What a ``predict(level=..., quantiles=...)`` or ``plot(level=...)`` call asks for, checked
before any forecast: interval levels in percent, and quantile levels (``True``: the fitted
grid, ``config_.quantiles``; a list: those levels).

Which quantiles a model gives: a distribution head (``loss='normal'``, ``'student_t'``) any in
(0, 1); conformal scores any whose central interval the calibration scores support (``n``
scores: from ``1 / (2 (n + 1))`` to ``1 - 1 / (2 (n + 1))``); a quantile head
(``loss='quantile'``) only the levels it was fitted on.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.training.conformal import supports
from tsfm.training.scoring import check_levels, check_quantiles, tau_level

LEVEL_FORMS = "a list of percentages, e.g. level=[80, 95]"
QUANTILE_FORMS = (
    "True (the fitted grid, the Forecaster's quantiles), False, or a list of quantile levels "
    "in (0, 1), e.g. quantiles=[0.1, 0.5, 0.9]"
)


def requested_levels(level: Any) -> tuple[float, ...]:
    """``level`` as sorted percentages, or a ValueError naming the problem and the fix (a
    single number gets the list it most likely meant: ``0.9`` -> ``[90]``, ``90`` -> ``[90]``)."""
    if isinstance(level, (bool, np.bool_, str, bytes)):
        raise ValueError(f"level takes {LEVEL_FORMS}; got {level!r}")
    if isinstance(level, numbers.Real):
        value = float(level)
        if 0.0 < value < 1.0:  # a fraction: the percentage it stands for
            raise ValueError(
                f"level takes a list of percentages, e.g. level=[{value * 100:g}] for the "
                f"{value * 100:g} % interval; got {level!r}"
            )
        hint = f"level=[{value:g}]" if 1.0 < value < 100.0 else "level=[80, 95]"
        raise ValueError(f"level takes a list of percentages, e.g. {hint}; got {level!r}")
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
        raise ValueError(f"quantiles takes {QUANTILE_FORMS}{single}; got {quantiles!r}")
    try:
        values = [float(q) for q in quantiles]
    except (TypeError, ValueError):
        raise ValueError(f"quantiles takes {QUANTILE_FORMS}; got {quantiles!r}") from None
    if not values:
        return ()
    if len(set(values)) < len(values):
        raise ValueError(f"quantiles has repeats: {values}")
    return check_quantiles(sorted(values), name="quantiles")


def available_quantiles(est: Any, taus: Sequence[float]) -> None:
    """Refuses quantile levels the fitted model cannot give (see the module docstring)."""
    module = est.module_
    if module.head.name == "quantile":
        grid = list(module.head.levels)
        missing = [t for t in taus if not any(math.isclose(t, q, abs_tol=1e-9) for q in grid)]
        if missing:
            raise ValueError(
                f"this model (loss='quantile') forecasts only the quantiles it was fitted on, "
                f"{grid}; {missing} are not among them: ask for some of those (quantiles=True "
                "for all), or refit with quantiles=[...] holding them"
            )
    elif module.conformal is not None:
        n = int(module.conformal.counts.min())  # the fewest scores an interval is read from
        wide = [t for t in taus if not supports(n, tau_level(t))]
        if wide:
            lowest = 1.0 / (2 * (n + 1))
            raise ValueError(
                f"quantiles {wide} lie outside what the conformal calibration gives: {n} "
                f"scores give quantiles from {lowest:.4g} to {1 - lowest:.4g} (central "
                f"intervals up to {100.0 * n / (n + 1):.1f} %); ask for quantiles in that "
                "range, or calibrate on more windows (conformal_windows)"
            )
