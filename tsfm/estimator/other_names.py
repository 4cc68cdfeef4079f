"""Other libraries' names for the Forecaster's arguments and methods, refused naming tsfm's.

People porting neuralforecast or darts code bring its names: ``h=24``,
``futr_exog_list=[...]``, ``predict(futr_df=...)``, ``cross_validation(...)``. :data:`HABITS`
lists them, by where they are written: ``Forecaster`` (constructor keywords; refused at
construction, by ``set_params`` and at ``fit``, through :func:`tsfm.estimator.params.config_key`),
a method's keywords (:func:`refuses_other_names` decorates the method, keeping its signature
and docstring) and ``methods`` (attributes the Forecaster does not have, refused on access by
its ``__getattr__``). Each is an :class:`~tsfm.errors.InputError` naming tsfm's equivalent.
None is translated silently, even where one name maps to one (``h`` -> ``horizon``): the
meanings differ in places (cross-validation's defaults, epochs against steps), and code
that reads as neuralforecast's should not run as tsfm's unnoticed.

A name here is none of a registered model's hyperparameters nor a tsfm parameter
(``tests/test_other_names.py`` checks it), so refusing it never hides a setting. An advice
may use ``{value}`` (the value given, as Python writes it) and ``{horizon}``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tsfm.errors import InputError

Method = TypeVar("Method", bound=Callable[..., Any])

NF, DARTS = "neuralforecast", "darts"
_FIXED_HORIZON = (
    "predict(..., steps={value}) ({fewer}), or fit a Forecaster with horizon={value} "
    "(the model forecasts horizon={horizon} steps at once)"
)
_PATHS_HORIZON = (
    "the horizon is fixed at fit (horizon={horizon}): for fewer steps keep the first rows of "
    "each path, or fit a Forecaster with horizon={value}"
)
_FEWER_STEPS = "the first {value} rows of each series' forecast"
_MORE_STEPS = (
    "beyond the horizon: rolled out as darts does, the point forecasts fed back as look-back; "
    "future_df holds the future covariates over all steps and the past ones over the first "
    "steps - horizon"
)
_CONSTRUCTOR = (
    "{name} is a Forecaster argument: Forecaster(..., {name}={value}) or set_params({name}=...)"
)
_CONFORMAL = (
    "intervals are a setting of the Forecaster: Forecaster(..., conformal_windows=k) for "
    "conformal intervals of a point model (k calibration windows), or loss='quantile', "
    "'normal' or 'student_t'; levels=[80, 95] sets the levels scored"
)
_LEVELS = (
    "cross_validate writes the interval bounds of the Forecaster's levels (level 80: the 0.1 "
    "and 0.9 quantiles) for a model with intervals: Forecaster(..., levels={value}) with "
    "loss='quantile', 'normal', 'student_t' or conformal_windows=k (set_params(levels=...) "
    "sets them on a Forecaster)"
)
_SCORED = (
    "{method} scores the intervals of the Forecaster's levels (a model with intervals): "
    "set_params(levels={value}) sets them, on a fitted model too (no refit: they are read off "
    "its conformal scores or quantile grid), or Forecaster(..., levels={value}); "
    "predict(df, level={value}) gives the bounds themselves"
)
_SCORED_LEVELS = {
    method: {name: (None, _SCORED.replace("{method}", method)) for name in ("level", "levels")}
    for method in ("evaluate", "backtest")
}
_SAMPLES = (
    "predict gives points and each step's quantiles or intervals; joint sample paths over the "
    "horizon (e.g. for a total or a peak) are f.sample_paths(df, n_samples={value}, seed=...), "
    "a frame with one row per (series, sample, timestamp), for a model fitted with "
    "conformal_windows=k"
)
_COLUMNS = {  # neuralforecast's fit, predict and cross_validation take the column names
    name: (NF, _CONSTRUCTOR) for name in ("id_col", "time_col", "target_col", "verbose")
}
_WINDOWS = {  # darts' backtest and historical_forecasts
    "stride": (DARTS, "step={value} (the steps between folds; default: the horizon)"),
    "start": (DARTS, "n_windows=... (the folds count back from the frame's end)"),
    "forecast_horizon": (DARTS, "the horizon is the Forecaster's (horizon={horizon})"),
}

_FOLDS = {  # darts' backtest: tsfm's backtest and cross_validate give every step and metric
    "metric": (DARTS, "every metric is scored: forecasts, metrics = f.backtest(df, ...) (or "
               "cross_validate); metrics has one row per fold with mae, mse, rmse, smape, mape, "
               "mase and skill scores: take its column, metrics[{value}]"),
    "reduction": (DARTS, "the metrics frame has one row per fold (darts' reduction=None); "
                  "reduce a column yourself, metrics['mae'].mean() as darts' default np.mean; "
                  "the result's per_series has one row per fold and series"),
    "last_points_only": (DARTS, "the forecasts frame holds every step of every fold (one row "
                         "per fold, series and step, with cutoff and step: darts' "
                         "last_points_only=False); its rows with step == {horizon} are the "
                         "last points"),
    "overlap_end": (DARTS, "the folds count back from df's end, so the last fold ends at df's "
                    "last row and every forecast has its actual; to forecast past the end: "
                    "predict(df, steps=...)"),
}  # fmt: skip
HABITS: dict[str, dict[str, tuple[str | None, str]]] = {
    "Forecaster": {
        "h": (NF, "horizon={value} (the steps to forecast)"),
        "input_size": (NF, "lookback={value} (the steps of history each forecast sees)"),
        "futr_exog_list": (NF, "future_covariates={value} (known over the horizon too; "
                           "predict then takes their values in future_df)"),
        "hist_exog_list": (NF, "past_covariates={value} (observed up to the forecast origin)"),
        "stat_exog_list": (NF, "static_covariates={value} (one value per series: columns of "
                           "df, or of static_df)"),
        "max_steps": (NF, "max_epochs=... (tsfm counts epochs; trainer__max_steps={value} "
                      "caps the optimizer steps, as Lightning does)"),
        "n_series": (NF, "nothing: the series are read from the frame (drop n_series)"),
        "random_seed": (NF, "seed={value}"),
        "early_stop_patience_steps": (NF, "patience={value} (epochs without a better "
                                      "validation loss; early stopping needs val_size=...)"),
        "models": (NF, "model='itransformer' (one registered model per Forecaster: "
                   "tsfm.models.REGISTRY)"),
        "scaler_type": (NF, "scaler='robust' (median and interquartile range of each column's "
                        "training rows) or scaler='standard' (mean and standard deviation, the "
                        "default): tsfm scales each column once, by its training rows; "
                        "neuralforecast's scaler_type normalises each window by its own "
                        "look-back, which tsfm's iTransformer does itself (use_norm=True)"),
        "input_chunk_length": (DARTS, "lookback={value}"),
        "output_chunk_length": (DARTS, "horizon={value}"),
        "n_epochs": (DARTS, "max_epochs={value}"),
        "random_state": (DARTS, "seed={value}"),
        "likelihood": (DARTS, "loss='quantile', 'normal' or 'student_t' (a distribution "
                       "head), or conformal_windows=k for a point model's intervals; count "
                       "likelihoods (Poisson, negative binomial) are not offered: "
                       "nonnegative=True (or a list of targets) floors forecasts, bounds and "
                       "sample paths at zero"),
    },
    "fit": {
        **_COLUMNS,
        "val_size": (NF, _CONSTRUCTOR + " (or fit(df, val_df) with the validation rows)"),
        "prediction_intervals": (NF, _CONFORMAL),
        "series": (DARTS, "fit(df): the frame holds every series"),
        "past_covariates": (DARTS, "columns of df, named by Forecaster(past_covariates=[...])"),
        "future_covariates": (DARTS, "columns of df, named by Forecaster(future_covariates="
                              "[...])"),
        "val_series": (DARTS, "fit(df, val_df=...), or Forecaster(val_size=...)"),
        "epochs": (DARTS, "max_epochs={value}, a Forecaster setting"),
    },
    "predict": {
        **_COLUMNS,
        "futr_df": (NF, "future_df={value}"),
        "h": (NF, _FIXED_HORIZON),
        "n": (DARTS, _FIXED_HORIZON),
        "horizon": (None, _FIXED_HORIZON),
        "num_samples": (DARTS, _SAMPLES),
        "series": (DARTS, "predict(df): the frame to forecast from"),
        "past_covariates": (DARTS, "columns of df"),
        "future_covariates": (DARTS, "future_df=... (the horizon's values; "
                              "make_future_dataframe() lays it out)"),
    },
    "sample_paths": {
        **_COLUMNS,
        "num_samples": (DARTS, "n_samples={value}"),
        "n": (DARTS, _PATHS_HORIZON),
        "h": (NF, _PATHS_HORIZON),
        "series": (DARTS, "sample_paths(df): the frame to forecast from"),
        "random_state": (DARTS, "seed={value}"),
    },
    "evaluate": {**_SCORED_LEVELS["evaluate"]},
    "cross_validate": {
        **_COLUMNS,
        **_WINDOWS,
        "step_size": (NF, "step={value} (default: step=None, the horizon; neuralforecast's "
                      "step_size defaults to 1)"),
        "test_size": (NF, "n_windows=(test_size - horizon) // step + 1: the folds cover the "
                      "last horizon + (n_windows - 1) * step rows"),
        "h": (NF, "the horizon is the Forecaster's (horizon={horizon})"),
        "val_size": (NF, _CONSTRUCTOR + ": each fold's model holds out the end of its rows"),
        "level": (NF, _LEVELS),
        "quantiles": (NF, _LEVELS),
        "prediction_intervals": (NF, _CONFORMAL),
        "retrain": (DARTS, "refit={value}"),
        **_FOLDS,
    },
    "backtest": {
        **_COLUMNS,
        **_WINDOWS,
        "step_size": (NF, "step={value}"),
        "retrain": (DARTS, "backtest never trains; cross_validate(df, refit=...) retrains"),
        **_SCORED_LEVELS["backtest"],
        **_FOLDS,
    },
    "methods": {
        "cross_validation": (NF, "f.cross_validate(df, n_windows=..., step=..., refit=...); "
                             "its defaults differ: n_windows=3, step=None (the horizon) and "
                             "refit=True, where neuralforecast's are n_windows=1, "
                             "step_size=1 and refit=False"),
        "predict_insample": (NF, "f.evaluate(df, return_forecasts=True) forecasts (and scores) "
                             "every window of df, the fitted rows too (with an InSampleWarning)"),
        "residuals": (DARTS, "forecasts, metrics = f.backtest(df, n_windows=..., step=1) (the "
                      "fitted model; cross_validate retrains per fold): forecasts holds the "
                      "actual beside each forecast (columns y, or a long frame's target column, "
                      "and forecast; one row per fold, series and step), so the residuals are "
                      "forecasts['y'] - forecasts['forecast']"),
        "historical_forecasts": (DARTS, "f.backtest(df, n_windows=..., step=...) forecasts "
                                 "rolling folds with the fitted model, f.cross_validate(...) "
                                 "retrains per fold"),
    },
}  # fmt: skip


class OtherLibraryMethod(InputError, AttributeError):
    """A method of another library, asked of a Forecaster (an ``AttributeError`` too, so
    that ``hasattr`` and ``getattr(f, name, default)`` answer as for any missing attribute)."""


def _whose(library: str) -> str:
    return f"{library}'" if library.endswith("s") else f"{library}'s"


def _shown(value: Any) -> str:
    """``value`` as Python writes it when that is short (a number, a name, a short list), else
    ``...`` (a frame)."""
    plain = (bool, int, float, str, type(None))
    if isinstance(value, plain) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, plain) for v in value)
    ):
        text = repr(value)
        return text if len(text) <= 60 else "..."
    return "..."


def _advice(text: str, value: Any, horizon: Any, name: str) -> str:
    shown = _shown(value)
    fewer = type(value) is int and isinstance(horizon, int) and 0 < value <= horizon
    fewer_text = _FEWER_STEPS.format(value=shown) if fewer else _MORE_STEPS
    return text.format(value=shown, horizon=horizon, name=name, fewer=fewer_text)


def refuse_other_parameters(params: Iterable[str], values: dict[str, Any] | None = None) -> None:
    """Refuse a constructor keyword of :data:`HABITS`, naming tsfm's parameter."""
    values = values or {}
    for name in params:
        if name in HABITS["Forecaster"]:
            library, advice = HABITS["Forecaster"][name]
            horizon = values.get("horizon")
            text = _advice(advice, values.get(name, ...), horizon, name)
            raise InputError(f"parameter '{name}' is {_whose(library)} name; in tsfm: {text}")


