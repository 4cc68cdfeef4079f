"""Checks of the Forecaster's own arguments (its options, horizon and look-back) before any
data is read, and that a fitted Forecaster's parameters are still those it was fitted with
(messages use the Python argument names)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from tsfm.data.seasons import check_lookback
from tsfm.errors import InputError
from tsfm.estimator.horizons import horizon_reason, integer_step, suggested_horizon

MODES = ("joint", "independent")
MISSING = ("refuse", "mask")
ROLE_ARGUMENTS = ("targets", "future_covariates", "past_covariates", "static_covariates")


def check_options(est: Any) -> None:
    """The Forecaster's options, before any frame is read: a misspelt parameter or frequency
    is named as such, not reported as a problem of the data."""
    check_names(est)
    if est.mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {est.mode!r}")
    if not verbose_level(est.verbose):
        raise InputError(
            f"verbose must be 0 (silent), 1 (epoch lines) or 2 (Lightning's), got {est.verbose!r}"
        )
    if est.missing not in MISSING:
        raise InputError(f"missing must be one of {MISSING}, got {est.missing!r}")
    for name in ("scaler", "data__scaler"):  # before any frame is read (the fit's check too)
        if name in est.extra_params():
            from tsfm.data.robust_scaling import check_scaler_kind

            check_scaler_kind(est.extra_params()[name], name)
    for name in ("levels", "quantiles"):  # the config's float lists would read "80" as 80
        if name in est.extra_params():
            from tsfm.training.scoring import refuse_text

            refuse_text(est.extra_params()[name], name)
    if "seed" in est.extra_params():  # text or a bool: the config's int field reads them
        from tsfm.training.runtime import check_seed

        check_seed(est.extra_params()["seed"])
    for name in ("id_col", "time_col", "target_col", "date_col"):
        value = getattr(est, name, None)
        if value is not None and not isinstance(value, str):
            several = " (several targets: targets=[...])" if name == "target_col" else ""
            raise InputError(f"{name} must be one column name (a str), got {value!r}{several}")
    for name in ROLE_ARGUMENTS:
        value = getattr(est, name)
        unordered = isinstance(value, (str, bytes, dict, set, frozenset))
        if value is not None and (unordered or not hasattr(value, "__iter__")):
            raise InputError(
                f"{name} must be a list of column names (a list, tuple, NumPy array or pandas "
                f"Index), got {value!r}"
            )


def verbose_level(value: Any) -> bool:
    """Whether ``value`` is a verbosity ``Forecaster`` takes: 0, 1 or 2 (True and False are 1
    and 0). ``Forecaster.load`` takes the same (a saved ``verbose=False`` loads back)."""
    try:
        return bool(value in (0, 1, 2))
    except (TypeError, ValueError):  # an array has no one truth value
        return False


def flag(value: Any) -> bool:
    """Whether ``value`` is a yes/no setting such as ``warm_start``: True or False (1 and 0
    are the same values). ``Forecaster.load`` takes the same."""
    try:
        return bool(value in (True, False))
    except (TypeError, ValueError):
        return False


def check_names(est: Any) -> None:
    """The model is registered, every extra parameter names a setting, and ``freq`` (other
    than an integer step) is a frequency pandas reads."""
    from tsfm.data.frames.freq_names import parse_freq
    from tsfm.estimator.params import config_key
    from tsfm.models import REGISTRY

    if est.model not in REGISTRY:
        raise InputError(f"unknown model {est.model!r}; registered models: {sorted(REGISTRY)}")
    for name in est.extra_params():
        config_key(est.model, name)  # a ValueError naming an unknown parameter
    freq = est.freq
    if freq is not None and not integer_step(freq):
        try:
            parse_freq(freq)
        except ValueError as err:
            raise InputError(f"freq: {err}") from None


def role_names(est: Any, name: str) -> list:
    """The column names of the role argument ``name`` as a list (``[]`` when None): any
    list-like of names is accepted, and the argument itself stays as given (``get_params``
    returns it untouched, as scikit-learn's ``clone`` requires)."""
    value = getattr(est, name)
    return [] if value is None else list(value)


def frame_columns(df: Any) -> list[str]:
    """The column names of a pandas or polars frame (a pandas index name included)."""
    columns = [str(c) for c in getattr(df, "columns", [])]
    index = getattr(getattr(df, "index", None), "name", None)
    return [*columns, str(index)] if index is not None else columns


# Settings that only say how to train (again) or where to run: changing them after fit
# leaves the fitted model and its forecasts as they are. Every other parameter shapes them.
TRAINING_PARAMS = frozenset({"verbose", "work_dir", "val_size", "warm_start"})
# What the fitted model is scored on, not what it is: the interval levels (a conformal model
# reads any level's radius off its scores, a quantile head off its grid; levels either cannot
# give are refused where used, estimator/intervals.py scored_levels).
SCORING_SETTINGS = frozenset({"levels"})
TRAINING_KEYS = ("optim.", "trainer.", "callbacks.")
TRAINING_SETTINGS = frozenset(
    {"seed", "threads", "check_memory", "data.batch_size", "data.eval_batch_size",
     "data.num_workers", "data.pin_memory", "data.drop_last"}
)  # fmt: skip


def shapes_the_model(est: Any, name: str) -> bool:
    """Whether parameter ``name`` of ``est`` shapes its fitted model or forecasts."""
    if name in TRAINING_PARAMS:
        return False
    if name in est._get_param_names():
        return True
    from tsfm.estimator.params import config_key

    return key_shapes_the_model(config_key(est.model, name))


def key_shapes_the_model(key: str) -> bool:
    """Whether the run-config key ``key`` (``model.d_model``, ``optim.lr``) shapes a fitted
    model (a config group, ``optim``, changes the Forecaster's ``overrides``: it does)."""
    return not (key.startswith(TRAINING_KEYS) or key in TRAINING_SETTINGS | SCORING_SETTINGS)


def remember_fitted_params(est: Any) -> None:
    """Record the parameters the fitted model was built with (checked by :func:`check_fitted`)."""
    est.fitted_params_ = copy.deepcopy(est.get_params())


def check_fitted(est: Any) -> None:
    """Fitted, and with the parameters it was fitted with: a model fitted for horizon 8 does
    not forecast 4 steps because ``set_params(horizon=4)`` came after ``fit``."""
    check_is_fitted(est)
    shown = model_changes(est)
    if shown:
        raise InputError(
            f"parameters that shape the model changed since fit ({shown}); the fitted model was "
            "built with the earlier values: fit again to use the new ones, or set them back"
        )


def refuse_step_count(est: Any, df: Any, where: str = "predict") -> None:
    """``predict(12)`` (darts' ``predict(n)``): the horizon is fixed at fit, so a number of
    steps is refused with what to do instead (``where``: the method asked)."""
    if isinstance(df, (int, np.integer)) and not isinstance(df, (bool, np.bool_)):
        advice = (
            f"predict(steps={df}) forecasts {df} steps (beyond the horizon, {est.horizon}, by "
            "feeding the forecasts back as look-back)"
            if where == "predict"
            else f"the horizon is fixed at fit (horizon={est.horizon}); for {df} steps keep the "
            f"first {df} of each series' forecast"
        )
        raise TypeError(
            f"{where} takes the frame to forecast from (or nothing: the steps after the fitted "
            f"data), not a number of steps: {advice}, or fit a Forecaster with horizon={df}"
        )


def model_changes(est: Any, same_model: Callable[[str, Any], bool] | None = None) -> str:
    """The parameters that shape the model and changed since fit, as ``name=old -> new``
    (empty when none did, or when the fitted parameters are not known); ``same_model(name,
    value)``: whether a changed value still names the fitted model. A parameter left unset
    at fit, now set to the value the fit chose for it (``lookback_``, or ``config_``'s: a
    data-sized ``d_model``), is the same model; changed, it is shown with that value."""
    fitted = getattr(est, "fitted_params_", None)
    if fitted is None:
        return ""
    now = est.get_params()
    shown = []
    for name in sorted(fitted.keys() | now.keys()):
        old, new = fitted.get(name), now.get(name)
        if name == "quantiles":  # any order fits the same sorted grid
            old, new = _sorted(old), _sorted(new)
        if _same(old, new) or not shapes_the_model(est, name):
            continue
        if same_model is not None and same_model(name, new):
            continue
        chosen = fit_chosen(est, name) if old is None else None
        if chosen is not None and _same(chosen, new):
            continue  # the value the fit chose, now given: the same model
        was = f"{old!r}" if chosen is None else f"{chosen!r} (unset: the fit's choice)"
        shown.append(f"{name}={was} -> {new!r}")
    return ", ".join(shown)


def fit_chosen(est: Any, name: str) -> Any:
    """The value the fit used for parameter ``name``, left unset (None): the look-back the
    data chose, or an extra parameter's value in ``config_`` (its default, or what the data
    sized); None where not known."""
    if name == "lookback":
        return getattr(est, "lookback_", None)
    cfg = getattr(est, "config_", None)
    if cfg is None or name in est._get_param_names():
        return None
    from omegaconf import OmegaConf

    from tsfm.estimator.params import config_key

    try:
        value = OmegaConf.select(cfg, config_key(est.fitted_params_["model"], name))
    except (ValueError, KeyError):
        return None
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def _sorted(value: Any) -> Any:
    try:
        return sorted(value)
    except TypeError:  # None, or values without an order: compared as given
        return value


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return repr(a) == repr(b)


def check_window_sizes(est: Any, freq: Any = None) -> None:
    """``horizon`` (required: how far ahead depends on the decision, not on the data) and
    ``lookback`` are positive whole numbers of steps."""
    if est.horizon is None:
        lookback = est.lookback if _positive_whole(est.lookback) else None
        suggested = suggested_horizon(freq, lookback)
        raise InputError(
            "horizon is required: how many steps ahead to forecast (e.g. "
            f"Forecaster('{est.model}', horizon={suggested}){horizon_reason(freq, lookback, suggested)}"
        )
    for name in ("horizon", "lookback"):
        value = getattr(est, name)
        if value is None and name == "lookback":  # chosen by the data (estimator/lookback.py)
            continue
        if not _positive_whole(value):
            raise InputError(
                f"{name} must be a positive whole number of steps"
                f"{' (or None: chosen by the data)' if name == 'lookback' else ''}, got "
                f"{value!r}; e.g. "
                f"Forecaster('{est.model}', horizon=24, lookback=96)"
            )
    if est.lookback is not None:
        check_lookback(est.lookback, "lookback")


def _positive_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
