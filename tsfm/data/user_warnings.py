"""Warnings that point at the user's line, not at the tsfm internals that raised them.

Python attributes a warning to the frame ``stacklevel`` calls up; tsfm warns from various
depths (a frame read inside ``fit``, ``predict`` or ``evaluate``), so a fixed ``stacklevel``
names some internal line. :func:`warn_user` walks up to the first frame outside the tsfm
package, which is the user's call. A command-line run has no user's line (the first frame
outside tsfm is Hydra's runner): inside :func:`at_tsfm_lines` warnings name the tsfm line that
raised them instead.

Python's display of a warning echoes the source line it names under it: for tsfm's, that is
the user's own call (``m = f.evaluate(test)``), which they know, once per warning. tsfm's
warnings are shown without it (``script.py:21: UserWarning: evaluate: ...``): the warning goes
through ``warnings.warn`` as any other (filters, ``-W``, ``"once"`` registries,
``catch_warnings(record=True)`` and ``pytest.warns`` as before), and only the source line
passed to the display hook (``warnings.showwarning``, whichever is installed: Python's,
``logging.captureWarnings``', a notebook's) is empty.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

PACKAGE = str(Path(__file__).resolve().parents[1])
CONTEXTLIB = contextlib.__file__
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


RANKS = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK")  # set by Lightning's DDP, torchrun


def other_rank() -> bool:
    """Whether this process is one of a multi-process (DDP) run's processes other than the
    first, which repeat what the first warns: by torch.distributed once it is set up, before
    that by the environment Lightning's launcher and torchrun give each process. Read without
    importing torch or Lightning (a loaded model's path imports neither for this)."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return distributed.get_rank() != 0
    try:
        if int(os.environ.get("WORLD_SIZE") or 1) <= 1:
            return False
        return any(int(os.environ.get(name) or 0) != 0 for name in RANKS)
    except ValueError:  # not numbers: not a launcher's
        return False


def _internal(filename: str) -> bool:
    """Whether a frame of ``filename`` is tsfm's, or contextlib's running a tsfm context
    manager (a warning from its ``__enter__`` would otherwise name contextlib.py)."""
    return filename.startswith(PACKAGE) or filename == CONTEXTLIB


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first caller outside tsfm, shown
    without echoing that caller's source line (see the module docstring); under DDP by the
    first process only (:func:`other_rank`), not once per process."""
    if other_rank():
        return
    level, frame = 2, sys._getframe(1)  # stacklevel 2 names the caller of warn_user
    while not _AT_TSFM_LINES[0] and frame is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    show = warnings.showwarning

    def without_source(
        message: Warning | str,
        kind: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        show(message, kind, filename, lineno, file, "" if line is None else line)

    warnings.showwarning = without_source  # consulted only if the filters show the warning
    try:
        warnings.warn(message, category, stacklevel=level)
    finally:
        if warnings.showwarning is without_source:
            warnings.showwarning = show


class InSampleWarning(UserWarning):
    """``evaluate`` scores windows whose targets are rows the model was fitted on (training or
    validation rows of the same series): in-sample scores. Silence it where that is meant:
    ``warnings.filterwarnings("ignore", category=tsfm.InSampleWarning)``."""


class CalendarOverlapWarning(UserWarning):
    """A ``mode="independent"`` panel whose series end on different dates: one series' fold
    targets (``cross_validate``, ``backtest``) or validation rows (``val_size``) lie before
    rows of another series that the model trained on, in calendar time; where the series share
    shocks the scores (or the early stopping) are optimistic. ``cutoffs="shared"`` gives the
    folds one calendar cutoff; where the series share no calendar, silence it:
    ``warnings.filterwarnings("ignore", category=tsfm.CalendarOverlapWarning)``."""
