"""Why a metric is undefined, and the metrics without their undefined values: the front doors
never report a NaN or an infinite value as a number (:func:`defined`); each left-out metric
gets the reason it can be undefined (:func:`reason`)."""

from __future__ import annotations

import math

SCALE = (
    "every window's scale (its look-back's; with mase_scale='history' its series' rows before "
    "it) has zero seasonal variation (constant at lag season_length, up to float rounding) or "
    "no pair of observed values season_length apart (a series shorter than that, or sparse; a "
    "look-back of season_length steps or fewer has none: pass mase_scale='history', "
    "mase_scale=history on the command line, or a longer lookback)"
)
UNDEFINED = {
    "mase": f"{SCALE}, so MASE's scale is 0 or unknown",
    "mape": "every observed actual is 0, where MAPE (the error as a percentage of the actual) "
    "is undefined; read mae or mase",
    "skill": "the seasonal-naive forecast is exact on these windows (snaive error 0, up to "
    "float rounding of the values), or there is none (see snaive_mae), so the skill relative "
    "to it is undefined",
    "skill_naive": "the naive forecast is exact on these windows (naive error 0, up to float "
    "rounding: a constant series), or there is none (see naive_mae), so the skill relative to "
    "it is undefined",
    "baseline": "no window has an observed look-back value for the baseline to repeat (the "
    "seasonal naive one needs one season_length or more before the origin: a series shorter "
    "than that has none; padding is not a value), or no observed target",
    "msis": f"{SCALE}, so MSIS's scale is 0 or unknown",
    "empty": "no observed target in these windows",
}


def reason(name: str) -> str:
    """Why the metric ``name`` can be undefined."""
    key = name.rsplit("/", 1)[-1]
    if key.startswith("mase"):
        return UNDEFINED["mase"]
    if key.startswith("mape"):
        return UNDEFINED["mape"]
    if key.startswith("skill"):
        return UNDEFINED["skill_naive" if key.endswith("_naive") else "skill"]
    if key.startswith("msis"):
        return UNDEFINED["msis"]
    if key.startswith(("snaive", "naive")):
        return UNDEFINED["baseline"]
    return UNDEFINED["empty"]


def defined(metrics: dict[str, float]) -> tuple[dict[str, float], dict[str, str]]:
    """``metrics`` without its NaN/infinite values, and the reason each was left out."""
    kept = {k: v for k, v in metrics.items() if math.isfinite(v)}
    return kept, {k: reason(k) for k in metrics if k not in kept}
