"""The inputs of ``mode="independent"`` models: windows of one series cut out (padded before
its start as in training) and the model's batch of windows, for predict, evaluate and the
folds (:mod:`tsfm.estimator.panels`, :mod:`tsfm.estimator.panel_scoring`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tsfm.data.batch import Batch
from tsfm.data.frames import future_times
from tsfm.data.timefeatures import series_time_features
from tsfm.data.values import fill_forward
from tsfm.estimator.inference import estimator_calendar_zone


def series_rows(
    values: np.ndarray, times: np.ndarray, start: int, span: int, freq: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``start .. start + span`` of one series and their times; rows before its start
    are NaN, at the steps the series would have had."""
    pad = max(0, -start)
    rows = values[max(0, start) : start + span]
    stamps = times[max(0, start) : start + span]
    if pad:
        rows = np.concatenate([np.full((pad, values.shape[1]), np.nan), rows])
        ahead = future_times(times[0], freq, pad)
        stamps = np.concatenate([(times[0] - (ahead - times[0]))[::-1], stamps])
    return rows, stamps


def filled_windows(
    scaled: np.ndarray, before: np.ndarray | None = None, default: np.ndarray | None = None
) -> np.ndarray:
    """Each window ``[L + H, C]`` with NaN forward-filled; before the first observation with
    ``before [W, C]`` (each window's last scaled value before it, as training filled the
    whole series; NaN where none), else 0, the scaled mean (``default [W, C]``: each
    window's, for values as read)."""
    before = [None] * len(scaled) if before is None else before
    default = np.zeros((len(scaled), 1)) if default is None else default
    return np.stack([fill_forward(*w) for w in zip(scaled, before, default, strict=True)])


def panel_batch(
    est: Any,
    scaled: np.ndarray,
    times: np.ndarray,
    statics: dict[str, torch.Tensor],
    filled: np.ndarray | None = None,
) -> Batch:
    """The model's batch of windows ``scaled`` (``filled``: their :func:`filled_windows`;
    ``statics``: each window's static covariates, from
    :func:`~tsfm.estimator.static_inputs.statics_for`)."""
    lookback, n = est.lookback_, len(est.columns_)
    observed = ~np.isnan(scaled)
    filled = filled_windows(scaled) if filled is None else filled

    def tensor(array: np.ndarray, dtype=torch.float32) -> torch.Tensor:
        return torch.as_tensor(array, dtype=dtype)

    batch = Batch(x=tensor(filled[:, :lookback, :n]), x_mask=tensor(observed[:, :lookback, :n]))
    past = slice(n, n + len(est.roles_.past))
    if past.stop > past.start:
        batch["past_covariates"] = tensor(filled[:, :lookback, past])
        batch["past_covariates_mask"] = tensor(observed[:, :lookback, past])
    if est.roles_.future:
        future = slice(past.stop, None)
        batch["future_covariates"] = tensor(filled[:, :, future])
        batch["future_covariates_mask"] = tensor(observed[:, :, future])  # as in training
    if est.dims_.get("n_marks"):
        zone = estimator_calendar_zone(est)
        marks = series_time_features(list(times), est.config_.data.freq, zone)
        marks = marks.reshape(len(times), -1, marks.shape[-1])
        batch["x_mark"], batch["y_mark"] = tensor(marks[:, :lookback]), tensor(marks[:, lookback:])
    for key, value in statics.items():
        batch[key] = value.unsqueeze(1).expand(-1, n, -1)
    return batch
