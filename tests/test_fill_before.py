"""A look-back that starts inside a run of missing values (``missing="mask"``) is filled
with the last value observed before it, as training filled the whole series: ``predict``
from a frame, from the fitted history, after ``load``, ``backtest`` and ``evaluate`` give
one forecast for one window, and it is the command line's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.data.values import carried_forward, fill_forward, last_observed

LOOKBACK, HORIZON = 24, 8


def test_fill_helpers_carry_the_last_observation_in():
    values = np.array([[1.0, np.nan], [np.nan, np.nan], [np.nan, 2.0]])
    assert np.array_equal(last_observed(values[:2]), [1.0, np.nan], equal_nan=True)
    assert np.array_equal(carried_forward(values)[1], [1.0, np.nan], equal_nan=True)
    filled = fill_forward(values[1:], before=last_observed(values[:1]))
    assert filled.tolist() == [[1.0, 0.0], [1.0, 2.0]]  # 0 where nothing came before


@pytest.fixture(scope="module")
def gappy() -> pd.DataFrame:
    n = 200
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2022-01-01", periods=n, freq="h"),
            "a": 5 + np.sin(np.arange(n) / 4),
            "b": np.cos(np.arange(n) / 6),
        }
    )
    frame.loc[100:111, "a"] = np.nan  # a look-back starting at row 104 begins inside the gap
    return frame


def test_a_window_starting_in_a_gap_is_forecast_alike_everywhere(gappy, tmp_path):
    est = Forecaster(horizon=HORIZON, lookback=LOOKBACK, missing="mask", **TINY_IT).fit(gappy)
    _, windows = est.evaluate(gappy, return_forecasts=True)
    cutoff = gappy.date.iloc[127]  # look-back rows 104..127
    scored = windows[windows.cutoff == cutoff].pivot(
        index="date", columns="unique_id", values="forecast"
    )
    predicted = est.predict(gappy.iloc[:128]).set_index("date")
    np.testing.assert_allclose(predicted[["a", "b"]], scored[["a", "b"]], rtol=1e-5, atol=1e-6)

    short = Forecaster(horizon=HORIZON, lookback=LOOKBACK, missing="mask", **TINY_IT)
    short.fit(gappy.iloc[:128])  # its history's look-back starts inside the gap
    assert short.history_.before[0] == gappy.a.iloc[99]
    expected = short.predict(gappy.iloc[:128])
    pd.testing.assert_frame_equal(short.predict(), expected)
    again = Forecaster.load(short.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(again.predict(), expected)
    folds = short.backtest(gappy.iloc[:136], n_windows=1)  # look-back rows 104..127 again
    backtested = folds.forecasts[folds.forecasts.unique_id == "a"].forecast
    np.testing.assert_allclose(backtested, expected.a, rtol=1e-5, atol=1e-6)


def test_a_panel_window_starting_in_a_gap_is_forecast_alike_everywhere(tmp_path):
    panel = panel_frame(lengths=(120, 90), categories=("a", "b"))[["unique_id", "ds", "y"]]
    panel.loc[50:61, "y"] = np.nan  # series s0, rows 50..61
    est = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", missing="mask", **TINY_IT
    ).fit(panel)
    _, windows = est.evaluate(panel, return_forecasts=True)
    s0 = panel[panel.unique_id == "s0"]
    cutoff = s0.ds.iloc[54 + LOOKBACK - 1]  # look-back rows 54..77 of s0
    scored = windows[(windows.unique_id == "s0") & (windows.cutoff == cutoff)].forecast
    history = s0.iloc[: 54 + LOOKBACK]
    seen = []
    hook = est.module_.model.register_forward_pre_hook(
        lambda _, args, kwargs: seen.append(kwargs["x"].clone()), with_kwargs=True
    )
    predicted = est.predict(history)
    hook.remove()
    np.testing.assert_allclose(predicted.y, scored, rtol=1e-5, atol=1e-6)
    carried = (s0.y.iloc[49] - est.series_mean_[0, 0]) / est.series_std_[0, 0]
    assert seen[0][0, 0, 0].item() == pytest.approx(carried, rel=1e-5)  # as training filled it

    short = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", missing="mask", **TINY_IT
    ).fit(pd.concat([history, panel[panel.unique_id == "s1"]]))
    assert short.history_.before[0, 0] == s0.y.iloc[49]
    expected = short.predict(pd.concat([history, panel[panel.unique_id == "s1"]]))
    pd.testing.assert_frame_equal(short.predict(), expected)
    again = Forecaster.load(short.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(again.predict(), expected)


def test_a_model_saved_without_the_values_before_its_look_back_says_so(gappy, tmp_path):
    short = Forecaster(horizon=HORIZON, lookback=LOOKBACK, missing="mask", **TINY_IT)
    path = short.fit(gappy.iloc[:128]).save(tmp_path / "m")
    saved = torch.load(path / "history.pt", weights_only=True)
    torch.save({k: v for k, v in saved.items() if k != "before"}, path / "history.pt")
    with pytest.warns(UserWarning, match="saved by an earlier tsfm.*predict from a frame"):
        old = Forecaster.load(path)
    assert old.history_.before is None and np.isfinite(old.predict().a).all()
