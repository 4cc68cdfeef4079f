"""Scale-free metrics, baselines and per-series metrics of a fitted Forecaster's windows
(``evaluate``, ``cross_validate``, ``backtest``): the definitions of
:mod:`tsfm.training.series_metrics`, the same code the CLI's metrics.json comes from.

Pooled keys added to the metrics dict: ``smape``, ``mape`` and ``mase`` (original scale,
unit-free; MASE's scale per ``mase_scale``: each window's look-back, or with ``"history"`` the
series' rows before its origin in the frame given, :func:`history_scales`),
``snaive_mae``, ``snaive_mse``, ``naive_mae``, ``skill_mae``, ``skill_mse``,
``skill_mae_naive`` (on the scaled values, beside the scaled ``mae``/``mse``: each series in
its own standard deviations, or robust ones with ``scaler="robust"``) and ``season_length``. A value undefined on the data is left
out with a warning that says why.

Per-series frame: one row per series (a wide frame's target column, a long frame's id) with
``mae``, ``mse``, ``rmse``, ``snaive_mae``, ``snaive_mse``, ``naive_mae`` in the series' own
units, ``smape`` and ``mape`` (percent), ``mase``, ``skill_mae``, ``skill_mse``,
``skill_mae_naive`` and ``windows`` (the windows scored: with an observed target,
:mod:`tsfm.estimator.scored_windows`); an undefined value is missing (NaN in pandas, null in
polars), with a warning saying why. Values that are defined but hard to read (actuals of 0
left out of MAPE, actuals that change sign, look-back scales on too few pairs) get one
warning each per call (:func:`warn_notes`), as does a model the naive forecast beats
(:mod:`tsfm.estimator.naive_check`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import torch

from tsfm.data.frames import Layout
from tsfm.data.frames.write import finish_frame
from tsfm.data.seasonal_scales import history_scale, seasonal_prefix, seasonal_scale
from tsfm.data.seasons import resolve_season_length
from tsfm.data.user_warnings import warn_user
from tsfm.estimator.naive_check import LazyExtremes, warn_naive_better
from tsfm.estimator.scored_windows import scored_counts
from tsfm.training.flat_windows import Flat, flat_windows
from tsfm.training.metric_notes import notes
from tsfm.training.series_metrics import COUNTS, POOLED_SCALED, SeriesMetrics, pooled_values
from tsfm.training.undefined_metrics import defined, reason

SERIES_COLUMNS = ("mae", "mse", "rmse", "smape", "mape", "mase", *POOLED_SCALED)

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # forecast [W,H,N], actual, look-back [W,L,N]


def season_length(est: Any) -> int:
    """The fitted model's season length (older saved models: from the data's frequency)."""
    return resolve_season_length(est.config_.get("season_length"), est.freq_, est.lookback_)


def _update(
    metric: SeriesMetrics,
    arrays: Arrays,
    series: np.ndarray | None,
    observed: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    flat: Flat | None = None,
) -> Flat:
    """Add the windows to ``metric``; returns which are flat (:mod:`tsfm.training.flat_windows`:
    ``flat``, else decided on these values)."""
    forecast, actual, lookback = (torch.from_numpy(np.asarray(a, np.float64)) for a in arrays)
    index = None if series is None else torch.from_numpy(np.asarray(series, np.int64))
    seen = None if observed is None else torch.from_numpy(observed)
    given = None if scale is None else torch.from_numpy(np.asarray(scale, np.float64))
    if flat is None:
        flat = flat_windows(actual, lookback, metric.season_length, None, seen, given)
    metric.update(forecast, actual, lookback, ~actual.isnan(), index, seen, given, flat)
    return flat


def history_scales(values: np.ndarray, origins: np.ndarray, lag: int) -> np.ndarray:
    """``mase_scale="history"``: each window's MASE and MSIS scale ``[W, N]``, the mean
    absolute difference of the observed values (``values [T, N]``, NaN where missing) ``lag``
    rows apart over the rows before its origin (``origins [W]``, from row 0);
    0 where there is no such pair (left out, as a flat look-back is)."""
    values = torch.from_numpy(np.asarray(values, np.float64))
    prefix = seasonal_prefix(values, lag, ~values.isnan())
    return history_scale(prefix, torch.from_numpy(np.asarray(origins, np.int64)))[0].numpy()


def window_scales(est: Any, result: Any) -> np.ndarray:
    """The MASE and MSIS scale ``[W, N]`` of a backtest's windows in the original units: the
    one ``mase_scale="history"`` set (``result.scale``), else each look-back's."""
    if result.scale is not None:
        return result.scale
    seen = None if result.lookback_observed is None else torch.from_numpy(result.lookback_observed)
    lookback = torch.from_numpy(np.nan_to_num(result.lookback))
    return seasonal_scale(lookback, season_length(est), seen).numpy()


