"""A series is its id's value: polars id types (Enum, Categorical, Decimal, Date, Datetime,
Float) survive fit, save, load and predict; ids of another kind than the fitted ones are
refused wherever a frame meets a fitted model; within a kind, ids match by value."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

ID_TYPES = {  # (the three series' ids as text, how polars makes them the type)
    "enum": (["c", "b", "a"], pl.col("unique_id").cast(pl.Enum(["z", "a", "b", "c"]))),
    "categorical": (["c", "b", "a"], pl.col("unique_id").cast(pl.Categorical)),
    "decimal": (["0.25", "1.50", "12.00"], pl.col("unique_id").cast(pl.Decimal(10, 2))),
    "date": (["2020-01-02", "2020-01-01", "2021-06-30"], pl.col("unique_id").str.to_date()),
    "datetime": (
        ["2020-03-29 01:00", "2020-03-29 03:00", "2020-10-25 02:30"],
        pl.col("unique_id")
        .str.to_datetime()
        .dt.replace_time_zone("Europe/Paris", ambiguous="earliest"),
    ),
    "float": (["0.25", "1.5", "-3.0"], pl.col("unique_id").cast(pl.Float64)),
}


def _long(ids: list) -> pd.DataFrame:
    frame = to_long(synthetic_frame(64, 3))
    return frame.assign(
        unique_id=frame.unique_id.map(dict(zip(["v0", "v1", "OT"], ids, strict=True)))
    )


@pytest.mark.parametrize("mode", ["joint", "independent"])
@pytest.mark.parametrize("kind", list(ID_TYPES))
def test_polars_id_types_survive_fit_save_load_and_predict(kind, mode, tmp_path):
    ids, typed = ID_TYPES[kind]
    frame = pl.from_pandas(_long(ids)).with_columns(typed)
    est = tiny(mode=mode).fit(frame)
    forecast = est.predict()
    assert forecast.schema["unique_id"] == frame.schema["unique_id"]
    assert set(forecast["unique_id"].to_list()) == set(frame["unique_id"].to_list())
    est.save(tmp_path / "model")
    saved = json.loads((tmp_path / "model" / "forecaster.json").read_text())
    assert isinstance(saved["layout"]["id_dtype"], dict)  # a description, not code
    loaded = Forecaster.load(tmp_path / "model")
    assert loaded.predict().equals(forecast) and loaded.predict().schema == forecast.schema
    assert loaded.predict(frame).equals(est.predict(frame))


def test_a_model_saved_with_a_plain_id_type_name_and_no_pandas_types_still_loads(tmp_path):
    frame = _long(["s0", "s1", "s2"])
    est = tiny(mode="independent").fit(frame)
    est.save(tmp_path / "model")
    path = tmp_path / "model" / "forecaster.json"
    meta = json.loads(path.read_text())
    meta["layout"]["id_dtype"] = "String"  # as saved before id types were described
    meta["layout"].pop("pandas_types", None)
    path.write_text(json.dumps(meta))
    forecast = Forecaster.load(tmp_path / "model").predict()
    np.testing.assert_array_equal(forecast.y.to_numpy(), est.predict().y.to_numpy())
    assert forecast.unique_id.tolist() == est.predict().unique_id.tolist()


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_ids_of_another_kind_than_the_fitted_are_refused_wherever_a_frame_is_given(mode):
    frame = _long([1, 2, 3])
    est = tiny(mode=mode).fit(frame[frame.ds < frame.ds.iloc[40]])
    for other, given in ((frame.astype({"unique_id": str}), r"str \(text\)"),
                         (frame.astype({"unique_id": float}), r"float64 \(float\)")):  # fmt: skip
        message = rf"are {given} but the fitted ids are int64 \(integer\).*astype\('int64'\)"
        for call in ("predict", "evaluate", "backtest", "make_future_dataframe"):
            with pytest.raises(ValueError, match=message):
                getattr(est, call)(other)
    narrow = frame.astype({"unique_id": "Int16"})  # another width: the same series
    forecast = est.predict(narrow)
    assert forecast.unique_id.dtype == "Int16"
    np.testing.assert_array_equal(forecast.y.to_numpy(), est.predict(frame).y.to_numpy())


def test_future_df_and_static_df_ids_of_another_kind_are_refused():
    panel = panel_frame().assign(unique_id=lambda d: d.unique_id.str[1:].astype(int))
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"],
        static_covariates=["store"], **TINY_IT,
    ).fit(panel)  # fmt: skip
    future = est.make_future_dataframe().assign(promo=0.0)
    recent, statics = panel.drop(columns="store"), panel.groupby("unique_id").store.first()
    statics = statics.reset_index()
    with pytest.raises(ValueError, match=r"future_df's ids \('unique_id'\) are str \(text\)"):
        est.predict(recent, future_df=future.astype({"unique_id": str}))
    with pytest.raises(ValueError, match=r"static_df's ids .* are float64 \(float\) but df's ids"):
        est.predict(recent, future_df=future, static_df=statics.astype({"unique_id": float}))
    with pytest.raises(
        ValueError, match=r"static_df's ids .* are float64 \(float\) but the frame's"
    ):
        est.cross_validate(
            recent, n_windows=1, static_df=statics.astype({"unique_id": float})
        )  # (a float 1.0 was joined to the series 1 before)
    given = est.predict(recent, future_df=future, static_df=statics.astype({"unique_id": "Int8"}))
    pd.testing.assert_frame_equal(given, est.predict(panel, future_df=future))


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_ids_are_matched_by_value_not_by_how_they_print(mode):
    """Decimal 0.5 of scale 1 is the fitted 0.50 of scale 2 (text '0.5' and '0.50'): the same
    series, scaled, given its statics and forecast as fitted; its type as given."""
    frame = pl.from_pandas(_long(["0.50", "1.50", "12.00"]).assign(store=lambda d: d.unique_id))
    statics = {"static_covariates": ["store"]}
    est = tiny(mode=mode, **statics).fit(
        frame.with_columns(pl.col("unique_id").cast(pl.Decimal(10, 2)))
    )
    fitted = est.predict(frame.with_columns(pl.col("unique_id").cast(pl.Decimal(10, 2))))
    coarse = frame.with_columns(pl.col("unique_id").cast(pl.Decimal(10, 1))).drop("store")
    forecast = est.predict(coarse)  # no statics given: the fitted series' own are used
    assert forecast.schema["unique_id"] == pl.Decimal(10, 1)
    np.testing.assert_array_equal(forecast["y"].to_numpy(), fitted["y"].to_numpy())
    assert len(forecast) == 3 * HORIZON
