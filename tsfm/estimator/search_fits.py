"""The fits of ``Forecaster.tune``'s trials: on the frame read once, fresh or (a fitted
forecaster with ``warm_start=True``) warm from its fitted weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tsfm.data.frames.table import data_digest
from tsfm.estimator.fitted_record import merged
from tsfm.estimator.search_inputs import check_trial_inputs


def trial_fitter(
    est: Any, df: Any, val_df: Any, size: float | int, static_df: Any, warm: Any = None
) -> tuple[Callable[[Any, list], Any], str]:
    """Fits a trial's forecaster on the frame read once (as ``fit`` reads it for the mode;
    ``warm``: warm fits from that :class:`~tsfm.estimator.warm_start.WarmStart`, as ``fit``
    reads a warm fit's frame), and the frame's :func:`~tsfm.data.frames.table.data_digest`
    (what a study tunes on)."""
    from tsfm.estimator.warm_start import read_frames

    if est.mode == "independent":
        from tsfm.estimator.panels import fit_long, read_fit_panel

        long = read_fit_panel(est, df, val_df, warm)  # as fit reads it
        check_trial_inputs(est, long, static_df, warm)  # as fit refuses them, before any trial

        def fit_panel(candidate: Any, callbacks: list) -> Any:
            candidate.set_params(val_size=size)
            return fit_long(candidate, long, static_df, tuple(callbacks), warm)

        names = [*map(str, long.ids), *long.value_columns]
        return _recording(fit_panel, warm), data_digest(
            names, [long.codes, long.times, long.values]
        )
    table, val = read_frames(est, df, val_df, warm)  # as fit reads them
    check_trial_inputs(est, table, static_df, warm)  # as fit refuses them, before any trial

    def fit_joint(candidate: Any, callbacks: list) -> Any:
        if val is None:  # the share it validates on is a parameter of the model kept
            candidate.set_params(val_size=size)
        return candidate.fit_table(
            table, val, callbacks=callbacks, val_size=size, static_df=static_df, warm=warm
        )

    digest = table.digest() + ("" if val is None else f"+{val.digest()}")
    return _recording(fit_joint, warm), digest


def _recording(fit: Callable[[Any, list], Any], warm: Any) -> Callable[[Any, list], Any]:
    """``fit``, whose warm fits record the rows of the fits before too (as ``fit`` does): the
    weights have seen them."""
    if warm is None:
        return fit

    def warm_fit(candidate: Any, callbacks: list) -> Any:
        result = fit(candidate, callbacks)
        candidate.fitted_rows_ = merged(getattr(candidate, "fitted_rows_", None), warm.fitted_rows)
        return result

    return warm_fit
