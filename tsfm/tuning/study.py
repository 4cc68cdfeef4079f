"""Open or resume an Optuna study and run trials until it holds ``n_trials`` finished ones.

Storage: any Optuna RDB URL. SQLite is the default, so a killed study resumes with every
finished trial kept; several processes (on several machines, with PostgreSQL) can work on one
study at the same time. With a heartbeat, the trial of a worker that died is marked failed
and its parameters are tried again.
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import optuna
from optuna.samplers import BaseSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

from tsfm.errors import InputError
from tsfm.tuning.pruning import PRUNE_MONITOR, check_pruned_on, make_pruner
from tsfm.tuning.space import suggest
from tsfm.tuning.storage import in_memory, make_storage

log = logging.getLogger(__name__)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
CAUGHT = (ValueError, RuntimeError, MemoryError)  # a failed trial; the study goes on


class TrialSeededTPE(BaseSampler):
    """TPE whose random state for trial ``k`` is ``seed + k``.

    One worker then repeats a study exactly, and workers sharing a study draw different
    points (trial numbers are unique), which one shared seed would not give.
    """

    def __init__(self, seed: int, n_startup_trials: int = 5):
        self.seed, self.n_startup_trials = seed, n_startup_trials
        self._tpe = self._fresh(0)

    def _fresh(self, number: int) -> TPESampler:
        return TPESampler(seed=(self.seed + number) % 2**32, n_startup_trials=self.n_startup_trials)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._tpe = self._fresh(trial.number)
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values):
        self._tpe.after_trial(study, trial, state, values)


def open_study(
    tune: Any,
    storage_url: str | None,
    seed: int,
    problem: Mapping[str, Any] | None = None,
    rename: str = "tune.study_name=...",
    pruned_on: str | None = None,
) -> optuna.Study:
    """Create the study, or load it if it exists (resume, or join other workers); ``problem``
    (what its trials train on: data, model, lengths) is recorded with a new study and must
    match an existing one's, whose trials would not rank another problem's. ``pruned_on``
    (:func:`~tsfm.tuning.pruning.pruning_monitor`) is recorded too, and must match where a
    pruner compares the trials' epoch values (:func:`~tsfm.tuning.pruning.check_pruned_on`).
    ``rename``: the caller's settings that name a new study (its refusals offer them)."""
    study = optuna.create_study(
        study_name=tune.study_name,
        storage=make_storage(storage_url, tune.heartbeat_seconds),
        sampler=TrialSeededTPE(seed, tune.startup_trials),
        pruner=make_pruner(tune.pruner, tune.pruner_startup_trials, tune.pruner_warmup_epochs),
        direction="minimize",
        load_if_exists=True,
    )
    if problem is not None:
        from tsfm.tuning.problem import check_problem

        check_problem(study, dict(problem), storage_url or "memory", rename)
    if pruned_on is not None:  # recorded before any trial: a worker joining later reads it
        check_pruned_on(study, pruned_on, tune.pruner, storage_url or "memory", rename)
    return study


