"""The error tsfm raises for a problem with what the user gave it.

:class:`InputError` marks a problem with the user's data, settings, arguments or saved files,
with a message naming the problem and its fix. It is a ``ValueError``, so code that catches
``ValueError`` keeps working. The command-line front doors (``python -m tsfm.run`` and
``python -m tsfm.tune``) print its message without a traceback and exit with status 2; any
other exception is a fault in tsfm or a library, and keeps its traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Something the user gave cannot be used; the message says what and how to fix it."""


class ArchitectureError(InputError):
    """A setting the model's architecture cannot take whatever its pretrained source holds
    (e.g. more blocks than the backbone has, with or without its weights): a tuning study
    whose run config raises it, and which no searched value mends, is refused before its
    first trial (:mod:`tsfm.tuning.checks`) instead of failing every trial."""


class MissingFileError(InputError, FileNotFoundError):
    """A file or folder the user named (a backbone, its weights, an architecture config) is
    not there, or not of the kind asked for. Both an :class:`InputError` and a
    ``FileNotFoundError``, so code catching either keeps working."""
