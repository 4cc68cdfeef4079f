"""A model's one-off messages to the person watching a fit (TimesCLIP's "encoding N images
first, about M minutes"): :func:`notice` says them through the sink the fit's display set
(:class:`~tsfm.training.progress.Notices`: the Forecaster's ``verbose=1`` where a person
watches, or ``verbose=2``), and nothing where none is set (``verbose=0``, logs, tests). Models
log such lines too (``logging``: a command-line run's console and run.log).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("tsfm_notices", default=None)


def notice(text: str) -> None:
    """Say ``text`` to the person watching this fit, where the fit's display lets models."""
    sink = _SINK.get()
    if sink is not None:
        sink(text)


def set_sink(sink: Callable[[str], None] | None) -> None:
    """Send :func:`notice` calls to ``sink`` (None: nowhere) until set again (for hooks that
    open and close a fit, which a ``with`` block cannot span)."""
    _SINK.set(sink)
