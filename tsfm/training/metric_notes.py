"""Notes beside defined metrics that are hard to read: actuals of 0 left out of MAPE, series
whose actuals change sign (sMAPE and MAPE mean little there), windows whose look-back MASE
scale rests on too few pairs. The CLI records them in metrics.json (``test/warnings/<key>``);
``evaluate``, ``cross_validate`` and ``backtest`` warn them once per call."""

from __future__ import annotations

import numpy as np


def _listed(pairs: list[tuple[object, int]], unit: str) -> str:
    shown = ", ".join(f"{name!r} ({count} {unit})" for name, count in pairs[:5])
    return shown + (f" and {len(pairs) - 5} more series" if len(pairs) > 5 else "")


def notes(
    names: list,
    counts: dict[str, np.ndarray],
    lag: int,
    lookback: int | None = None,
    *,
    mase_defined: bool = True,
    history_scale: bool = False,
) -> dict[str, str]:
    """What makes defined values hard to read, by key, from the per-series counts of
    :meth:`tsfm.training.series_metrics.SeriesMetrics.compute` (``zeros``, ``positive``,
    ``negative``, ``few_pairs``, summed over everything scored) of the series ``names``:
    ``mape_zeros`` (actuals of 0 left out of MAPE), ``sign_changes`` (actuals of both signs:
    sMAPE and MAPE mean little; the metric to read instead is MAE, and MASE only where the
    pooled MASE is defined, ``mase_defined``) and ``mase_pairs`` (windows whose look-back scale
    rests on fewer than ``lag`` pairs; the advice fits the ``lookback`` length when given: a
    longer one only where it would help). ``history_scale``: MASE was scaled by the series'
    earlier rows (``mase_scale="history"``), not by each look-back."""
    found: dict[str, str] = {}
    zeros = [(n, int(c)) for n, c in zip(names, counts["zeros"], strict=True) if c > 0]
    if zeros:
        found["mape_zeros"] = (
            f"MAPE leaves out {sum(c for _, c in zeros)} forecast values whose actual is 0 (the "
            f"error as a percentage of the actual is undefined there): {_listed(zeros, 'values')}"
        )
    signs = zip(names, counts["positive"], counts["negative"], strict=True)
    crossing = [name for name, above, below in signs if above > 0 and below > 0]
    if crossing:
        more = f" and {len(crossing) - 5} more" if len(crossing) > 5 else ""
        found["sign_changes"] = (
            f"the actuals of {crossing[:5]}{more} change sign within the scored windows: sMAPE "
            "and MAPE are not meaningful there (values near 0 inflate them); "
            + _read_instead(lag, lookback, mase_defined, history_scale)
        )
    few = [(n, int(c)) for n, c in zip(names, counts["few_pairs"], strict=True) if c > 0]
    if few:
        found["mase_pairs"] = (
            f"MASE's look-back scale rests on fewer than season_length={lag} observed pairs of "
            f"values a season apart in {_listed(few, 'windows')}: such a scale is unstable (a "
            "nearly flat look-back inflates the window's MASE and MSIS); "
            + _pairs_fix(lag, lookback)
        )
    return found


def _read_instead(lag: int, lookback: int | None, mase_defined: bool, history: bool) -> str:
    """What to read where sMAPE and MAPE mean little: MAE, and MASE where it is defined (a
    look-back of at most one season has no pair a season apart to scale it by)."""
    if mase_defined:
        return "read mae and mase"
    if not history and lookback is not None and lookback <= lag:
        why = (
            f"a look-back of {lookback} rows holds no pair of values season_length={lag} "
            "apart to scale it by; mase_scale='history' (mase_scale=history on the command "
            "line) scales it by the series' rows before each window and gives it"
        )
    else:
        why = "its scale is 0 or unknown on these windows"
    return f"read mae (MASE is undefined here: {why})"


def _pairs_fix(lag: int, lookback: int | None) -> str:
    """The advice for look-back scales on too few pairs: a look-back of ``2 * lag`` rows or
    more holds ``lag`` pairs when complete, so there missing values are the cause and a longer
    look-back is no fix."""
    history = (
        "pass mase_scale='history' (the series' rows before each window's origin; "
        "mase_scale=history on the command line)"
    )
    if lookback is not None and lookback >= 2 * lag:
        return (
            f"the lookback of {lookback} rows holds {lookback - lag} pairs when complete, so "
            "missing values in those look-backs (masked, or padding before a short series' "
            f"start) are the cause: {history}, or fill the missing values"
        )
    now = "" if lookback is None else f" (it is {lookback})"
    return f"{history} or a lookback of at least {2 * lag}{now}"