class Scores:
    """Both scales' metrics of a set of windows: ``original`` and ``scaled`` arrays (forecast,
    actual with NaN where missing, look-back as the model saw it). Each variate is a series,
    or (``series``: ``[W]``, one variate per window) window ``w`` is of series ``series[w]``
    of ``n_series`` (independent panels); ``scale [W, N]``: MASE's scale of each window in the
    original units (``mase_scale="history"``), None: each look-back's."""

    def __init__(
        self,
        original: Arrays,
        scaled: Arrays,
        lag: int,
        series: np.ndarray | None = None,
        n_series: int | None = None,
        observed: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ):
        self.lag, self.n_series = lag, n_series or original[0].shape[-1]
        self.lookback = int(np.shape(original[2])[1])  # the look-back's rows
        self.original = SeriesMetrics(self.n_series, lag)
        self.scaled = SeriesMetrics(self.n_series, lag)  # for the baselines
        self.scored = np.zeros(self.n_series, dtype=np.int64)  # windows scored per series
        self.history_scale = scale is not None  # mase_scale="history", for the notes
        self.add(original, scaled, series, observed, scale)

    def add(
        self,
        original: Arrays,
        scaled: Arrays,
        series: np.ndarray | None = None,
        observed: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ) -> None:
        """More windows of the same series (a chunk of them): the sums go on in order, so
        that windows given in chunks score exactly as in one go."""
        self.scored += scored_counts(original[1], series, self.n_series)
        flat = _update(self.original, original, series, observed, scale)
        _update(self.scaled, scaled, series, observed, flat=flat)  # flat as read

    def pooled(self) -> dict[str, float]:
        """The pooled keys (NaN where undefined)."""
        return pooled_values(self.original, self.scaled)

    def per_series(self) -> dict[str, np.ndarray]:
        """Each series' metrics ``[N]`` in its own units (NaN where undefined)."""
        values = self.original.per_series()
        return {k: values[k].numpy() for k in SERIES_COLUMNS}

    def counts(self) -> dict[str, np.ndarray]:
        """Each series' counts behind :func:`warn_notes` (zero, positive and negative actuals,
        windows whose look-back scale rests on too few pairs)."""
        values = self.original.per_series()
        return {k: values[k].numpy() for k in COUNTS}


def warn_notes(
    parts: list[tuple[list, Scores]], what: str = "evaluate", extremes: LazyExtremes | None = None
) -> None:
    """One warning per note (:func:`tsfm.training.metric_notes.notes`) and the naive check's
    (with ``extremes``) over every part of a call: ``(series names, their Scores)`` each."""
    totals: dict[Any, dict[str, float]] = {}
    for names, scores in parts:
        counts = scores.counts()
        for j, name in enumerate(names):
            mine = totals.setdefault(name, dict.fromkeys(COUNTS, 0.0))
            for key in COUNTS:
                mine[key] += float(counts[key][j])
    if not parts:
        return
    names = list(totals)
    counts = {key: np.array([totals[n][key] for n in names]) for key in COUNTS}
    first = parts[0][1]
    mase = any(np.isfinite(float(scores.original.pooled()["mase"])) for _, scores in parts)
    found = notes(
        names,
        counts,
        first.lag,
        first.lookback,
        mase_defined=bool(mase),
        history_scale=first.history_scale,
    )
    for note in found.values():
        warn_user(f"{what}: {note}")
    warn_naive_better(
        parts, what, extremes
    )  # skill_mae compares with the seasonal naive forecast only


def reported(values: dict[str, float], what: str = "evaluate") -> dict[str, float]:
    """``values`` without the undefined ones, each left out with a warning saying why."""
    kept, left_out = defined(values)
    for key, why in left_out.items():
        warn_user(f"{what}: {key} left out: {why}")
    return kept


def series_names(layout: Layout) -> tuple[str, str, str]:
    """The id, time and target column names of frames the Forecaster returns."""
    if layout.kind == "long":
        return layout.id_col, layout.time_col, layout.target_col
    return "unique_id", "ds" if layout.time_col.startswith("__") else layout.time_col, "y"


def in_library(frame: pl.DataFrame, layout: Layout) -> Any:
    """``frame`` (a result: forecasts of windows or folds, metrics) in the caller's frame
    library, its id, time and ``cutoff`` columns (and a panel's folds' ``first_cutoff`` and
    ``last_cutoff``) in the types of the caller's frame (a wide pandas frame's integer column
    names: integer ids)."""
    times = (series_names(layout)[1], "cutoff", "first_cutoff", "last_cutoff")
    out = finish_frame(frame, layout, times=times, index=False)
    id_col = series_names(layout)[0]
    if layout.kind == "wide" and layout.int_columns and id_col in frame.columns:
        ints = {str(n): n for n in layout.int_columns}  # the series are its column names
        out[id_col] = out[id_col].map(lambda name: ints.get(name, name))
    return out


