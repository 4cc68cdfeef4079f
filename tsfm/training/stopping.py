"""How training ended when it did not run its course: Ctrl-C, the time limit, early stopping.

Lightning 2.x catches a KeyboardInterrupt inside ``trainer.fit``, shuts down gracefully
(checkpoints already written stay) and calls ``sys.exit(1)``: a Python caller would get a
``SystemExit`` its ``except KeyboardInterrupt`` never sees. :func:`interruptible` turns
that exit back into :class:`FitInterrupted`, a KeyboardInterrupt that says how many epochs
finished; a SIGTERM's exit gets status 143 (:mod:`tsfm.training.termination`), any other
``SystemExit`` passes unchanged. :func:`how_training_stopped` records
why a fit ended (``stopped``) and whether its last epoch ran through every batch
(``last_epoch_complete``: a time limit stops in the middle of one). ``trainer.max_time``
takes seconds (a number), ``"DD:HH:MM:SS"`` or Lightning's mapping (``{minutes: 30}``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tsfm.errors import InputError

if TYPE_CHECKING:  # Lightning is imported where a Trainer runs; loading a Forecaster reads
    import lightning as L  # STOP_REASONS and the time limits only

STOP_REASONS = ("max_epochs", "max_steps", "max_time", "early_stopping", "callback")
CLOCK = re.compile(r"(\d+):(\d\d):(\d\d):(\d\d)")  # Lightning's DD:HH:MM:SS
TIME_UNITS = {"weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds"}
INTERRUPT_LINE = "Detected KeyboardInterrupt"  # Lightning's, replaced by FitInterrupted's


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during ``trainer.fit``, after ``epochs`` finished epochs."""

    def __init__(self, epochs: int):
        self.epochs = epochs
        super().__init__(f"training interrupted after {plural(epochs, 'finished epoch')}")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def finished_epochs(trainer: L.Trainer) -> int:
    """Epochs that ran to their end (those of a resumed run included)."""
    return int(trainer.fit_loop.epoch_progress.current.completed)


class _DropInterruptLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return INTERRUPT_LINE not in record.getMessage()


@contextlib.contextmanager
def interruptible(trainer: L.Trainer) -> Iterator[None]:
    """Around ``trainer.fit``: Ctrl-C raises :class:`FitInterrupted` instead of Lightning's
    ``sys.exit(1)`` (whose own line it replaces); other exits and errors pass unchanged."""
    lightning_log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    quiet = _DropInterruptLine()
    lightning_log.addFilter(quiet)
    try:
        yield
    except FitInterrupted:
        raise
    except KeyboardInterrupt as err:  # a Lightning that lets it through
        raise FitInterrupted(finished_epochs(trainer)) from err
    except SystemExit as err:
        if not (trainer.interrupted and isinstance(err.__context__, KeyboardInterrupt)):
            from tsfm.training.termination import exit_status

            status = exit_status(err)  # a SIGTERM: 143, not Lightning's 0
            if status is err:
                raise
            raise status from err
        raise FitInterrupted(finished_epochs(trainer)) from err.__context__
    finally:
        lightning_log.removeFilter(quiet)


def how_training_stopped(trainer: L.Trainer) -> dict[str, Any]:
    """``stopped``: one of :data:`STOP_REASONS` (``callback``: another callback asked, e.g.
    a tuning trial's pruning); ``last_epoch_complete``: its last epoch saw every batch."""
    batches = trainer.fit_loop.epoch_loop.batch_progress.current.completed
    expected = trainer.num_training_batches
    complete = not (isinstance(expected, (int, float)) and math.isfinite(expected))
    complete = complete or batches >= expected
    from lightning.pytorch.callbacks import Timer

    max_epochs, max_steps = trainer.max_epochs, trainer.max_steps
    timers = [c for c in trainer.callbacks if isinstance(c, Timer)]
    if _early_stopped(trainer.early_stopping_callback):
        reason = "early_stopping"
    elif max_epochs not in (None, -1) and trainer.current_epoch >= max_epochs and complete:
        reason = "max_epochs"
    elif max_steps not in (None, -1) and trainer.global_step >= max_steps:
        reason = "max_steps"
    elif any(t.time_remaining() is not None and t.time_remaining() <= 0 for t in timers):
        reason = "max_time"
    else:
        reason = "callback"
    return {"stopped": reason, "last_epoch_complete": bool(complete)}


def _early_stopped(callback: Any) -> bool:
    if callback is None:
        return False
    reason = getattr(callback, "stopping_reason", None)  # Lightning >= 2.5
    if reason is not None:
        return reason.name != "NOT_STOPPED"
    return callback.stopped_epoch > 0


def check_max_time(value: Any, describe: Callable[[str], str] = str) -> None:
    """``trainer.max_time``: None, a positive number of seconds, ``"DD:HH:MM:SS"`` or a
    mapping of ``datetime.timedelta``'s units (Lightning's forms)."""
    if value is None:
        return
    try:
        seconds = time_limit(value).total_seconds()
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or not seconds > 0:
        raise InputError(
            f"{describe('trainer.max_time')}={value!r} is not a time limit: give a positive "
            "number of seconds (e.g. 600), a 'DD:HH:MM:SS' string ('00:01:30:00' is 90 "
            "minutes), or in Python a datetime.timedelta"
        )


def time_limit(value: Any) -> timedelta:
    """``trainer.max_time`` as a ``timedelta`` (ValueError or TypeError for another form)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not a duration")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InputError("not a finite number")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = CLOCK.fullmatch(value.strip())
        if not match:
            raise InputError("not DD:HH:MM:SS")
        days, hours, minutes, seconds = map(int, match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if hasattr(value, "items") and set(value) <= TIME_UNITS:
        return timedelta(**dict(value.items()))
    raise TypeError(f"{type(value).__name__} is not a duration")


def shown_time(value: Any) -> str:
    """A time limit as people read it (``1:30:00``, ``45 s``)."""
    seconds = time_limit(value).total_seconds()
    if seconds < 60:
        return f"{seconds:g} s"
    return str(timedelta(seconds=round(seconds)))
