"""One fit of the estimator: split, config, data module, the shared pipeline, fitted state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsfm.estimator.datamodule import PanelDataModule
from tsfm.estimator.frames import Panel
from tsfm.estimator.params import build_config
from tsfm.estimator.quiet import quiet, run_directory, trainer_arguments
from tsfm.estimator.timestamps import Freq, is_integer_time, next_time, resolve_freq


def validation_rows(n_rows: int, val_size: float | int | None, horizon: int) -> int:
    """How many trailing rows ``val_size`` holds out (0 for None)."""
    if val_size is None:
        return 0
    if isinstance(val_size, bool) or not isinstance(val_size, (int, float)):
        raise ValueError(f"val_size must be a fraction in (0, 1) or a row count, got {val_size!r}")
    if isinstance(val_size, float) and not 0 < val_size < 1:
        raise ValueError(f"val_size as a fraction must be in (0, 1), got {val_size}")
    rows = int(round(val_size * n_rows)) if isinstance(val_size, float) else int(val_size)
    if rows < horizon:
        raise ValueError(
            f"val_size={val_size} holds out {rows} rows, fewer than one horizon ({horizon}); "
            "validation needs at least one full forecast"
        )
    return rows


def with_validation(
    panel: Panel, val_panel: Panel | None, freq: Freq, val_size: float | int | None, horizon: int
) -> tuple[Panel, int, bool]:
    """The rows to use, how many of them train, and whether the rest validate."""
    if val_panel is None:
        held_out = validation_rows(len(panel), val_size, horizon)
        return panel, len(panel) - held_out, held_out > 0
    if val_panel.layout.kind != panel.layout.kind:
        raise ValueError("val_df must have the same layout (wide or long) as df")
    if [str(c) for c in val_panel.columns] != [str(c) for c in panel.columns]:
        raise ValueError(
            f"val_df must hold the same variates as df, in the same order: df has "
            f"{panel.columns}, val_df has {val_panel.columns}"
        )
    expected = next_time(panel.times[-1], freq)
    if val_panel.times[0] != expected:
        raise ValueError(
            f"val_df must continue df: its first timestamp should be {expected} (one step after "
            f"df's last, {panel.times[-1]}), got {val_panel.times[0]}"
        )
    if len(val_panel) >= 3:
        resolve_freq(val_panel.times, freq)
    if len(val_panel) < horizon:
        raise ValueError(f"val_df has {len(val_panel)} rows, fewer than one horizon ({horizon})")
    joined = Panel(
        np.concatenate([panel.values, val_panel.values]),
        np.concatenate([panel.times, val_panel.times]),
        panel.columns,
        panel.layout,
    )
    return joined, len(panel), True


def fit_panel(
    est: Any,
    panel: Panel,
    val_panel: Panel | None = None,
    *,
    callbacks: Sequence = (),
    val_size: float | int | None = None,
) -> Any:
    """Train ``est`` on ``panel`` through :func:`tsfm.pipeline.fit_and_test`; sets its state."""
    from tsfm.pipeline import fit_and_test

    freq = resolve_freq(panel.times, est.freq)
    size = est.val_size if val_size is None else val_size
    rows, n_train, validate = with_validation(panel, val_panel, freq, size, est.horizon)
    has_dates = not is_integer_time(rows.times)
    cfg = build_config(est, freq=freq, has_dates=has_dates, time_col=rows.layout.time_col)
    needed = est.lookback + est.horizon
    if n_train < needed:
        raise ValueError(
            f"{n_train} training rows, but one window needs lookback + horizon = {needed}; "
            "pass a longer frame, or shorten lookback/horizon (or val_size)"
        )
    if not validate:  # nothing to stop early on or to pick a best epoch with
        cfg.callbacks.early_stopping.enabled = False
        cfg.callbacks.checkpoint.enabled = False
    datamodule = PanelDataModule(cfg.data, rows, n_train, validate)
    with quiet(est.verbose), run_directory(est.work_dir) as run_dir:
        result = fit_and_test(
            cfg,
            run_dir,
            datamodule=datamodule,
            extra_callbacks=list(callbacks),
            **trainer_arguments(est.verbose, validate),
        )
    result.module.trainer = None  # the trainer holds the data; the estimator keeps only the model
    est.config_ = cfg
    est.module_ = result.module.eval()
    est.scaler_ = datamodule.scaler
    est.columns_ = list(panel.columns)
    est.n_variates_ = len(est.columns_)
    est.freq_ = freq
    est.layout_ = panel.layout
    est.history_ = rows.tail(est.lookback)
    est.dims_ = datamodule.dims()
    est.fit_metrics_ = {
        k: v for k, v in result.metrics.items() if k.startswith(("val/", "epochs", "fit_"))
    }
    return result
