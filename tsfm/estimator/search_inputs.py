"""What ``Forecaster.tune`` refuses of the data before its study opens: covariates of a kind
the model cannot use (:func:`~tsfm.training.inputs.check_capabilities`), which ``fit``
refuses when it builds the model, and column names that clash with the forecasts' generated
ones (:mod:`tsfm.estimator.output_names`), which ``fit`` refuses before training: every trial
would fail on them. The search cannot
change them: the model, the covariates' roles and the data are the Forecaster's own."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tsfm.data.roles import PYTHON_NAMES
from tsfm.estimator.roles import (
    encode_statics,
    fit_panel_roles,
    panel_static_frame,
    panel_targets,
    role_settings,
    static_frame,
)


def check_trial_inputs(est: Any, data: Any, static_df: Any, warm: Any = None) -> None:
    """Refuse ``data`` (the table, or a ``mode="independent"`` long frame, the trials fit) and
    ``static_df`` where ``est``'s model cannot use their covariates, with ``fit``'s message
    (``warm``: the trials' :class:`~tsfm.estimator.warm_start.WarmStart`, whose fits refuse
    them as a warm fit does). Where the inputs cannot be read here (a setting only a trial's
    values mend, say), the trials tell."""
    from tsfm.estimator.output_names import refuse_output_clashes
    from tsfm.estimator.warm_start import building
    from tsfm.models import capabilities
    from tsfm.training.inputs import check_capabilities

    try:
        dims = _covariate_dims(est, data, static_df)
        targets = _target_names(est, data)
    except Exception:  # noqa: BLE001  the trials refuse it with their own message
        return
    refuse_output_clashes(data.layout, targets, panel=est.mode == "independent")
    with building(warm):
        check_capabilities(est.model, capabilities(est.model), dims, est.mode == "independent")


def _target_names(est: Any, data: Any) -> list[str]:
    """The target names a fit checks the frame's columns against, as fit computes them."""
    if est.mode == "independent":
        return [str(t) for t in panel_targets(est)]
    from tsfm.estimator.fitting import target_names

    if data.layout is not None and data.layout.kind == "long":  # its series: one column
        return [data.layout.target_col]
    return target_names(data, role_settings(est, data))


def _covariate_dims(est: Any, data: Any, static_df: Any) -> dict[str, Any]:
    """The covariate dimensions a trial's model would be built with (as the data module's
    ``dims()`` gives them): past and future covariates, static ones numeric and categorical."""
    if est.mode == "independent":
        roles = fit_panel_roles(est, data)
        frame = panel_static_frame(est, data, roles, static_df)
    else:
        roles = _joint_roles(est, data)
        frame = static_frame(est, data, static_df)
    _, statics = encode_statics(est, frame)
    return {
        "n_past": len(roles.past),
        "n_future": len(roles.future),
        "n_static_real": 0 if statics is None else statics["real"].shape[1],
        "static_cardinalities": [] if statics is None else list(statics["cardinalities"]),
    }


def _joint_roles(est: Any, table: Any) -> Any:
    """The column roles a joint fit's data module resolves for ``table`` (its ``features``,
    ``targets`` and covariates, as the fit's run config sets them)."""
    from tsfm.data import TimeSeriesDataModule
    from tsfm.data.frames import is_integer_time, resolve_freq
    from tsfm.estimator.params import build_config

    freq = resolve_freq(table.times, est.freq, table.tz)
    cfg = build_config(
        est,
        freq=freq,
        has_dates=not is_integer_time(table.times),
        time_col=table.layout.time_col,
        roles=role_settings(est, table),
    )
    columns = replace(table, columns=[str(c) for c in table.columns])
    datamodule = TimeSeriesDataModule(cfg.data, table=columns, names=PYTHON_NAMES)
    return datamodule.resolve_roles(datamodule.load_table())