def stacked(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Per-fold (or per-series) frames one under another. Their columns agree by construction
    (every metric is reported, null where undefined: :func:`series_frame`,
    :func:`~tsfm.estimator.interval_scores.interval_names`); a column that some part lacks anyway
    is null there (in the order the parts first name them) rather than a failed concat."""
    return pl.concat(parts, how="diagonal_relaxed")


def series_frame(
    columns: list,
    per_series: dict[str, np.ndarray],
    windows: int | np.ndarray,
    intervals: dict[str, np.ndarray] | None = None,
) -> pl.DataFrame:
    """One row per series (``columns``: their names) of :meth:`Scores.per_series`;
    ``windows``: the windows scored, for all series or per series; ``intervals``: the
    series' interval metrics, after them."""
    data: dict[str, Any] = {"__id": [c for c in columns]}
    for name in SERIES_COLUMNS:
        data[name] = pl.Series(name, per_series[name], dtype=pl.Float64, nan_to_null=True)
    data["windows"] = np.broadcast_to(np.asarray(windows, dtype=np.int64), len(columns))
    for name, values in (intervals or {}).items():
        data[name] = pl.Series(name, values, dtype=pl.Float64, nan_to_null=True)
    return pl.DataFrame(data)


def per_series_result(
    scores: Scores,
    columns: list,
    layout: Layout,
    what: str = "evaluate",
    intervals: dict[str, np.ndarray] | None = None,
    left_out: set | frozenset = frozenset(),
) -> Any:
    """The per-series frame in the caller's library, warning about undefined values (but of
    ``left_out`` series, warned about already: :mod:`tsfm.estimator.scored_windows`)."""
    values = scores.per_series()
    warn_missing(columns, values, intervals, what, left_out)
    frame = series_frame(columns, values, scores.scored, intervals)
    return in_library(frame.rename({"__id": series_names(layout)[0]}), layout)


def warn_missing(
    columns: list,
    per_series: dict[str, np.ndarray],
    intervals: dict[str, np.ndarray] | None = None,
    what: str = "evaluate",
    left_out: set | frozenset = frozenset(),
) -> None:
    """A warning for each metric missing (undefined) for some series, naming them and why; a
    series without an observed target gets one warning, not one per metric (none when its
    every window was ``left_out``, as the warning that left them out says)."""
    empty = np.isnan(per_series["mae"])
    names = [c for c, e in zip(columns, empty, strict=True) if e and c not in left_out]
    if names:
        warn_user(f"{what}: every metric is missing for {names}: {reason('empty')}")
    for name, values in {**per_series, **(intervals or {})}.items():
        missing = [
            c for c, v, e in zip(columns, values, empty, strict=True) if np.isnan(v) and not e
        ]
        if missing:
            warn_user(f"{what}: {name} is missing for {missing}: {reason(name)}")


def warn_missing_in_folds(frame: pl.DataFrame, id_col: str, left_out: list = ()) -> None:
    """:func:`warn_missing` for the per-(fold, series) frame of cross-validation and backtests:
    one warning per metric, naming the series and folds where it is missing; one warning, not
    one per metric, for the pairs without an observed target; none for the ``(series, fold)``
    pairs ``left_out`` of the scores, warned about already."""
    keys = {id_col, "fold", "cutoff"}
    if left_out:
        pairs = pl.DataFrame(
            {id_col: [s for s, _ in left_out], "fold": [f for _, f in left_out]},
            schema={id_col: frame.schema[id_col], "fold": frame.schema["fold"]},
        )
        frame = frame.join(pairs, on=[id_col, "fold"], how="anti", maintain_order="left")

    def named(rows: pl.DataFrame) -> str:
        pairs = [f"{s!r} (fold {f})" for s, f in zip(rows[id_col], rows["fold"], strict=True)]
        return ", ".join(pairs[:5]) + (", ..." if len(pairs) > 5 else "")

    empty = pl.col("mae").is_null()  # no observed target: every metric, for one reason
    if frame.filter(empty).height:
        every = f"every metric is missing for {named(frame.filter(empty))}"
        warn_user(f"folds: {every}: {reason('empty')}")
    frame = frame.filter(~empty)
    for name in [c for c in frame.columns if c not in keys and frame[c].dtype.is_float()]:
        rows = frame.filter(pl.col(name).is_null())
        if rows.height:
            warn_user(f"folds: {name} is missing for {named(rows)}: {reason(name)}")
