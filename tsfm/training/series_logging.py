"""The test stage's scale-free metrics, baselines and per-target metrics, as the training
module logs them into metrics.json (definitions: :mod:`tsfm.training.series_metrics`).

Keys (``test/`` prefix):

- pooled over every target: ``smape``, ``mape`` and ``mase`` (original scale: the targets
  and look-backs as the data was read, never scaled and back; unit-free);
  ``snaive_mae``, ``snaive_mse``, ``naive_mae`` of the baselines and ``skill_mae``,
  ``skill_mse`` against the seasonal naive forecast (``skill_mae_naive`` against the naive
  one), on the *scaled* values beside the scaled
  ``mae``/``mse`` they compare with (each target in its own standard deviations: pooling
  original-scale errors would add unlike units);
- per target ``<column>`` (a panel of independent series: per series id):
  ``<column>/mae_original``, ``mse_original``, ``rmse_original``, ``snaive_mae_original``,
  ``naive_mae_original`` (the column's own units), ``smape``, ``mape``, ``mase``,
  ``skill_mae``, ``skill_mse``, ``skill_mae_naive``; for at most :data:`MAX_SERIES_KEYS` targets;
- a value that is undefined on the data (MASE of look-backs without seasonal variation, the
  skill against an exact seasonal naive forecast, a baseline of padding: ``x_mask`` marks
  it) is left out; :attr:`SeriesScores.notes`
  says which and why (metrics.json: ``test/undefined/<key>``);
- what makes a defined value hard to read is in :attr:`SeriesScores.warnings`
  (metrics.json: ``test/warnings/<key>``, and logged): actuals of 0 left out of MAPE, targets
  whose actuals change sign (sMAPE and MAPE mean little there), windows whose look-back scale
  rests on fewer than ``season_length`` pairs (:func:`tsfm.training.metric_notes.notes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from tsfm.training.flat_windows import flat_windows
from tsfm.training.metric_notes import notes
from tsfm.training.series_metrics import (
    COUNTS,
    POOLED_ORIGINAL,
    POOLED_SCALED,
    SeriesMetrics,
    pooled_values,
)
from tsfm.training.undefined_metrics import defined

MAX_SERIES_KEYS = 64
NON_FINITE = (
    "the model's forecasts are not finite numbers (NaN or infinite) here, so the metric is "
    "undefined (see non_finite and the run's error)"
)
PER_SERIES = {
    "mae": "mae_original",
    "mse": "mse_original",
    "rmse": "rmse_original",
    "snaive_mae": "snaive_mae_original",
    "naive_mae": "naive_mae_original",
    "smape": "smape",
    "mape": "mape",
    "mase": "mase",
    "skill_mae": "skill_mae",
    "skill_mse": "skill_mse",
    "skill_mae_naive": "skill_mae_naive",
}


class SeriesScores(nn.Module):
    """Two :class:`SeriesMetrics` (original scale and scaled) of ``n_series`` targets."""

    def __init__(self, n_series: int, season_length: int) -> None:
        super().__init__()
        self.original = SeriesMetrics(n_series, season_length)
        self.scaled = SeriesMetrics(n_series, season_length)
        self.n_series = n_series
        self.notes: dict[str, str] = {}
        self.warnings: dict[str, str] = {}
        self.lookback: int | None = None  # the batches' look-back rows, for the notes' advice
        self.history_scale = False  # MASE scaled by the series' earlier rows, for the notes

    def update(
        self,
        prediction: Tensor,
        original: Tensor,
        batch: Any,
        target: Tensor,
        lookback: Tensor,
        scale: tuple[Tensor, Tensor] | None = None,
    ) -> None:
        """Add a batch: ``prediction`` scaled ``[B, H, N]``, ``original`` the same in the
        data's units; ``target`` and ``lookback [B, L, N]`` the targets and look-back in the
        data's units as read (in the metrics' dtype); ``scale``: MASE's scale ``[B, N]`` of
        each window on the scaled values and on the values as read (``mase_scale="history"``),
        None: the look-back's."""
        x, size = batch["x"], batch["x"].shape[0]
        self.lookback = int(x.shape[1])
        self.history_scale = scale is not None
        series = batch.get("variate")
        if series is None and "series" in batch and x.shape[-1] == 1:  # a one-target panel
            series = batch["series"]
        if series is None and "variates" in batch:
            series = batch["variates"]
            series = series.expand(size, -1) if series.dim() == 1 else series
        if (
            series is None
            and x.shape[-1] != self.n_series
            or (series is not None and int(series.max()) >= self.n_series)
        ):
            self.notes["per_series"] = "left out: the batches' variates do not match the targets"
            return
        mask, seen = batch.get("y_mask"), batch.get("x_mask")
        seen = None if seen is None else seen.bool()  # filled gaps and padding are no steps
        scaled_scale, in_units = (None, None) if scale is None else scale
        lag = self.original.season_length  # flat up to rounding as read, on both scales
        flat = flat_windows(target, lookback, lag, mask, seen, in_units)
        self.original.update(original, target, lookback, mask, series, seen, in_units, flat)
        self.scaled.update(prediction, batch["y"], x, mask, series, seen, scaled_scale, flat)

    def compute(
        self, columns: Sequence[str] | None = None, untested: Sequence[int] = ()
    ) -> dict[str, float]:
        """The defined values by key (see the module docstring); resets the sums.
        ``untested``: series without a window (a panel's series that end before its test
        split), left out of the per-series keys and named in a note."""
        if not self.original.update_count:
            return {}
        original = {k: v.cpu() for k, v in self.original.per_series().items()}
        names = list(columns) if columns and len(columns) == self.n_series else None
        names = names or [f"series_{j}" for j in range(self.n_series)]
        kept = [j for j in range(self.n_series) if j not in set(untested)]
        if len(kept) < self.n_series:
            left = [names[j] for j in range(self.n_series) if j not in kept]
            self.notes["untested"] = f"series without test windows, not scored: {left}"
        counts = {k: original[k].numpy()[kept] for k in COUNTS}
        values = pooled_values(self.original, self.scaled)
        observed = sum(original[k] for k in ("zeros", "positive", "negative"))
        broken = [j for j in kept if observed[j] > 0 and not math.isfinite(original["mae"][j])]
        found = notes(
            [names[j] for j in kept],
            counts,
            self.original.season_length,
            self.lookback,
            mase_defined=math.isfinite(values["mase"]) or bool(broken),  # no scale to blame
            history_scale=self.history_scale,
        )
        self.warnings.update(found)
        if self.n_series <= MAX_SERIES_KEYS:
            for j in kept:
                for name, key in PER_SERIES.items():
                    values[f"{names[j]}/{key}"] = float(original[name][j])
        else:
            self.notes["per_series"] = (
                f"left out of the flat keys: {self.n_series} series, more than "
                f"{MAX_SERIES_KEYS} (Forecaster.evaluate(df, per_series=True) gives them all; "
                "output.forecasts=true writes every test forecast to score them from)"
            )
        self.original.reset()
        self.scaled.reset()
        kept, left_out = defined(values)
        self.notes.update(left_out)
        # undefined because the forecasts are not finite numbers, not for want of a scale
        for key in _of_forecasts([names[j] for j in broken]) & set(left_out):
            self.notes[key] = NON_FINITE
        return kept


def _of_forecasts(series: Sequence[str]) -> set[str]:
    """The keys of the metrics of ``series``' forecasts (pooled too, where there are any),
    those of the baselines left out."""
    baseline = ("snaive", "naive")
    model = [key for key in PER_SERIES.values() if not key.startswith(baseline)]
    pooled = [key for key in POOLED_ORIGINAL + POOLED_SCALED if not key.startswith(baseline)]
    keys = {f"{name}/{key}" for name in series for key in model}
    return keys | (set(pooled) if series else set())


def n_targets(dims: dict[str, int], scaler: dict[str, list] | None) -> int:
    """How many target series the data has (a channel-independent model sees one at a time;
    a panel of one target has one per series: its scaler is ``[series, targets]``)."""
    if scaler is None:
        return int(dims["n_vars"])
    mean = scaler["mean"]
    if mean and isinstance(mean[0], list):
        return len(mean) if len(mean[0]) == 1 else len(mean[0])
    return len(mean)
