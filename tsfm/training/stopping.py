"""Ctrl-C during training, as a Python caller and the command line expect it.

Lightning 2.x catches a KeyboardInterrupt inside ``trainer.fit``, shuts down gracefully
(checkpoints already written stay) and calls ``sys.exit(1)``: a Python caller would get a
``SystemExit`` its ``except KeyboardInterrupt`` never sees. :func:`interruptible` turns
that exit back into :class:`FitInterrupted`, a KeyboardInterrupt that says how many epochs
finished; any other ``SystemExit`` passes unchanged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import lightning as L

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
            raise
        raise FitInterrupted(finished_epochs(trainer)) from err.__context__
    finally:
        lightning_log.removeFilter(quiet)
