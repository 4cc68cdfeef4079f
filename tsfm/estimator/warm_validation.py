"""A warm fit's validation rows must be rows its starting weights were not fitted on.

A warm fit (``warm_start=True``) starts from weights trained on every earlier fit's rows
(:mod:`tsfm.estimator.fitted_record`). Its validation rows pick the epoch kept and, with
``conformal_windows``, calibrate the intervals; where they are rows an earlier fit held, the
errors there are in-sample. Calibrating on them would give intervals too narrow, so that is
refused (as :func:`tsfm.estimator.calibration.check_unseen` refuses calibration windows of
the training rows); early stopping on them only warns (an
:class:`~tsfm.data.user_warnings.InSampleWarning`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.data.frames.dates import show_time
from tsfm.data.user_warnings import InSampleWarning, warn_user
from tsfm.errors import InputError
from tsfm.estimator.fitted_record import reached


def check_validation_unseen(
    warm: Any,
    times: list[np.ndarray],
    n_train: list[int],
    windows: int,
    series: list | None = None,
    tz: Any = None,
) -> None:
    """Refuses (with ``windows``, the conformal windows calibrated on them) or warns of a warm
    fit whose validation rows (rows ``n_train[i]`` on of series ``i``, at ``times[i]``;
    ``series``: their ids, None for a wide frame's rows) are rows an earlier fit held. Without
    a warm start, timestamps or a record of them nothing is checked."""
    seen = None if warm is None else warm.fitted_rows
    if seen is None or any(t is None for t in times):
        return
    kind = np.asarray(seen.end).dtype.kind
    keys = [None] * len(times) if series is None else list(series)
    hits = [
        (key, t[n], t[-1])
        for key, t, n in zip(keys, times, n_train, strict=True)
        if n < len(t) and t.dtype.kind == kind and reached(seen, t[n], t[-1], key).any()
    ]
    if not hits:
        return
    end = max(fit.end.max() for fit in seen.fits())
    _, first, last = hits[0]
    named = "" if series is None else f"series {[k for k, _, _ in hits][:5]}, "
    rows = f"{named}{show_time(first, tz)} to {show_time(last, tz)}"
    later = (
        f"validate on rows after {show_time(end, tz)} (a frame that continues the fitted rows "
        "with val_size, or val_df of new rows)"
    )
    if windows:
        raise InputError(
            f"warm_start=True with conformal_windows={windows} calibrates on the validation "
            f"rows ({rows}), but the fitted weights were fitted on those rows (the "
            f"earlier fits reach {show_time(end, tz)}), so their errors are in-sample and the "
            f"intervals would be too narrow: {later}, or warm_start=False for a fresh model"
        )
    warn_user(
        f"warm_start=True validates on rows ({rows}) the fitted weights were fitted on "
        f"(the earlier fits reach {show_time(end, tz)}): early stopping and the epoch kept "
        f"rest on in-sample errors; {later}",
        InSampleWarning,
    )
