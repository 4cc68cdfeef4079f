"""A column the forecasts keep (id, time, a target, a wide frame's variate) named as a column
they generate from a target (``sales-lo-80``, ``y-q-0.1``; a panel of several targets'
``sales-forecast``, ``cutoff``) is refused by ``fit`` before any training, naming every clash
and the rename, for any level (predict takes others than the fitted ones), one target and
several, wide and long frames, joint and independent modes. Before, predict raised polars'
DuplicateError after the training, or a second column silently took the name (reproduced by
/tmp/fixAX/scratch/clashes.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT
from tsfm import Forecaster, InputError

N = 60
SETTINGS = {**TINY_IT, "horizon": 4, "lookback": 12, "max_epochs": 1}


def _long(columns: list[str], id_col: str = "unique_id", time_col: str = "ds") -> pd.DataFrame:
    k = np.arange(N)
    parts = [
        pd.DataFrame({
            id_col: series,
            time_col: pd.date_range("2021-01-01", periods=N, freq="D"),
            **{c: 10 + np.sin(k / 3 + i + j) + j for j, c in enumerate(columns)},
        })
        for i, series in enumerate(["a", "b"])
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _wide(columns: list[str], date: str = "date") -> pd.DataFrame:
    k = np.arange(N)
    values = {c: 10 + np.sin(k / 3 + j) for j, c in enumerate(columns)}
    return pd.DataFrame({date: pd.date_range("2021-01-01", periods=N, freq="D"), **values})


def _numeric_ids(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(store=frame.store.map({"a": 1, "b": 2}))


PANEL = {"mode": "independent"}
CLASHES = [  # (frame, parameters, what the message names)
    pytest.param(
        _long(["sales", "sales-lo-80"]), {**PANEL, "targets": ["sales", "sales-lo-80"]},
        ["the target 'sales-lo-80' is named as an interval's lower bound predict adds for "
         "the target 'sales'"], id="panel-targets-bound",
    ),
    pytest.param(
        _long(["sales", "sales-hi-97.5", "sales-q-0.05"]),
        {**PANEL, "targets": ["sales", "sales-hi-97.5", "sales-q-0.05"]},
        ["the target 'sales-hi-97.5' is named as an interval's upper bound",
         "the target 'sales-q-0.05' is named as a quantile",
         "(['sales-hi-97.5', 'sales-q-0.05'])"], id="panel-targets-two-clashes",
    ),
    pytest.param(
        _long(["sales", "sales-forecast"]), {**PANEL, "targets": ["sales", "sales-forecast"]},
        ["the target 'sales-forecast' is named as the forecast evaluate's, backtest's and "
         "cross_validate's forecasts hold"], id="panel-targets-window",
    ),
    pytest.param(
        _long(["returns", "sales-forecast-lo-80", "sales"]),
        {**PANEL, "targets": ["returns", "sales-forecast-lo-80", "sales"]},
        ["the target 'sales-forecast-lo-80' is named as the forecast's lower bound"],
        id="panel-targets-window-bound",
    ),
    pytest.param(
        _long(["sales", "cutoff"]), {**PANEL, "targets": ["sales", "cutoff"]},
        ["the target 'cutoff' is named as each window's cutoff"], id="panel-targets-cutoff",
    ),
    pytest.param(
        _numeric_ids(_long(["sales"], id_col="store")),
        {**PANEL, "id_col": "store", "targets": ["sales", "store"]},
        ["the target 'store' is named as the frame's id column"], id="panel-targets-id",
    ),
    pytest.param(
        _long(["y"], id_col="y-lo-80"), {**PANEL, "id_col": "y-lo-80"},
        ["the id column 'y-lo-80' is named as an interval's lower bound predict adds for the "
         "target 'y'"], id="panel-one-target-id",
    ),
    pytest.param(
        _long(["sales", "returns"], time_col="returns-q-0.5"),
        {**PANEL, "time_col": "returns-q-0.5", "targets": ["sales", "returns"]},
        ["the time column 'returns-q-0.5' is named as a quantile"], id="panel-targets-time",
    ),
    pytest.param(
        _long(["y"], id_col="y-hi-95"), {"mode": "joint", "id_col": "y-hi-95"},
        ["the id column 'y-hi-95' is named as an interval's upper bound"], id="joint-long-id",
    ),
    pytest.param(
        _long(["v"], time_col="v-q-0.1"), {"mode": "joint", "time_col": "v-q-0.1",
                                           "target_col": "v"},
        ["the time column 'v-q-0.1' is named as a quantile predict adds for the target 'v'"],
        id="joint-long-time",
    ),
    pytest.param(
        _wide(["a", "a-lo-80"]), {},
        ["the variate 'a-lo-80' is named as an interval's lower bound"], id="wide-variates",
    ),
    pytest.param(
        _wide(["a", "b", "a-q-0.9"]),
        {"targets": ["a", "a-q-0.9"], "past_covariates": ["b"]},
        ["the variate 'a-q-0.9' is named as a quantile predict adds for the target 'a'"],
        id="wide-named-targets",
    ),
    pytest.param(
        _wide(["a", "b"], date="a-hi-90"), {"date_col": "a-hi-90"},
        ["the date column 'a-hi-90' is named as an interval's upper bound"], id="wide-date",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "params", "named"), CLASHES)
def test_fit_refuses_a_column_named_as_a_generated_one_before_training(
    no_training, frame, params, named
):
    with pytest.raises(InputError) as err:
        Forecaster(**{**SETTINGS, **params}).fit(frame)
    said = str(err.value)
    for part in named:
        assert part in said
    assert "one overwriting the other; rename" in said and "df.rename(columns={" in said


def test_the_message_names_the_clash_and_the_rename(no_training):
    frame = _long(["sales", "sales-lo-80"])
    with pytest.raises(InputError) as err:
        Forecaster(**SETTINGS, **PANEL, targets=["sales", "sales-lo-80"]).fit(frame)
    assert str(err.value) == (
        "the target 'sales-lo-80' is named as an interval's lower bound predict adds for the "
        "target 'sales': the forecasts would hold two columns of that name (['sales-lo-80']), "
        "one overwriting the other; rename it in the frame (e.g. df.rename(columns="
        "{'sales-lo-80': 'sales_lo_80'})) and pass the new name where you name it "
        "(targets=[...], target_col=..., id_col=..., time_col=...)"
    )


def test_names_no_forecast_generates_are_kept():
    """A covariate named as a bound (no forecast holds covariates), a target named as
    another frame's id or time column, and a name that only starts like a bound fit, and
    every forecast column comes out once."""
    frame = _long(["sales", "unique_id", "sales-hi-90", "sales-lo-x"], id_col="store")
    est = Forecaster(
        **SETTINGS, **PANEL, id_col="store", targets=["sales", "unique_id", "sales-lo-x"],
        past_covariates=["sales-hi-90"], val_size=20, conformal_windows=10, conformal_step=1,
    ).fit(frame)  # fmt: skip
    forecast = est.predict(level=[80, 90], quantiles=[0.1])
    columns = list(forecast.columns)
    assert len(columns) == len(set(columns)) and columns[:3] == ["store", "ds", "sales"]
    assert "sales-hi-90" in columns and "unique_id" in columns and "sales-lo-x" in columns
    _, windows = est.evaluate(frame, return_forecasts=True)
    assert len(set(windows.columns)) == len(windows.columns)