def check_n_trials(value: Any, name: str) -> None:
    """``n_trials`` must be a whole number of at least one trial."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(
            f"{name} must be a whole number of trials, at least 1, got {value!r}: it counts "
            f"the finished trials the study should hold (e.g. {name}=20)"
        )


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class OneLineFailures(logging.Filter):
    """Optuna's warning for a failed trial without its traceback (the reason, the trial's
    ``error`` attribute, is in the line), and without the ``failed with value None`` line
    that follows it; ``interrupts_only``: only the traceback of a trial stopped by Ctrl-C
    (the caller says it was interrupted)."""

    def __init__(self, interrupts_only: bool = False):
        super().__init__()
        self.interrupts_only = interrupts_only

    def filter(self, record: logging.LogRecord) -> bool:
        if self.interrupts_only:
            if record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt):
                record.exc_info = record.exc_text = None
            return True
        message = record.getMessage()
        if " failed with parameters: " in message:
            record.exc_info = record.exc_text = None
        return re.fullmatch(r"Trial \d+ failed with value None\.", message) is None


TrainTrial = Callable[[optuna.Trial, dict[str, Any], list], float]


def run_trials(
    study: optuna.Study,
    space: Mapping[str, Any],
    train_trial: TrainTrial,
    n_trials: int,
    timeout: float | None = None,
    worker_trials: int | None = None,
    tracebacks: bool = True,
    recheck: Callable[[], None] | None = None,
    monitor: str = PRUNE_MONITOR,
) -> optuna.Study:
    """Run trials until the study holds ``n_trials`` finished (complete or pruned) ones.

    ``train_trial(trial, values, callbacks)`` trains with the drawn ``values`` (config key ->
    value), passing ``callbacks`` (the pruning callback) to the Trainer, and returns the
    value to minimise. Trials that fail with a ValueError or RuntimeError (an impossible
    combination, a diverged loss) or a MemoryError (a model too large) are recorded as failed
    and the study goes on; the trial keeps the message as its user attribute ``error``.
    A failed trial does not count: another is run in its place, until this call has failed as
    many trials as the study lacked finished ones when it started (then it stops, and says
    how many it holds; a rerun adds the rest). ``timeout`` (seconds) and ``worker_trials``
    (trials started, failed ones included) stop this worker earlier.
    Without ``tracebacks``, Optuna logs such a trial in one line, its reason.
    ``recheck`` (:func:`~tsfm.tuning.problem.recorded_check`) raises where the stored study
    no longer records this worker's problem: run before the first trial and before and after
    each, it stops this worker (a trial under way, complete or pruned, is failed, not
    ranked) with its refusal. ``monitor``: the epoch value trials are pruned on
    (:func:`~tsfm.tuning.pruning.pruning_monitor`).
    """
    from optuna_integration import PyTorchLightningPruningCallback

    refused: list[InputError] = []  # the recheck's refusal: it stops this worker

    def rechecked(trial: optuna.Trial) -> None:
        try:
            if recheck is not None:
                recheck()
        except InputError as err:
            refused.append(err)
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:2000])
            study.stop()
            raise

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker_name())
        rechecked(trial)
        values = suggest(trial, space)
        pruning = PyTorchLightningPruningCallback(trial, monitor)
        try:
            value = train_trial(trial, values, [pruning])
        except CAUGHT as err:  # kept with the failed trial: why it failed
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:2000])
            raise
        except optuna.TrialPruned:  # a pruned trial counts and feeds the pruner: recheck it
            rechecked(trial)  # its refusal (a ValueError) fails the trial instead
            raise
        rechecked(trial)  # another worker's record written during the trial: not ranked
        return value

    with warnings.catch_warnings():  # experimental in Optuna; a no-op without a heartbeat
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial, also when none is due
    if recheck is not None:
        recheck()  # before any trial
    held = finished_trials(study)
    missing = n_trials - held
    if missing <= 0:
        log.warning(
            "study '%s' already holds %d finished trials (%d asked): no trial to run",
            study.study_name, held, n_trials,
        )  # fmt: skip
        return study
    stop = StopRule(n_trials, max_failed=missing)
    one_line = OneLineFailures(interrupts_only=tracebacks)
    optimize_log = logging.getLogger("optuna.study._optimize")  # where Optuna logs trials
    optimize_log.addFilter(one_line)
    try:
        study.optimize(
            objective,
            n_trials=worker_trials,
            timeout=timeout,
            callbacks=[stop],
            catch=CAUGHT,
            gc_after_trial=True,
        )
    finally:
        optimize_log.removeFilter(one_line)
    if refused:
        raise refused[0]
    if stop.failed >= stop.max_failed and finished_trials(study) < n_trials:
        log.warning(
            "study '%s' holds %d finished trials of the %d asked: this run stopped after %d "
            "failed trials (as many as the finished trials it set out to add); fix their "
            "cause (each failed trial's reason is logged above, and kept in the study)%s",
            study.study_name, finished_trials(study), n_trials, stop.failed,
            "" if in_memory(study) else ", or run the same command again to add the rest",
        )  # fmt: skip
    return study


class StopRule:
    """Stops ``study.optimize`` once the study holds ``n_trials`` finished trials (also those
    of other workers) or this call has failed ``max_failed`` trials."""

    def __init__(self, n_trials: int, max_failed: int) -> None:
        self.n_trials, self.max_failed, self.failed = n_trials, max_failed, 0

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.failed += trial.state == TrialState.FAIL
        if self.failed >= self.max_failed or finished_trials(study) >= self.n_trials:
            study.stop()


class NoBestTrial(RuntimeError):
    """No trial of the study completed with a value from the search space (:func:`no_best`
    says why)."""


def no_best(study: optuna.Study, name: str, n_trials: str = "n_trials") -> str:
    """Why ``study`` has no best trial of the search space asked for: its failed trials'
    reasons (the last few); ``n_trials``: the caller's name of that setting."""
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    reasons = [f"trial {t.number}: {t.user_attrs.get('error', 'no reason kept')}" for t in failed]
    listed = "; ".join(reason.splitlines()[0] for reason in reasons[-3:])
    return (
        f"no trial of study '{name}' completed with a value from this search space"
        + (f" ({len(failed)} failed; {listed})" if failed else "")
        + f"; fix the cause (a space too large for the data or memory, say), or raise {n_trials}"
    )


def objective_value(metrics: Mapping[str, Any], metric: str, trainer: Any = None) -> float:
    """The value to minimise from a run's metrics (last validation loss as a fall-back); a
    NaN or infinite value fails the trial instead of ranking it."""
    value = None
    if metric in metrics:
        value = float(metrics[metric])
    elif metric == "val/best_loss" and trainer is not None:
        last = trainer.callback_metrics.get(PRUNE_MONITOR)
        value = None if last is None else float(last)
    if value is not None:
        if not math.isfinite(value):
            raise InputError(
                f"the trial's {metric} is {value}: a diverged trial is failed, never ranked"
            )
        return value
    raise InputError(
        f"the trial produced no '{metric}' (metrics: {sorted(metrics)}); tuning needs a "
        "validation split and callbacks.checkpoint.enabled=true, or set tune.metric"
    )
