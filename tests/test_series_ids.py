"""Polars id types (Enum, Categorical, Decimal, Date, Datetime, Float) survive fit, save, load
and predict; models saved before their types were described still load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
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
