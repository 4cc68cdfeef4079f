"""What a fit tells a model about its data before building it, for the model's optional
``data_sized`` hook: settings sized for the data where nobody chose them.

A model class may define::

    @classmethod
    def data_sized(cls, data: SizingInputs) -> dict[str, Any] | None: ...

returning ``{setting: value}`` to use instead of its configured defaults (e.g. a width for
the number of training windows, a window that fits the look-back), or None for no sizing.
The Forecaster calls it when it fits without an experiment preset, and never changes a
setting the user chose (those in ``chosen`` are dropped from the result); the command line
(``python -m tsfm.run``) runs the config as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class SizingInputs:
    """What ``data_sized`` is given.

    Attributes:
        n_windows: training windows per epoch.
        lookback: the look-back ``seq_len``.
        seasons: the frequency's natural seasons in steps, longest first (empty when none).
        settings: the model settings the fit would use otherwise: the composed config's
            values (its defaults, the overrides) with the user's parameters.
        chosen: names the user set (Forecaster parameters and override keys, the latter also
            without their ``model.`` prefix): a model setting among them is never sized.
        season_length: (a property) the data's season in steps: the user's
            ``season_length``, else from the frequency (the seasonal-naive baseline's); read
            only by the models that use it, since a ``season_length`` that does not fit the
            look-back is refused when it is read.
    """

    n_windows: int
    lookback: int
    seasons: tuple[int, ...]
    settings: Mapping[str, Any]
    chosen: frozenset[str]
    resolve_season: Callable[[], int] = field(repr=False, compare=False)

    @cached_property
    def season_length(self) -> int:
        return self.resolve_season()