def other_method(owner: Any, name: str) -> AttributeError:
    """The error of an attribute ``name`` the Forecaster lacks: :class:`OtherLibraryMethod`
    for one of :data:`HABITS`' methods, Python's own otherwise."""
    if name in HABITS["methods"]:
        library, advice = HABITS["methods"][name]
        return OtherLibraryMethod(
            f"Forecaster has no method '{name}' ({_whose(library)}); in tsfm: {advice}"
        )
    return AttributeError(
        f"'{type(owner).__name__}' object has no attribute '{name}'", name=name, obj=owner
    )


def refuses_other_names(where: str) -> Callable[[Method], Method]:
    """Decorate the Forecaster method ``where``: a keyword it does not take that
    :data:`HABITS` lists for it is refused naming tsfm's equivalent; any other unknown keyword
    reaches the method (Python's TypeError). Signature and docstring stay the method's."""
    table = HABITS[where]

    def decorate(method: Method) -> Method:
        takes = set(inspect.signature(method).parameters)

        @functools.wraps(method)
        def call(est: Any, *args: Any, **kwargs: Any) -> Any:
            for name in kwargs.keys() - takes:
                if name in table:
                    library, advice = table[name]
                    horizon = getattr(est, "horizon", None)
                    text = _advice(advice, kwargs[name], horizon, name)
                    origin = f" ({_whose(library)} name)" if library else ""
                    raise InputError(
                        f"{where}() takes no argument '{name}'{origin}; in tsfm: {text}"
                    )
            return method(est, *args, **kwargs)

        return call  # type: ignore[return-value]

    return decorate


def unknown_parameter(
    model: str, name: str, hyper: Iterable[str], aliases: Iterable[str], per_call: Iterable[str]
) -> str:
    """Why ``name`` is no parameter: the names nearest to it, the Forecaster's own arguments,
    the model's hyperparameters and the common settings."""
    from tsfm.estimator.forecaster import Forecaster  # here: forecaster.py imports this module

    own = [n for n in Forecaster._get_param_names() if n != "model"]
    hyper, aliases = sorted(hyper), sorted(aliases)
    near = difflib.get_close_matches(name, [*own, *hyper, *aliases, *per_call], n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return (
        f"unknown parameter '{name}'{hint}. The Forecaster's arguments are {own}; extra "
        f"keywords are a hyperparameter of model '{model}' {hyper}, one of the common settings "
        f"{aliases}, or any config key with '__' for '.' (e.g. trainer__gradient_clip_val=1.0)"
    )
