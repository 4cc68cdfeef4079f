"""neuralforecast's and darts' names for the Forecaster's arguments and methods are refused
naming tsfm's (``tsfm/estimator/other_names.py``), never translated; a misspelt parameter is
refused with the names near it and the Forecaster's own arguments."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from tsfm import Forecaster, InputError
from tsfm.estimator.other_names import HABITS
from tsfm.estimator.params import ALIASES, PER_CALL, model_hyperparameters
from tsfm.models import REGISTRY

METHODS = ("fit", "predict", "sample_paths", "cross_validate", "backtest", "evaluate")


def frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=n, freq="D"), "y": np.ones(n)})


@pytest.mark.parametrize(
    "params, message",
    [
        ({"h": 24}, r"parameter 'h' is neuralforecast's name; in tsfm: horizon=24 "),
        ({"input_size": 48}, r"'input_size' is neuralforecast's name; in tsfm: lookback=48 "),
        ({"futr_exog_list": ["a"]}, r"in tsfm: future_covariates=\['a'\] \(known over"),
        ({"hist_exog_list": ["a"]}, r"in tsfm: past_covariates=\['a'\] \(observed up to"),
        ({"stat_exog_list": ["c"]}, r"in tsfm: static_covariates=\['c'\] \(one value per"),
        ({"max_steps": 500}, r"max_epochs=\.\.\. \(tsfm counts epochs; trainer__max_steps=500"),
        ({"n_series": 2}, r"'n_series' .* the series are read from the frame"),
        ({"input_chunk_length": 48}, r"'input_chunk_length' is darts' name; in tsfm: lookback=48"),
        ({"n_epochs": 5}, r"'n_epochs' is darts' name; in tsfm: max_epochs=5"),
    ],
)
def test_other_libraries_constructor_names_are_refused_at_construction(params, message):
    with pytest.raises(InputError, match=message):
        Forecaster(horizon=4, **params)
    est = Forecaster(horizon=4, lookback=8)
    with pytest.raises(InputError, match=message):
        est.set_params(**params)
    assert est.get_params()["lookback"] == 8 and not est.extra_params()  # nothing set


@pytest.mark.parametrize("name", sorted(HABITS["Forecaster"]))
def test_every_constructor_name_is_refused_and_names_tsfm_equivalent(name):
    with pytest.raises(InputError, match=rf"parameter '{name}' is \w+'s? name; in tsfm: \S"):
        Forecaster(horizon=4, **{name: 1})


def test_no_other_name_is_a_tsfm_parameter():
    own = set(Forecaster._get_param_names())
    for model in REGISTRY:
        taken = own | model_hyperparameters(model) | set(ALIASES) | set(PER_CALL)
        assert not taken & set(HABITS["Forecaster"]), model
    for where in METHODS:
        takes = set(inspect.signature(getattr(Forecaster, where)).parameters)
        assert not takes & set(HABITS[where]), where


@pytest.mark.parametrize(
    "where, name, message",
    [(where, name, None) for where in METHODS for name in sorted(HABITS[where])]
    + [
        ("predict", "futr_df", r"predict\(\) takes no argument 'futr_df' \(neuralforecast's "
         r"name\); in tsfm: future_df=7"),
        ("predict", "h", r"in tsfm: predict\(\.\.\., steps=7\) \(beyond the horizon: rolled "
         r"out as darts does.*\), or fit a Forecaster with horizon=7 \(the model forecasts "
         r"horizon=4 steps at once\)$"),
        ("predict", "n", r"'n' \(darts' name\); in tsfm: predict\(\.\.\., steps=7\)"),
        ("predict", "num_samples", r"joint sample paths over the horizon .* are "
         r"f.sample_paths\(df, n_samples=7, seed=\.\.\.\), .* conformal_windows=k"),
        ("sample_paths", "num_samples", r"sample_paths\(\) takes no argument 'num_samples' "
         r"\(darts' name\); in tsfm: n_samples=7$"),
        ("sample_paths", "n", r"'n' \(darts' name\); in tsfm: the horizon is fixed at fit"),
        ("fit", "val_size", r"fit\(\) takes no argument 'val_size' .* Forecaster\(\.\.\., "
         r"val_size=7\)"),
        ("cross_validate", "step_size", r"in tsfm: step=7 \(default: step=None, the horizon; "
         r"neuralforecast's step_size defaults to 1\)"),
        ("cross_validate", "test_size", r"in tsfm: n_windows=\(test_size - horizon\) // step"),
        ("cross_validate", "level", r"interval bounds of the Forecaster's levels .* "
         r"Forecaster\(\.\.\., levels=7\)"),
        ("backtest", "stride", r"'stride' \(darts' name\); in tsfm: step=7"),
        ("evaluate", "level", r"evaluate\(\) takes no argument 'level'; in tsfm: evaluate scores "
         r"the intervals of the Forecaster's levels .*: set_params\(levels=7\) sets them, on a "
         r"fitted model too"),
        ("backtest", "level", r"backtest\(\) takes no argument 'level'; in tsfm: backtest "
         r"scores .* set_params\(levels=7\)"),
        ("evaluate", "levels", r"'levels'; in tsfm: evaluate scores .* set_params\(levels=7\)"),
        ("backtest", "metric", r"'metric' \(darts' name\); in tsfm: every metric is scored: "
         r"forecasts, metrics = f.backtest\(df, \.\.\.\) .* one row per fold with mae, .*mape"),
        ("backtest", "reduction", r"'reduction' \(darts' name\); in tsfm: the metrics frame "
         r"has one row per fold .*metrics\['mae'\]\.mean\(\)"),
        ("backtest", "last_points_only", r"in tsfm: the forecasts frame holds every step of "
         r"every fold .* rows with step == 4 are the last points"),
        ("backtest", "overlap_end", r"in tsfm: the folds count back from df's end, .* "
         r"predict\(df, steps=\.\.\.\)"),
        ("cross_validate", "metric", r"'metric' \(darts' name\); in tsfm: every metric"),
    ],
)  # fmt: skip
def test_other_libraries_method_keywords_are_refused_before_any_work(where, name, message):
    est = Forecaster(horizon=4, lookback=8)  # not fitted: the refusal comes first
    with pytest.raises(InputError, match=message or rf"{where}\(\) takes no argument '{name}'"):
        getattr(est, where)(frame(), **{name: 7})


def test_a_number_of_steps_names_predict_steps_within_and_beyond_the_horizon():
    est = Forecaster(horizon=4, lookback=8)
    with pytest.raises(InputError, match=r"predict\(\.\.\., steps=2\) \(the first 2 rows of "
                       r"each series' forecast\)"):  # fmt: skip
        est.predict(h=2)
    with pytest.raises(InputError, match=r"steps=48\) \(beyond the horizon: rolled out as "
                       r"darts does, the point forecasts fed back as look-back; future_df holds "
                       r"the future covariates over all steps and the past ones over the first "
                       r"steps - horizon\), or fit a Forecaster with horizon=48"):  # fmt: skip
        est.predict(n=48)
    with pytest.raises(TypeError, match=r"not a number of steps: predict\(steps=12\) forecasts "
                       r"12 steps"):  # fmt: skip
        est.fit(frame()).predict(12)


def test_other_unknown_keywords_keep_python_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'futr_dff'"):
        Forecaster(horizon=4).predict(futr_dff=1)


def test_the_methods_keep_their_signatures_and_docs():
    assert list(inspect.signature(Forecaster.predict).parameters) == [
        "self", "df", "future_df", "level", "quantiles", "static_df", "steps",
    ]  # fmt: skip
    assert list(inspect.signature(Forecaster.cross_validate).parameters)[2:5] == [
        "n_windows", "step", "refit",
    ]  # fmt: skip
    assert list(inspect.signature(Forecaster.fit).parameters) == [
        "self", "df", "val_df", "static_df",
    ]  # fmt: skip
    assert Forecaster.predict.__doc__.startswith("The ``horizon`` steps after the fitted data")
    assert "Rolling-origin evaluation" in Forecaster.cross_validate.__doc__


@pytest.mark.parametrize(
    "name, message",
    [
        ("cross_validation", r"no method 'cross_validation' \(neuralforecast's\); in tsfm: "
         r"f.cross_validate\(.*defaults differ: n_windows=3, step=None \(the horizon\) and "
         r"refit=True, where neuralforecast's are n_windows=1, step_size=1 and refit=False"),
        ("predict_insample", r"in tsfm: f.evaluate\(df, return_forecasts=True\)"),
        ("historical_forecasts", r"\(darts'\); in tsfm: f.backtest\("),
        ("residuals", r"no method 'residuals' \(darts'\); in tsfm: forecasts, metrics = "
         r"f.backtest\(df, n_windows=\.\.\., step=1\) .* forecasts\['y'\] - "
         r"forecasts\['forecast'\]"),
    ],
)  # fmt: skip
def test_other_libraries_methods_are_refused_naming_tsfm_method(name, message):
    est = Forecaster(horizon=4)
    with pytest.raises(InputError, match=message) as err:
        getattr(est, name)
    assert isinstance(err.value, AttributeError)  # hasattr and getattr(..., default) work
    assert not hasattr(est, name) and getattr(est, name, None) is None


def test_other_missing_attributes_are_python_attribute_errors():
    with pytest.raises(AttributeError, match="'Forecaster' object has no attribute 'module_'"):
        Forecaster(horizon=4).module_  # noqa: B018
    try:
        Forecaster(horizon=4).cross_validat  # noqa: B018
    except AttributeError as err:
        assert not isinstance(err, InputError) and err.name == "cross_validat"


def test_a_misspelt_parameter_names_the_nearest_and_the_forecaster_arguments():
    with pytest.raises(InputError, match=r"unknown parameter 'horzion' \(did you mean "
                       r"'horizon'\?\)\. The Forecaster's arguments are \[.*'future_covariates'"
                       r".*'val_size'") as err:  # fmt: skip
        Forecaster(horzion=4, horizon=4, lookback=8).fit(frame())
    assert "'d_model'" in str(err.value) and "'max_epochs'" in str(err.value)
    with pytest.raises(InputError, match=r"unknown parameter 'future_covariate' \(did you mean "
                       r"'future_covariates'"):  # fmt: skip
        Forecaster(future_covariate=["a"], horizon=4, lookback=8).fit(frame())


def test_a_frame_given_under_another_name_is_not_printed():
    with pytest.raises(InputError, match=r"in tsfm: future_df=\.\.\.$"):
        Forecaster(horizon=4).predict(futr_df=frame())
    with pytest.raises(InputError, match=r"in tsfm: future_covariates=\.\.\. \(known"):
        Forecaster(horizon=4, futr_exog_list=[f"column_{k}" for k in range(20)])
