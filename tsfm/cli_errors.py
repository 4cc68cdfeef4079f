"""How the command-line front doors end on bad input: the message, no traceback, status 2.

An :class:`~tsfm.errors.InputError` (or a missing or existing file) already names the
problem and its fix; a traceback above it only buries the message. Any other exception is a
fault in tsfm or a library and keeps Hydra's report. In a multirun the exception is kept
for Hydra, which records the failed job and stops the sweep after its batch, as before.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from tsfm.errors import InputError

INPUT_ERRORS = (InputError, FileNotFoundError, FileExistsError)
INPUT_ERROR_STATUS = 2  # the usual status for a command given something it cannot use


@contextlib.contextmanager
def input_errors_end_the_command(log: logging.Logger) -> Iterator[None]:
    """Inside a Hydra job: an input error's message on stderr and in the job's log file
    (unless :func:`keep_out_of_log_files` marked it), and exit status 2."""
    try:
        yield
    except INPUT_ERRORS as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        message = f"{type(error).__name__}: {error}"
        print(message, file=sys.stderr, flush=True)
        if getattr(error, "tsfm_into_log_files", True):
            into_log_files(log, message)
        raise SystemExit(INPUT_ERROR_STATUS) from None


def keep_out_of_log_files(error: BaseException) -> None:
    """Have :func:`input_errors_end_the_command` print ``error`` on stderr only: a run
    refused in another run's directory leaves that run's ``run.log`` as it was."""
    error.tsfm_into_log_files = False


def into_log_files(log: logging.Logger, message: str) -> None:
    """``message`` into the job's log files (``run.log``, ``tune.log``) only: the console
    line went to stderr, where a traceback went before."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
