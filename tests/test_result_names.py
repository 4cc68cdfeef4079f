"""A user's column named like a column the result frames add (``cutoff``, ``step``,
``forecast``, ``snaive``, ``forecast-lo-<L>``; per series ``fold`` and the metrics; a wide
frame's ``unique_id`` and ``y``) is refused before any training, naming it, what it clashes
with and the fix, instead of polars' DuplicateError after every fold has trained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsfm.estimator.panels as panels
import tsfm.estimator.result_names as result_names
from tests.test_covariates import TINY_IT
from tsfm import Forecaster, InputError

N = 90
SETTINGS = {**TINY_IT, "horizon": 4, "lookback": 16, "max_epochs": 1}


def _long(id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y") -> pd.DataFrame:
    k = np.arange(N)
    parts = [
        pd.DataFrame({
            id_col: series,
            time_col: pd.date_range("2021-01-01", periods=N, freq="h"),
            target_col: np.sin(2 * np.pi * k / 24 + i) + i,
        })
        for i, series in enumerate(["a", "b"])
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _wide(date: str = "date", index: bool = False) -> pd.DataFrame:
    k = np.arange(N)
    frame = pd.DataFrame({
        date: pd.date_range("2021-01-01", periods=N, freq="h"),
        "a": np.sin(2 * np.pi * k / 24),
        "b": np.cos(2 * np.pi * k / 24),
    })  # fmt: skip
    return frame.set_index(date) if index else frame


def _long_case(role: str, name: str, mode: str) -> tuple[pd.DataFrame, dict]:
    parameter = {"id": "id_col", "time": "time_col", "target": "target_col"}[role]
    return _long(**{parameter: name}), {parameter: name, "mode": mode}


CLASHES = [  # (frame, parameters, the role and column named)
    *(
        pytest.param(
            *_long_case(role, name, mode), f"the {role} column '{name}'", id=f"{mode}-{name}"
        )
        for mode in ("joint", "independent")
        for role, name in [
            ("target", "forecast"),
            ("target", "snaive"),
            ("target", "forecast-lo-80"),
            ("time", "cutoff"),
            ("id", "step"),
            ("id", "fold"),  # per-series scores
            ("id", "mae"),
        ]
    ),
    *(
        pytest.param(_wide(name), params, f"the date column '{name}'", id=f"wide-{name}")
        for name, params in [
            ("cutoff", {}),
            ("step", {}),
            ("y", {}),
            ("unique_id", {"id_col": "s"}),
        ]
    ),
    pytest.param(
        _wide("forecast", index=True), {}, "the time index 'forecast'", id="wide-index-forecast"
    ),
]


@pytest.mark.parametrize(("frame", "params", "named"), CLASHES)
def test_fit_and_cross_validate_refuse_a_clashing_column_before_training(
    no_training, frame, params, named
):
    est = Forecaster(**{**SETTINGS, **params})
    for call in (lambda: est.fit(frame), lambda: est.cross_validate(frame, n_windows=2)):
        with pytest.raises(InputError, match=rf"^{named} has the name of a column") as err:
            call()
        assert "would hold two columns named" in str(err.value)
        assert "rename" in str(err.value)


def test_the_fix_names_the_parameter_and_the_rename():
    frame, params = _long_case("target", "forecast", "joint")
    with pytest.raises(InputError) as err:
        Forecaster(**{**SETTINGS, **params}).fit(frame)
    assert str(err.value) == (
        "the target column 'forecast' has the name of a column the forecasts of "
        "evaluate(return_forecasts=True), backtest and cross_validate add (the forecast), so "
        "they would hold two columns named 'forecast': rename it in the frame and pass the new "
        "name as target_col (or name it 'y', the default target_col: "
        "df.rename(columns={'forecast': 'y'}))"
    )


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_model_fitted_before_the_check_is_refused_by_the_frames_that_would_clash(
    monkeypatch, mode
):
    frame, params = _long_case("target", "forecast", mode)
    with monkeypatch.context() as patch:  # as fits were before they checked
        for module in (result_names, panels):
            patch.setattr(module, "refuse_clashing_names", lambda *args, **kwargs: None)
        est = Forecaster(**{**SETTINGS, **params}).fit(frame)
    assert len(est.predict()) == 8  # no frame of the added columns: as before
    assert np.isfinite(est.evaluate(frame)["mae"])
    assert len(est.evaluate(frame, per_series=True)) == 2
    for call in (
        lambda: est.evaluate(frame, return_forecasts=True),
        lambda: est.backtest(frame, n_windows=2),
    ):
        with pytest.raises(InputError, match="the target column 'forecast' has the name"):
            call()


@pytest.mark.parametrize(
    ("frame", "params"),
    [
        (_long(), {}),  # the id, time and target columns are the frames' own
        (_long(time_col="y", target_col="value"), {"time_col": "y", "target_col": "value"}),
        (_long().assign(forecast=1.0, cutoff=2.0), {"past_covariates": ["forecast", "cutoff"]}),
        (_wide("ds").rename(columns={"a": "forecast", "b": "cutoff"}), {}),  # series: ids
        (_wide("ds", index=True), {}),
    ],
)
def test_columns_the_result_frames_do_not_repeat_are_kept(frame, params):
    est = Forecaster(**{**SETTINGS, **params}).fit(frame)
    _, forecasts = est.evaluate(frame, return_forecasts=True)
    assert forecasts.columns.is_unique and "forecast" in forecasts.columns
    folds = est.cross_validate(frame, n_windows=2, refit=False)
    assert folds.forecasts.columns.is_unique and folds.per_series.columns.is_unique


def test_predict_refuses_a_variate_named_as_another_ones_bound(monkeypatch):
    """fit refuses it now (tests/test_output_names.py); a model fitted before that check
    is refused by predict at the clashing level."""
    import tsfm.estimator.fitting as fitting

    frame = _wide("ds").rename(columns={"b": "a-lo-80"})  # a forecast fed back as data
    with pytest.raises(InputError, match="the variate 'a-lo-80' is named as an interval's"):
        Forecaster(**{**SETTINGS, "conformal_windows": 3}).fit(frame)
    with monkeypatch.context() as patch:  # as fits were before they checked
        patch.setattr(fitting, "refuse_output_clashes", lambda *args, **kwargs: None)
        est = Forecaster(**{**SETTINGS, "conformal_windows": 3}).fit(frame)
    assert est.predict().columns.tolist() == ["ds", "a", "a-lo-80"]
    with pytest.raises(InputError, match="two columns named 'a-lo-80'.*rename that variate"):
        est.predict(level=[80])
    assert "a-lo-80-lo-60" in est.predict(level=[60]).columns  # other levels: no clash
