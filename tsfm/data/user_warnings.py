"""Warnings that point at the user's line, not at the tsfm internals that raised them.

Python attributes a warning to the frame ``stacklevel`` calls up; tsfm warns from various
depths (a frame read inside ``fit``, ``predict`` or ``evaluate``), so a fixed ``stacklevel``
names some internal line. :func:`warn_user` walks up to the first frame outside the tsfm
package, which is the user's call. A command-line run has no user's line (the first frame
outside tsfm is Hydra's runner): inside :func:`at_tsfm_lines` warnings name the tsfm line that
raised them instead.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

PACKAGE = str(Path(__file__).resolve().parents[1])
_AT_TSFM_LINES = [False]  # set by at_tsfm_lines (a command-line run)


@contextlib.contextmanager
def at_tsfm_lines() -> Iterator[None]:
    """Attribute :func:`warn_user`'s warnings to the tsfm line that raised them (for
    ``python -m tsfm.run``, where the first caller outside tsfm is Hydra's runner)."""
    before, _AT_TSFM_LINES[0] = _AT_TSFM_LINES[0], True
    try:
        yield
    finally:
        _AT_TSFM_LINES[0] = before


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first caller outside tsfm."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2 names the caller of warn_user
    while (
        not _AT_TSFM_LINES[0] and frame is not None and frame.f_code.co_filename.startswith(PACKAGE)
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class InSampleWarning(UserWarning):
    """``evaluate`` scores windows whose targets are rows the model was fitted on (training or
    validation rows of the same series): in-sample scores. Silence it where that is meant:
    ``warnings.filterwarnings("ignore", category=tsfm.InSampleWarning)``."""
