"""The time axis of a table: its sampling frequency, checked (a registered benchmark against
its file, other data for regular steps), and the frequency its calendar features follow."""

from __future__ import annotations

import numpy as np

from tsfm.data.config import DataConfig
from tsfm.data.frames import resolve_freq
from tsfm.data.frames.regularity import check_calendar_freq, check_span, check_steps
from tsfm.data.sources import get_spec
from tsfm.errors import InputError


def check_time_axis(dates: np.ndarray, cfg: DataConfig, source: str, benchmark: bool) -> str | None:
    """The data's sampling frequency, after checking the timestamps against it: a
    benchmark (``benchmark``: a registered dataset read from its file) against its registered
    file (rows, span, steps), other data for regular steps (unless ``data.allow_irregular``);
    ``data.freq`` must describe it. ``source`` names the data in messages."""
    if benchmark:
        spec = get_spec(cfg.name)
        check_span(dates, spec.rows, spec.span, source)
        check_steps(
            dates,
            spec.freq,
            breaks=spec.breaks,
            allow_duplicates=spec.allow_duplicate_timestamps,
            source=source,
        )
        sampling = spec.freq
    elif cfg.allow_irregular:
        sampling = None
    else:
        try:
            sampling = str(resolve_freq(dates))
        except ValueError as err:
            where = str(err).split(". Fill")[0]  # the row; the fix differs from Python's
            raise InputError(
                f"{source}: {where}. Fill the missing steps (e.g. interpolate), set "
                "data.missing=mask to treat absent steps as missing values, or set "
                "data.allow_irregular=true to accept them (windows then run across the gaps)"
            ) from None
    if cfg.freq and sampling:
        check_calendar_freq(cfg.freq, sampling, benchmark=benchmark)
    return sampling


def time_feature_freq(cfg: DataConfig, sampling: str | None) -> str:
    """The frequency of the calendar features: ``data.freq``, else the data's sampling."""
    if cfg.freq or sampling:
        return cfg.freq or sampling
    raise InputError(
        "cannot tell the frequency of irregular timestamps; set data.freq (e.g. 'h', "
        "'15min', 'D') for the calendar features, or data.time_features=false"
    )
