"""``predict(steps=n)``: up to the horizon the forecast's first rows; beyond it darts'
auto-regressive rollout, equal bit for bit to forecasting, appending the forecast (with the
covariates of its rows) and forecasting again by hand; what it needs refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT, demand_frame, panel_frame
from tsfm import Forecaster, InputError

H = 8


def by_hand(est, df, future, steps, covariates=("temp", "price"), concat=pd.concat):
    """The rollout written out: blocks H apart, the last ending at ``steps``."""
    starts = [*range(0, steps - H, H), steps - H]
    frame, kept = df, []
    for k, start in enumerate(starts):
        forecast = est.predict(frame, future_df=None if future is None else future[0])
        end = starts[k + 1] if k + 1 < len(starts) else start + H
        block = forecast.iloc[: end - start] if hasattr(forecast, "iloc") else None
        if block is None:  # polars, long: the first rows of each series
            block = forecast.group_by("unique_id", maintain_order=True).head(end - start)
        kept.append(block)
        if future is not None:
            rows = future[1].iloc[start:end].reset_index(drop=True)
            block = block.reset_index(drop=True).assign(**{c: rows[c] for c in covariates})
        frame = concat([frame, block])
    return concat(kept)


@pytest.fixture(scope="module")
def demand():
    df = demand_frame(200)
    est = Forecaster(
        horizon=H, lookback=24, targets=["load"], future_covariates=["temp"],
        past_covariates=["price"], **TINY_IT,
    ).fit(df.iloc[:160])  # fmt: skip
    return est, df


def test_rollout_beyond_the_horizon_equals_forecasting_appending_and_forecasting(demand):
    est, df = demand
    history, after = df.iloc[:160], df.iloc[160:].reset_index(drop=True)
    future = est.make_future_dataframe(history, steps=20)
    assert list(future.columns) == ["date", "temp", "price"] and len(future) == 20
    future[["temp", "price"]] = after[["temp", "price"]].iloc[:20].to_numpy()
    got = est.predict(history, future_df=future, steps=20)
    assert len(got) == 20 and list(got.columns) == ["date", "load"]
    blocks = (future[["date", "temp"]], after)
    expected = by_hand(est, history, blocks, 20).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # from the fitted data (no frame): the same forecast
    pd.testing.assert_frame_equal(est.predict(future_df=future, steps=20), got, check_exact=True)
    # two whole blocks; within the horizon: the forecast's first rows
    assert len(est.predict(history, future_df=future, steps=16)) == 16
    plain = est.predict(history, future_df=future[["date", "temp"]].iloc[:H])
    first = est.predict(history, future_df=future[["date", "temp"]].iloc[:H], steps=3)
    pd.testing.assert_frame_equal(first, plain.iloc[:3], check_exact=True)


def test_what_a_rollout_needs_is_refused_by_name(demand):
    est, df = demand
    history = df.iloc[:160]
    future = est.make_future_dataframe(history, steps=20)
    future[["temp", "price"]] = df[["temp", "price"]].iloc[160:180].to_numpy()
    with pytest.raises(InputError, match=r"future_df has no row for the series at 2021-01-08 "
                       r"10:00:00, 2021-01-08 11:00:00 \(2 of the 20 steps of steps=20 missing\); "
                       r"Forecaster.make_future_dataframe\(steps=20\)"):  # fmt: skip
        est.predict(history, future_df=future.iloc[:18], steps=20)
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['price'\] \(the past "
                       r"covariates over the first steps - horizon = 12 steps"):  # fmt: skip
        est.predict(history, future_df=future.drop(columns="price"), steps=20)
    gap = future.assign(price=future.price.where(future.index != 5))
    with pytest.raises(InputError, match=r"'price' is missing for the series at 2021-01-07 "
                       r"21:00:00 .* past covariates must be known there"):  # fmt: skip
        est.predict(history, future_df=gap, steps=20)
    late = future.assign(price=future.price.where(future.index < 12))  # not read after 12
    est.predict(history, future_df=late, steps=20)
    with pytest.raises(InputError, match=r"not known over the horizon; past covariates only "
                       r"with predict\(steps=\.\.\.\) beyond it"):  # fmt: skip
        est.predict(history, future_df=future.iloc[:H])
    for bad in (0, -3, 2.5, True, "8"):
        with pytest.raises(InputError, match=r"steps must be a positive whole number"):
            est.predict(history, future_df=future, steps=bad)
    with pytest.raises(InputError, match=r"takes no argument 'n' \(darts' name\); in tsfm: "
                       r"predict\(\.\.\., steps=96\)"):  # fmt: skip
        est.predict(history, n=96)


def test_intervals_beyond_the_horizon_are_refused():
    df = demand_frame(160)[["date", "load"]]
    est = Forecaster(horizon=H, lookback=24, loss="quantile", **TINY_IT).fit(df)
    with pytest.raises(InputError, match=r"intervals reach only the horizon \(horizon=8\).* "
                       r"fit a Forecaster with horizon=20"):  # fmt: skip
        est.predict(level=[80], steps=20)
    assert len(est.predict(level=[80], steps=5)) == 5  # within the horizon: the first rows
    assert len(est.predict(steps=20)) == 20


def test_masked_past_covariates_may_be_left_out():
    df = demand_frame(200)
    est = Forecaster(
        horizon=H, lookback=24, targets=["load"], future_covariates=["temp"],
        past_covariates=["price"], missing="mask", **TINY_IT,
    ).fit(df.iloc[:160])  # fmt: skip
    history = df.iloc[:160]
    future = df[["date", "temp"]].iloc[160:180].reset_index(drop=True)
    got = est.predict(history, future_df=future, steps=20)
    unknown = df.iloc[160:180].reset_index(drop=True).assign(price=np.nan)
    expected = by_hand(est, history, (future, unknown), 20).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_independent_panel_rollout_equals_the_one_by_hand():
    frame = panel_frame(lengths=(120, 100), categories=("a", "b"))[
        ["unique_id", "ds", "y", "promo"]
    ]
    est = Forecaster(
        horizon=H, lookback=24, mode="independent", future_covariates=["promo"], **TINY_IT
    ).fit(frame)
    future = est.make_future_dataframe(steps=20)
    future["promo"] = (np.arange(len(future)) % 3 == 0).astype(float)
    got = est.predict(future_df=future, steps=20)
    assert got.groupby("unique_id").size().tolist() == [20, 20]
    frame_got = est.predict(frame, future_df=future, steps=20)
    pd.testing.assert_frame_equal(frame_got, got, check_exact=True)

    starts, current, kept = [0, 8, 12], frame, []
    for k, start in enumerate(starts):
        forecast = est.predict(current, future_df=future)
        end = starts[k + 1] if k + 1 < len(starts) else start + H
        block = forecast.groupby("unique_id").head(end - start)
        kept.append(block)
        block = block.merge(future, on=["unique_id", "ds"])
        current = pd.concat([current, block]).sort_values(["unique_id", "ds"])
    expected = pd.concat(kept).sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_polars_joint_panel_rollout_equals_the_one_by_hand():
    pandas = panel_frame(lengths=(120, 120), categories=("a", "a"))
    pandas["ds"] = pandas.groupby("unique_id").cumcount()  # shared integer steps
    frame = pl.from_pandas(pandas[["unique_id", "ds", "y"]])
    est = Forecaster(horizon=H, lookback=24, **TINY_IT).fit(frame)
    got = est.predict(frame, steps=20)
    assert isinstance(got, pl.DataFrame) and got.height == 40
    expected = by_hand(est, frame, None, 20, concat=pl.concat)
    assert got.sort("unique_id", "ds").equals(expected.sort("unique_id", "ds"))
    assert got.filter(pl.col("unique_id") == "s0")["ds"].to_list() == list(range(120, 140))


def test_joint_long_rollout_reads_each_series_covariates():
    rng = np.random.default_rng(0)
    pandas = panel_frame(lengths=(130, 130), categories=("a", "a"))
    pandas["ds"] = pandas.groupby("unique_id").cumcount()
    pandas["temp"] = rng.normal(size=len(pandas))
    df = pandas.groupby("unique_id").head(110)[["unique_id", "ds", "y", "promo", "temp"]]
    est = Forecaster(
        horizon=H, lookback=24, future_covariates=["promo"], past_covariates=["temp"], **TINY_IT
    ).fit(df)
    layout = est.make_future_dataframe(steps=20)
    assert list(layout.columns) == ["unique_id", "ds", "promo", "temp"] and len(layout) == 40
    rest = pandas[pandas.ds >= 110][["unique_id", "ds", "promo", "temp"]]
    future = layout[["unique_id", "ds"]].merge(rest, on=["unique_id", "ds"])
    got = est.predict(df, future_df=future, steps=20)
    starts, current, kept = [0, 8, 12], df, []
    for k, start in enumerate(starts):
        forecast = est.predict(current, future_df=future[["unique_id", "ds", "promo"]])
        end = starts[k + 1] if k + 1 < len(starts) else start + H
        block = forecast.groupby("unique_id").head(end - start)
        kept.append(block)
        current = pd.concat([current, block.merge(future, on=["unique_id", "ds"])])
        current = current.sort_values(["unique_id", "ds"])
    expected = pd.concat(kept).sort_values(["unique_id", "ds"]).reset_index(drop=True)
    got = got.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
