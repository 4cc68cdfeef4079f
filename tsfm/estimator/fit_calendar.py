"""The calendar a fit's calendar features follow (``data.freq``): the frame's own frequency,
unless the user chose one (``data__freq``, checked against the frame's) or the preset's
steps alike (the papers' ``'h'`` for hourly data)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from tsfm.data.frames.regularity import check_calendar_freq
from tsfm.data.timefeatures import freq_unit
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError
from tsfm.estimator.guards import override_key


def settle_calendar(est: Any, cfg: DictConfig, freq: str | int) -> None:
    """Set ``cfg.data.freq`` for a frame with dates stepping by ``freq``."""
    if cfg.data.freq is None:
        cfg.data.freq = str(freq)  # calendar features from the data's own frequency
    elif _user_set_freq(est):
        try:  # an explicit h is the papers' calendar for every benchmark (and from_run's)
            check_calendar_freq(cfg.data.freq, str(freq), benchmark=True)
        except ValueError as err:
            raise InputError(f"{err} (the Forecaster's parameter data__freq)") from None
    elif freq_unit(cfg.data.freq) != freq_unit(str(freq)):
        # a preset's calendar (the papers' 'h') describing other data: the data's, said so
        warn_user(
            f"experiment '{est.experiment}' computes calendar features for {cfg.data.freq!r} "
            f"data; this frame steps by {freq!r}, so its own calendar features are used "
            f"(data__freq='{cfg.data.freq}' keeps the preset's)"
        )
        cfg.data.freq = str(freq)


def _user_set_freq(est: Any) -> bool:
    """Whether the user chose the calendar frequency (a parameter or an override)."""
    overrides = [override_key(o) for o in est.overrides or []]
    return "data__freq" in est.extra_params() or "data.freq" in overrides
