"""The horizon's rows appended to the history with an empty target (neuralforecast's habit):
refused by default saying they belong in ``future_df``; under ``missing="mask"`` the forecast
starts after them, with a warning naming the series and how many rows end without a target."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.data.frames import read_frame
from tsfm.training.runtime import MachineWarning

HORIZON, LOOKBACK, N_ROWS = 8, 24, 120


def long_frame(n: int = N_ROWS) -> pd.DataFrame:
    """Two hourly series sharing their dates, each with a covariate known ahead."""
    parts = []
    for i, series in enumerate(["b", "a"]):
        k = np.arange(n)
        parts.append(
            pd.DataFrame({
                "unique_id": series,
                "ds": pd.date_range("2021-01-01", periods=n, freq="h"),
                "y": np.sin(2 * np.pi * k / 24 + i) + 0.1 * np.cos(k / 5) + i,
                "x": np.cos(2 * np.pi * k / 24 + i),
            })
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def split(frame: pd.DataFrame, rows: int = HORIZON) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The history and the last ``rows`` rows of each series (without their target)."""
    last = frame.groupby("unique_id").cumcount(ascending=False) < rows
    return frame[~last], frame[last].drop(columns="y")


def appended(history: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([history, future.assign(y=np.nan)]).sort_values(["unique_id", "ds"])


def test_horizon_rows_in_the_history_are_refused_naming_where_they_belong():
    history, future = split(long_frame())
    withnan = appended(history, future)
    expected = "last rows of series 'a' \\(8 rows from 2021-01-05 16:00:00\\), 'b' \\(8 rows"
    with pytest.raises(ValueError, match=expected):
        read_frame(withnan)
    for mode in ("joint", "independent"):  # refused as the frame is read, before training
        model = Forecaster(horizon=HORIZON, lookback=LOOKBACK, mode=mode, **TINY_IT)
        with pytest.raises(ValueError) as refused:
            model.fit(withnan)
        message = str(refused.value)
        assert "'b' (8 rows" in message and "'a' (8 rows" in message
        assert message.index("belong in future_df") < message.index("missing='mask'")
    one = withnan[~((withnan.unique_id == "a") & withnan.y.isna())]  # 'a' ends observed
    with pytest.raises(ValueError, match="series 'b' \\(8 rows from [^)]*\\) \\("):
        read_frame(one)
    hole = long_frame()
    hole.loc[5, "y"] = np.nan  # a missing value inside the history: the usual refusal
    with pytest.raises(ValueError, match="has a NaN/missing value at row 5") as refused:
        read_frame(hole)
    assert "future_df" not in str(refused.value)


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_under_mask_a_frame_ending_without_targets_is_forecast_after_it_with_a_warning(mode):
    frame = long_frame()
    train, _ = split(frame, 2 * HORIZON)
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode=mode, future_covariates=["x"], missing="mask",
        **TINY_IT,
    ).fit(train)  # fmt: skip
    history, future = split(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a history that ends observed: no warning
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*(LeafSpec|does not have many workers)")
        warnings.simplefilter("ignore", MachineWarning)  # a busy machine's advice is not one
        model.predict(history, future_df=future)
    after = future.assign(ds=future.ds + pd.Timedelta(hours=HORIZON))  # the rows after them
    with pytest.warns(UserWarning, match="end without a target value") as caught:
        forecast = model.predict(appended(history, future), future_df=after)
    message = next(str(w.message) for w in caught if "end without" in str(w.message))
    assert "'a' (its last 8 rows)" in message and "'b' (its last 8 rows)" in message
    assert "forecast starts after" in message and "belong in future_df" in message
    if mode == "joint":
        assert "(2021-01-05 23:00:00)" in message  # the frame's last row
    assert caught[0].filename == __file__
    assert forecast.ds.min() == frame.ds.max() + pd.Timedelta(hours=1)
    one = appended(history, future.iloc[:0])
    one.loc[one.groupby("unique_id").tail(1).index[0], "y"] = np.nan  # 'a''s last value only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.predict(one, future_df=future)
    warned = [str(w.message) for w in caught if "end without" in str(w.message)]
    if mode == "joint":  # one value of the last step missing: a masked value, no horizon row
        assert not warned
    else:  # a panel series' own last row
        assert len(warned) == 1 and "series 'a' (its last row) end without" in warned[0]


def wide_frame(n: int = N_ROWS) -> pd.DataFrame:
    """A target and a covariate known ahead, hourly, in one wide frame."""
    k = np.arange(n)
    return pd.DataFrame({
        "date": pd.date_range("2021-01-01", periods=n, freq="h"),
        "load": np.cos(2 * np.pi * k / 24),
        "price": np.sin(2 * np.pi * k / 24) + 0.1 * np.cos(k / 5),
    })  # fmt: skip


def test_a_wide_frames_horizon_rows_are_refused_naming_where_they_belong():
    frame = wide_frame()
    roles = {"targets": ["price"], "future_covariates": ["load"]}
    model = Forecaster(horizon=HORIZON, lookback=LOOKBACK, **roles, **TINY_IT)
    withnan = frame.assign(price=frame.price.where(frame.index < N_ROWS - HORIZON))
    expected = (
        "target column\\(s\\) \\['price'\\] have no value in the last 8 rows of the frame "
        "\\(from row 112, 2021-01-05 16:00:00\\), where the covariates have values: rows of "
        "the forecast horizon belong in future_df .* If those rows are history, fill"
    )
    with pytest.raises(ValueError, match=expected):
        model.fit(withnan)  # refused as the frame is read
    model.fit(frame[: N_ROWS - HORIZON])
    with pytest.raises(ValueError, match=expected):
        model.predict(withnan)
    hole = frame.copy()
    hole.loc[5, "price"] = np.nan  # inside the history: the usual refusal
    with pytest.raises(ValueError, match="has a NaN/missing value at row 5") as refused:
        model.predict(hole)
    assert "future_df" not in str(refused.value)
    empty = withnan.assign(load=withnan.load.where(withnan.price.notna()))  # whole rows empty
    with pytest.raises(ValueError, match="NaN/missing value at row 112"):
        model.predict(empty)


def test_under_features_ms_the_other_columns_are_covariates_the_horizon_rows_advice_names():
    frame = wide_frame()
    withnan = frame.assign(price=frame.price.where(frame.index < N_ROWS - HORIZON))
    advice = "target column\\(s\\) \\['price'\\] have no value in the last 8 rows .* future_df"
    for roles in ({"targets": ["price"]}, {}):  # price: named, or the last column
        model = Forecaster(horizon=HORIZON, lookback=LOOKBACK, **roles, **TINY_IT)
        with pytest.raises(ValueError, match=advice):
            model.set_params(data__features="MS").fit(withnan[["date", "load", "price"]])
    with pytest.raises(ValueError, match="column 'price' has a NaN/missing value at row 112"):
        Forecaster(horizon=HORIZON, lookback=LOOKBACK, **TINY_IT).fit(withnan)  # M: all targets


def test_joint_mask_warns_when_one_series_ends_in_horizon_rows_with_its_covariates_filled():
    frame = long_frame()
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, future_covariates=["x"], missing="mask", **TINY_IT
    ).fit(split(frame, 2 * HORIZON)[0])  # fmt: skip
    history, future = split(frame)

    def warned(df: pd.DataFrame, future_df: pd.DataFrame = future) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.predict(df, future_df=future_df)
        return [str(w.message) for w in caught if "end without" in str(w.message)]

    is_a = history.unique_id == "a"
    a_rows = appended(history[is_a], future[future.unique_id == "a"])  # 'b' ends observed
    after = future.assign(ds=future.ds + pd.Timedelta(hours=HORIZON))
    [message] = warned(pd.concat([frame[frame.unique_id == "b"], a_rows]), after)
    assert "series 'a' (its last 8 rows) end without a target" in message
    assert "'b'" not in message and "belong in future_df" in message
    few = history.copy()  # 'a''s last 3 targets masked, 'b' observed: ordinary sparse masking
    few.loc[few.index[is_a][-3:], "y"] = np.nan
    assert not warned(few)
    early = history[~is_a | (history.ds <= history.ds.max() - pd.Timedelta(hours=HORIZON))]
    assert not warned(early)  # 'a''s last rows absent: warned about as the frame is read
