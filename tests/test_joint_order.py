"""A joint fit of a long frame puts its series in id order, as an independent one does (README,
"Panels"): the order of the frame's rows changes nothing it learns, bit for bit. A model
fitted before that (its columns in its frame's order) keeps its order when loaded and when a
warm fit trains it further."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsfm.data.frames.read as frame_reading
from tests.test_covariates import TINY_IT
from tsfm import Forecaster

HORIZON, LOOKBACK = 6, 24


def _panel(n: int = 120) -> pd.DataFrame:
    """Three hourly series on shared dates with a future covariate, the rows series after
    series in the order c, a, b."""
    k = np.arange(n)
    parts = [
        pd.DataFrame({
            "unique_id": series,
            "ds": pd.date_range("2021-01-01", periods=n, freq="h"),
            "y": np.sin(2 * np.pi * k / 24 + i) + 0.1 * np.cos(k / 5) + 2 * i,
            "x": np.cos(2 * np.pi * k / 24 + i),
        })
        for i, series in enumerate(["c", "a", "b"])
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _fit(frame: pd.DataFrame, **extra) -> Forecaster:
    return Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, future_covariates=["x"], **{**TINY_IT, **extra}
    ).fit(frame)


def _future(model: Forecaster) -> pd.DataFrame:
    future = model.make_future_dataframe()
    return future.assign(x=np.linspace(-1.0, 1.0, len(future)))


def test_the_order_of_a_joint_frames_rows_changes_nothing_the_model_learns():
    frame = _panel()
    by_id = _fit(frame.sort_values(["unique_id", "ds"]))
    assert by_id.columns_ == ["a", "b", "c"]
    expected = by_id.predict(future_df=_future(by_id))
    assert expected.unique_id.unique().tolist() == ["a", "b", "c"]  # predict(): in id order
    reordered = {
        "series c, a, b": frame,
        "shuffled": frame.sample(frac=1.0, random_state=0),
        "by time, ids descending": frame.sort_values(["ds", "unique_id"], ascending=[True, False]),
    }
    for name, rows in reordered.items():
        model = _fit(rows)
        assert model.columns_ == ["a", "b", "c"], name
        assert model.input_columns_ == ["a", "b", "c", "x[a]", "x[b]", "x[c]"], name
        np.testing.assert_array_equal(model.scaler_.mean, by_id.scaler_.mean)
        pd.testing.assert_frame_equal(model.predict(future_df=_future(model)), expected)
    first_seen = model.predict(frame, future_df=_future(model))  # predict(df): df's order
    assert first_seen.unique_id.unique().tolist() == ["c", "a", "b"]


def test_a_joint_val_df_may_hold_its_series_in_another_order():
    frame = _panel()
    last = frame.groupby("unique_id").cumcount(ascending=False) < 2 * HORIZON
    val = frame[last].sort_values(["unique_id", "ds"])  # a, b, c; df's rows: c, a, b
    model = _fit(frame[~last], val_size=None, max_epochs=1).fit(frame[~last], val_df=val)
    assert model.columns_ == ["a", "b", "c"]


@pytest.fixture
def unsorted_model(tmp_path, monkeypatch):
    """A joint model saved as fits saved them before they sorted their series (columns in the
    frame's order: c, a, b), and its forecast."""
    monkeypatch.setattr(frame_reading, "sorted_by_id", lambda long, fitted=None: long)
    model = _fit(_panel(), max_epochs=1)
    assert model.columns_ == ["c", "a", "b"]
    path = model.save(tmp_path / "model")
    monkeypatch.undo()
    return path, model.predict(future_df=_future(model))


def test_a_model_fitted_before_the_sort_keeps_its_order_loaded_and_warm(unsorted_model):
    path, forecast = unsorted_model
    loaded = Forecaster.load(path)
    assert loaded.columns_ == ["c", "a", "b"]
    pd.testing.assert_frame_equal(loaded.predict(future_df=_future(loaded)), forecast)
    by_id = _panel().sort_values(["unique_id", "ds"])  # a warm fit on rows in id order
    loaded.set_params(warm_start=True, max_epochs=1).fit(by_id)
    assert loaded.columns_ == ["c", "a", "b"]
    assert loaded.input_columns_ == ["c", "a", "b", "x[c]", "x[a]", "x[b]"]
    assert loaded.predict(future_df=_future(loaded)).unique_id.unique().tolist() == ["c", "a", "b"]
