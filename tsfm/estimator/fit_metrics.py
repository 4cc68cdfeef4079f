"""``fit_metrics_``: what a fit records of its training, as the pipeline reports it.

The validation loss of the best epoch (``val/best_loss``; ``best/<monitor>`` instead when
``callbacks.checkpoint.monitor`` is another value), ``epochs`` (a cut-short epoch counted),
the fit's seconds (``fit_...``: training alone, not the imports of a process's first fit),
the precision it trained in (``precision``: ``trainer.precision`` with ``auto`` resolved, which
predict and evaluate use, on any machine: :func:`~tsfm.training.runtime.inference`),
how training ended: ``stopped`` (one of :data:`~tsfm.training.stopping.STOP_REASONS`) and
``last_epoch_complete``, and the rows of the frame it trained on (``train_rows``) and
validated on (``val_rows``, 0 without validation; a panel's: summed over its series), which
cross-validation's and backtests' fold tables report, and the learning rate, schedule and
step budget the fit ran (``lr``, ``scheduler``, ``lr_halving_epochs``, ``max_epochs``,
``step_budget``, ``steps``, ``schedule_stretch``:
:func:`~tsfm.estimator.small_data.schedule_record`). With
validation rows also ``val/snaive_loss``, ``val/naive_loss`` (the baselines' validation loss
on the same windows), ``val/last_loss`` and ``val/improving_epochs``
(:mod:`tsfm.training.validation_record`), and one warning per note they give
(:mod:`tsfm.training.validation_notes`: the model is worse than a baseline; its validation
loss was still falling at ``max_epochs``). When the time limit ended the training, one line
(``verbose >= 1``) says so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tsfm.data.extreme_notes import scaler_of, warn_extreme_values
from tsfm.data.user_warnings import warn_user
from tsfm.estimator.small_data import schedule_record
from tsfm.training.preflight import fits_type
from tsfm.training.runtime import recorded_precision
from tsfm.training.stopping import STOP_REASONS, plural, shown_time, time_limit
from tsfm.training.validation_notes import validation_notes

FIT_METRICS = (  # key prefixes
    "val/", "best/", "epochs", "fit_", "stopped", "last_epoch_complete", "extreme_values",
    "precision",
)  # fmt: skip
RECORD_KEYS = {  # an extreme value's record (tsfm/data/extreme_values.py): its fields' types
    "column": (str,), "series": (str, int, type(None)), "time": (str,), "value": (float,),
    "median": (float,), "robust_sd": (float,), "robust_sds": (float,), "std_ratio": (float,),
}  # fmt: skip


_UNSAID = [False]  # inside unsaid_validation: a tuning's trials
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
    stretch: float | None = None,
) -> dict[str, Any]:
    """``fit_metrics_`` of a fit's metrics; one line (``verbose >= 1``, ``shown``) when the
    time limit ended the training. ``helper``: the ``fit_metrics_`` and ``seconds`` of the
    conformal calibration helper that shared the fit's ``max_time`` (half of it at most; the
    final training got what it left): the line says what it used, or that the limit ended the
    helper's training only. ``rows``: the rows trained and validated on; ``trainer``: the
    fit's, for the learning rate, schedule and step budget it ran, ``stretch`` the small-data
    defaults' (:func:`~tsfm.estimator.small_data.schedule_record`). ``lookback``: the
    look-back the fit used (``lookback=None``: :mod:`tsfm.estimator.lookback`'s choice)."""
    record = fit_figures(metrics)
    record["lookback"] = int(est.lookback_)  # the user's, or the data's (estimator/lookback.py)
    if rows is not None:
        record["train_rows"], record["val_rows"] = (int(n) for n in rows)
    if trainer is not None:
        record.update(schedule_record(cfg, trainer, stretch))
    if shown and not _UNSAID[0]:
        warn_validation(est, cfg, record)
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


def warn_validation(est: Any, cfg: Any, record: dict[str, Any]) -> None:
    """One warning per note of the fit's validation
    (:func:`~tsfm.training.validation_notes.validation_notes`: a model worse than the
    seasonal-naive or naive forecast on the validation windows, a validation loss still
    improving at ``max_epochs``), naming the Forecaster's parameters."""
    from tsfm.estimator.params import MANAGED, param_name

    def setting(key: str) -> str:
        return MANAGED.get(key) or param_name(est.model, key)

    for note in validation_notes(record, cfg, setting).values():
        warn_user(f"fit: {note}")


def unsaid_validation(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit``, whose fits warn nothing of their validation (a tuning's trials: the model it
    keeps is warned about once, :func:`warn_validation`)."""

    def quiet(*args: Any, **kwargs: Any) -> Any:
        before, _UNSAID[0] = _UNSAID[0], True
        try:
            return fit(*args, **kwargs)
        finally:
            _UNSAID[0] = before

    return quiet


def epochs(record: dict[str, Any]) -> str:
    """How many epochs a training cut short by its time limit finished."""
    complete = record.get("last_epoch_complete", True)
    done = record.get("epochs", 0) - (not complete)
    cut = "" if complete else f" (epoch {done + 1} cut short)"
    return f"{plural(done, 'finished epoch')}{cut}"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def fit_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The entries of a run's metrics a fit keeps: :data:`FIT_METRICS`' keys, numbers (and how
    training stopped); not the notes a command-line run adds (``val/warnings/<key>``)."""
    return {
        k: v for k, v in metrics.items() if k.startswith(FIT_METRICS) and fit_metric_value(k, v)
    }


def fit_metric_value(key: str, value: Any) -> bool:
    """Whether ``fit_metrics_`` may hold ``value`` under ``key`` (forecaster.json is checked
    with it): a number, how training stopped, or the schedule's name."""
    if key == "stopped":
        return value in STOP_REASONS
    if key == "scheduler":  # the learning-rate schedule's name
        return isinstance(value, str)
    if key == "last_epoch_complete":
        return isinstance(value, bool)
    if key == "extreme_values":  # the training rows' (tsfm/data/extreme_values.py)
        return isinstance(value, list) and all(extreme_record(v) for v in value)
    if key == "precision":  # the precision the fit ran in ('auto' resolved)
        return recorded_precision(value)
    return value is None or fits_type(value, float)


def extreme_record(value: Any) -> bool:
    """Whether ``value`` is an extreme value's record (:data:`RECORD_KEYS`; JSON's numbers:
    a float may have been written as an integer)."""
    if not isinstance(value, dict) or set(value) != set(RECORD_KEYS):
        return False
    return all(
        isinstance(value[k], kinds)
        and not isinstance(value[k], bool)
        or float in kinds
        and isinstance(value[k], int)
        and not isinstance(value[k], bool)
        for k, kinds in RECORD_KEYS.items()
    )


def warn_extremes(
    est: Any, records: list[dict[str, Any]] | None, data: Any, shown: bool = True
) -> None:
    """One warning of the values far outside the rest of their columns in a fit's training
    rows (:mod:`tsfm.data.extreme_values`; ``data``: the fit's data settings, whose scaler
    it speaks of), unless ``shown`` is False (a calibration helper's fit) or inside
    :func:`unsaid_validation` (a tuning's trials)."""
    if records and shown and not _UNSAID[0]:
        warn_extreme_values(records, 'missing="mask"', "fit_metrics_", scaler_of(data))
