"""The parameters of a Forecaster that ``tune``'s search set, rather than the user.

A width a trial drew (``d_model``, ``d_ff`` from the search space) is not a width the user
chose: the trial trains by the defaults of a data-sized width (the learning rate, the least
optimizer steps: :mod:`tsfm.estimator.small_data`), as the untuned Forecaster does, unless
the user or the search set the learning rate, the optimizer or the budget themselves. The
mark stays with the tuned Forecaster (and its clones, pickles and saves), so that its next
fit repeats the best trial; a parameter set again with ``set_params`` is the user's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MARK = "_searched"


def searched(est: Any) -> frozenset[str]:
    """The names of ``est``'s parameters a search set (none for a Forecaster never tuned)."""
    return frozenset(vars(est).get(MARK, ()))


def mark_searched(est: Any, names: Iterable[str]) -> None:
    """Mark the model parameters among ``names`` (what a search set on ``est``)."""
    extra = est.extra_params()
    setattr(est, MARK, searched(est) | {name for name in names if name in extra})


def unmark(est: Any, names: Iterable[str]) -> None:
    """``names`` set by the user (``set_params``): no longer the search's."""
    extra, names = est.extra_params(), set(names)
    setattr(est, MARK, frozenset(n for n in searched(est) if n in extra and n not in names))
