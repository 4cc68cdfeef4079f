"""How the command-line front doors end on bad input: the message, no traceback, status 2.

An :class:`~tsfm.errors.InputError` (or a missing or existing file) already names the
problem and its fix; a traceback above it only buries the message. Any other exception is a
fault in tsfm or a library and keeps Hydra's report. In a multirun the exception is kept
for Hydra, which records the failed job and stops the sweep after its batch, as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from tsfm.errors import InputError

INPUT_ERRORS = (InputError, FileNotFoundError, FileExistsError)
INPUT_ERROR_STATUS = 2  # the usual status for a command given something it cannot use


@contextlib.contextmanager
def input_errors_end_the_command(log: logging.Logger) -> Iterator[None]:
    """Inside a Hydra job: log an input error's message and exit with status 2."""
    try:
        yield
    except INPUT_ERRORS as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        log.error("%s: %s", type(error).__name__, error)
        raise SystemExit(INPUT_ERROR_STATUS) from None
