"""A model's one-off messages to the person watching a fit (TimesCLIP's "encoding N images
first, about M minutes"): :func:`notice` says them through the sink the fit's display set
(:class:`~tsfm.training.progress.Notices`: the Forecaster's ``verbose=1`` where a person
watches, or ``verbose=2``; ``python -m tsfm.run``'s :class:`~tsfm.training.progress.NoticeLog`:
the console and run.log), and nothing where none is set (``verbose=0``, logs, tests). Models
log such a line where no sink said it (:func:`notice` returns whether one did).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("tsfm_notices", default=None)


def notice(text: str) -> bool:
    """Say ``text`` to the person watching this fit, where the fit's display lets models;
    returns whether it was said."""
    sink = _SINK.get()
    if sink is not None:
        sink(text)
    return sink is not None


def set_sink(sink: Callable[[str], None] | None) -> None:
    """Send :func:`notice` calls to ``sink`` (None: nowhere) until set again (for hooks that
    open and close a fit, which a ``with`` block cannot span)."""
    _SINK.set(sink)
