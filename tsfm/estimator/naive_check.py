"""A warning when the naive forecast beats the model on the windows scored.

``skill_mae`` compares the model with the *seasonal* naive forecast only; where the last
value says more than last season's (national_illness, M4 Weekly) a model can score a
positive ``skill_mae`` while the plain naive forecast (the look-back's last value repeated)
is far better. ``skill_mae_naive`` (``1 - mae / naive_mae``) shows it per call and per
series; :func:`warn_naive_better` says it once per ``evaluate``, ``backtest`` or
``cross_validate`` call when the model's MAE over every scored window that has a naive
forecast (all series and folds pooled, on the scaled values: each series in its own standard
deviations) is more than :data:`MARGIN` (10 %) above the naive forecast's, that is when the
pooled ``skill_mae_naive`` is below ``-MARGIN``, naming both MAEs and the series it loses
most on, and what to try: training longer as the fit's notes advise it (:data:`LONGER`,
:func:`~tsfm.training.validation_notes.train_longer`), a longer look-back, the naive forecast.
Where the model's training rows or the rows scored hold extreme values
(:mod:`tsfm.data.extreme_values`: a -9999 sentinel, a typo), it names their columns as a
likely cause (:func:`extremes_clause`): they squash the scaled values or feed the model
look-backs far outside anything it trained on, and the naive forecast does not care. They
are looked for only when the warning is said (the frame scored is scanned then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from tsfm.data.user_warnings import warn_user

MARGIN = 0.10  # the model's MAE more than 10 % above the naive forecast's
SHOWN = 5  # series named at most
LONGER = (  # as a fit's warnings say it, with the numbers (training/validation_notes.py)
    "under an exponential schedule, iTransformer's, twice the max_epochs the fit ran "
    "(fit_metrics_['max_epochs'], stretched on small data) with its optim__gamma "
    "square-rooted and its optim__decay_start_epoch and patience doubled, which stretch the "
    "rate's decay over them; max_epochs alone keeps the decay per epoch, and brings back the "
    "paper's halving after every epoch where the small-data defaults had stretched it: "
    "README 'Fit quality'"
)


Extremes = Sequence[tuple[str, Sequence[dict[str, Any]]]]  # (which rows, their records)
LazyExtremes = Callable[[], Extremes]  # called only where the naive check warns


def warn_naive_better(
    parts: list[tuple[list, Any]], what: str = "evaluate", extremes: LazyExtremes | None = None
) -> None:
    """One warning (see the module docstring) over every part of a call: ``(series names,
    their Scores)`` of each fold, or of the one set of windows; ``extremes``: gives the
    extreme values of the rows the models trained on and of those scored
    (:func:`extreme_sources`), called only when the warning is said."""
    columns = ("naive_paired_abs", "naive", "naive_count", "paired_abs", "snaive_abs")
    sums: dict[Any, np.ndarray] = {}  # series -> the sums of columns, over the parts
    for names, scores in parts:
        state = [getattr(scores.scaled, c).detach().cpu().double().numpy() for c in columns]
        for j, name in enumerate(names):
            sums[name] = sums.get(name, 0.0) + np.array([c[j] for c in state])
    if not sums:
        return
    model, naive, count, paired, snaive = np.sum(list(sums.values()), axis=0)
    if not (naive > 0 and model > (1 + MARGIN) * naive):
        return
    losing = {n: 1 - s[0] / s[1] for n, s in sums.items() if s[1] > 0 and s[0] > s[1]}
    worst = sorted(losing, key=lambda n: losing[n])[:SHOWN]
    named = ", ".join(f"{n!r} {losing[n]:+.2f}" for n in worst)
    more = f" and {len(losing) - SHOWN} more" if len(losing) > SHOWN else ""
    seasonal = ""
    if snaive > 0:
        seasonal = f", while skill_mae {1 - paired / snaive:+.2f} compares with seasonal naive"
    cause = extremes_clause(extremes() if extremes else ())  # scanned now: it warns
    warn_user(
        f"{what}: the naive forecast (the last observed value repeated) beats the model on "
        f"these windows: MAE {model / count:.4g} against the naive forecast's "
        f"{naive / count:.4g} (scaled, every series and window with a naive forecast; "
        f"skill_mae_naive {1 - model / naive:+.2f}{seasonal}). Series it loses most on "
        f"(skill_mae_naive): {named}{more}{cause}. Train the model more (a higher lr, or longer: "
        f"{LONGER}), give it a longer lookback, or forecast with the last value"
    )


def extreme_sources(models: Iterable[Any], scored: Sequence[dict[str, Any]]) -> Extremes:
    """The extreme values of the training rows of ``models`` (each fitted model's
    ``fit_metrics_["extreme_values"]``, once per model) and ``scored`` (those of the frame
    scored), as :func:`warn_naive_better` takes them."""
    trained, seen = [], set()
    for model in models:
        if id(model) not in seen:
            seen.add(id(model))
            trained += getattr(model, "fit_metrics_", {}).get("extreme_values") or []
    return [("the training rows", trained), ("the frame scored", list(scored))]


def extremes_clause(extremes: Extremes) -> str:
    """``; a likely cause: extreme values in the training rows of column 'OT' (...)``, or ""
    where no rows hold any."""
    found = {}  # which rows -> the columns (and series) named, in order
    for rows, records in extremes:
        names = [column_name(r) for r in records]
        if names:
            found.setdefault(", ".join(dict.fromkeys(names)), []).append(rows)
    if not found:
        return ""
    where = "; ".join(f"{' and '.join(rows)} of {names}" for names, rows in found.items())
    return (
        f"; a likely cause: extreme values in {where} (tsfm/data/extreme_values.py, "
        "fit_metrics_['extreme_values'] for the training rows: correct them, or set them to "
        "NaN and fit with missing=\"mask\", README 'Extreme values')"
    )


def column_name(record: dict[str, Any]) -> str:
    """``column 'OT'``, ``series 'A' column 'y'``."""
    name = f"column {record['column']!r}"
    return name if record.get("series") is None else f"series {record['series']!r} {name}"


def frame_extremes(tables: Sequence[Any], ids: Sequence[Any] | None = None) -> list[dict]:
    """The extreme values of every row of the frame scored: its one table (``ids`` None), or
    each series' table of a ``mode="independent"`` panel (``ids``: the series)."""
    from tsfm.data.extreme_values import panel_extreme_values, table_extreme_values

    if ids is None:
        return table_extreme_values(tables[0], slice(None))
    first = tables[0]
    return panel_extreme_values(
        [t.values for t in tables], [len(t) for t in tables], first.columns,
        [t.times for t in tables], ids, first.layout,
    )  # fmt: skip
