"""What Lightning prints: its advertisements and loader-worker advice are never shown; with
:func:`quiet`, neither are its info lines and advice warnings (the Forecaster's and tuning's
default)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")

# Batches are gathered by index arithmetic in the main process; loader workers do not help.
warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropAdverts())


def log_through_root() -> None:
    """Send Lightning's records to the root logger's handlers (Hydra's console and the run's
    log file) where it has some: imported before logging was configured, Lightning gave its
    loggers a stderr handler of their own and stopped them propagating."""
    if not logging.getLogger().handlers:
        return
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if type(h) is logging.StreamHandler]:
            logger.removeHandler(handler)
        logger.propagate = True


@contextlib.contextmanager
def warnings_through_logging() -> Iterator[None]:
    """Show warnings as log records of ``py.warnings`` (``path:line: Category: message``), so
    that a command-line run's run.log holds them as the console does; tsfm's own name the tsfm
    line that raised them (:func:`~tsfm.data.user_warnings.at_tsfm_lines`), not Hydra's."""
    from tsfm.data.user_warnings import at_tsfm_lines

    logger = logging.getLogger("py.warnings")

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        logger.warning("%s:%s: %s: %s", _short(filename), lineno, category.__name__, message)

    before = warnings.showwarning
    warnings.showwarning = show
    try:
        with at_tsfm_lines():
            yield
    finally:
        warnings.showwarning = before


def _short(filename: str) -> str:
    """``filename`` from the repository root when it is tsfm's (``tsfm/data/...``)."""
    from tsfm.data.user_warnings import PACKAGE

    root = str(Path(PACKAGE).parent)
    return filename[len(root) + 1 :] if filename.startswith(PACKAGE) else filename


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Silence Lightning's info lines ("GPU available: ...") and its advice warnings."""
    if verbose:
        yield
        return
    from lightning.fabric.utilities.warnings import PossibleUserWarning

    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PossibleUserWarning)
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*smaller than the logging interval.*")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
