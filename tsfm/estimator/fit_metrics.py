"""``fit_metrics_``: what a fit records of its training, as the pipeline reports it.

The validation loss of the best epoch (``val/best_loss``), ``epochs`` (a cut-short epoch
counted), the fit's seconds (``fit_...``), and how training ended: ``stopped`` (one of
:data:`~tsfm.training.stopping.STOP_REASONS`) and ``last_epoch_complete``. When the time
limit ended the training, one line (``verbose >= 1``) says so.
"""

from __future__ import annotations

import sys
from typing import Any

from tsfm.training.preflight import fits_type
from tsfm.training.stopping import STOP_REASONS, plural, shown_time

FIT_METRICS = ("val/", "epochs", "fit_", "stopped", "last_epoch_complete")  # key prefixes


def fit_record(est: Any, cfg: Any, metrics: dict[str, Any]) -> dict[str, Any]:
    """``fit_metrics_`` of a fit's metrics; one line (``verbose >= 1``) when the time limit
    ended the training."""
    record = {k: v for k, v in metrics.items() if k.startswith(FIT_METRICS)}
    if record.get("stopped") == "max_time" and int(est.verbose) >= 1:
        complete = record.get("last_epoch_complete", True)
        done = record.get("epochs", 0) - (not complete)
        cut = "" if complete else f" (epoch {done + 1} cut short)"
        finished = plural(done, "finished epoch")
        model = "the best epoch's" if cfg.callbacks.checkpoint.enabled else "the last step's"
        print(
            f"training stopped at the time limit (max_time={shown_time(cfg.trainer.max_time)}) "
            f"after {finished}{cut}; the model is {model}",
            file=sys.stderr,
            flush=True,
        )
    return record


def fit_metric_value(key: str, value: Any) -> bool:
    """Whether ``fit_metrics_`` may hold ``value`` under ``key`` (forecaster.json is checked
    with it): a number, or how training stopped."""
    if key == "stopped":
        return value in STOP_REASONS
    if key == "last_epoch_complete":
        return isinstance(value, bool)
    return value is None or fits_type(value, float)
