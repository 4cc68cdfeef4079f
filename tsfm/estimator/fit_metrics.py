"""``fit_metrics_``: what a fit records of its training, as the pipeline reports it.

The validation loss of the best epoch (``val/best_loss``; ``best/<monitor>`` instead when
``callbacks.checkpoint.monitor`` is another value), ``epochs`` (a cut-short epoch counted),
the fit's seconds (``fit_...``), how training ended: ``stopped`` (one of
:data:`~tsfm.training.stopping.STOP_REASONS`) and ``last_epoch_complete``, and the rows of
the frame it trained on (``train_rows``) and validated on (``val_rows``, 0 without
validation; a panel's: summed over its series), which cross-validation's and backtests' fold
tables report, and the learning rate, schedule and step budget the fit ran (``lr``,
``scheduler``, ``lr_halving_epochs``, ``max_epochs``, ``step_budget``, ``steps``:
:func:`~tsfm.estimator.small_data.schedule_record`). When the time limit ended the training,
one line (``verbose >= 1``) says so.
"""

from __future__ import annotations

import sys
from typing import Any

from tsfm.estimator.small_data import schedule_record
from tsfm.training.preflight import fits_type
from tsfm.training.stopping import STOP_REASONS, plural, shown_time, time_limit

FIT_METRICS = ("val/", "best/", "epochs", "fit_", "stopped", "last_epoch_complete")  # key prefixes


MIN_SECONDS = 1.0  # the least a final training gets of a time limit a helper used up


def time_budget(cfg: Any) -> float | None:
    """The fit's ``trainer.max_time`` in seconds (None without a limit)."""
    value = cfg.trainer.get("max_time")
    return None if value is None else time_limit(value).total_seconds()


def fit_record(
    est: Any,
    cfg: Any,
    metrics: dict[str, Any],
    helper: dict[str, Any] | None = None,
    shown: bool = True,
    rows: tuple[int, int] | None = None,
    trainer: Any = None,
) -> dict[str, Any]:
    """``fit_metrics_`` of a fit's metrics; one line (``verbose >= 1``, ``shown``) when the
    time limit ended the training. ``helper``: the ``fit_metrics_`` and ``seconds`` of the
    conformal calibration helper that shared the fit's ``max_time`` (half of it at most; the
    final training got what it left): the line says what it used, or that the limit ended the
    helper's training only. ``rows``: the rows trained and validated on; ``trainer``: the
    fit's, for the learning rate, schedule and step budget it ran
    (:func:`~tsfm.estimator.small_data.schedule_record`)."""
    record = {k: v for k, v in metrics.items() if k.startswith(FIT_METRICS)}
    if rows is not None:
        record["train_rows"], record["val_rows"] = (int(n) for n in rows)
    if trainer is not None:
        record.update(schedule_record(cfg, trainer))
    if not shown or int(est.verbose) < 1:
        return record
    limit = f"max_time={shown_time(cfg.trainer.get('max_time') or 0)}"
    if record.get("stopped") == "max_time":
        if helper is not None:
            limit += f", of which the conformal calibration helper used {helper['seconds']:.1f} s"
        model = "the best epoch's" if cfg.callbacks.checkpoint.enabled else "the last step's"
        say(f"training stopped at the time limit ({limit}) after {epochs(record)}; the model "
            f"is {model}")  # fmt: skip
    elif helper is not None and helper.get("stopped") == "max_time":
        say(f"the conformal calibration helper stopped at its share of the time limit (half "
            f"of {limit}) after {epochs(helper)}; the final training finished within the "
            "rest")  # fmt: skip
    return record


def epochs(record: dict[str, Any]) -> str:
    """How many epochs a training cut short by its time limit finished."""
    complete = record.get("last_epoch_complete", True)
    done = record.get("epochs", 0) - (not complete)
    cut = "" if complete else f" (epoch {done + 1} cut short)"
    return f"{plural(done, 'finished epoch')}{cut}"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def fit_metric_value(key: str, value: Any) -> bool:
    """Whether ``fit_metrics_`` may hold ``value`` under ``key`` (forecaster.json is checked
    with it): a number, how training stopped, or the schedule's name."""
    if key == "stopped":
        return value in STOP_REASONS
    if key == "scheduler":  # the learning-rate schedule's name
        return isinstance(value, str)
    if key == "last_epoch_complete":
        return isinstance(value, bool)
    return value is None or fits_type(value, float)
