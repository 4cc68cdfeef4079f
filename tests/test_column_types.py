"""The id and time columns' types (tsfm/data/frames/column_types.py, id_types.py): described in
JSON and built again without running code, timestamps a type cannot hold refused rather than
truncated, second-resolution times read, and ids of another kind than the fitted refused."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from tsfm.data.frames import Layout, read_frame, time_series
from tsfm.data.frames.column_types import (
    pandas_description,
    pandas_type,
    polars_description,
    polars_type,
)
from tsfm.data.frames.id_types import loaded_ids, saved_ids
from tsfm.data.frames.write import finish_frame

POLARS_TYPES = [
    pl.Enum(["b", "a", "z"]),
    pl.Categorical(),
    pl.Decimal(10, 2),
    pl.Datetime("ms", "Europe/Paris"),
    pl.Date(),
    pl.UInt8(),
    pl.Float64(),
    pl.String(),
]
PANDAS_TYPES = [
    pd.CategoricalDtype(["s9", "s2", "s1"]),
    pd.CategoricalDtype([3, 1, 7], ordered=True),
    pd.StringDtype("pyarrow"),
    pd.StringDtype("python", na_value=np.nan),
    pd.Int64Dtype(),
    np.dtype("int16"),
    np.dtype(object),
    np.dtype("datetime64[s]"),
    pd.DatetimeTZDtype("s", "Europe/Paris"),
    pd.ArrowDtype(pa.timestamp("s")),
    pd.ArrowDtype(pa.timestamp("ns", "UTC")),
    pd.ArrowDtype(pa.date32()),
    pd.ArrowDtype(pa.string()),
    pd.ArrowDtype(pa.decimal128(10, 2)),
    pd.PeriodDtype("Q-DEC"),
]


@pytest.mark.parametrize("dtype", POLARS_TYPES, ids=str)
def test_a_polars_type_is_described_in_json_and_built_again(dtype):
    description = json.loads(json.dumps(polars_description(dtype)))
    assert polars_type(description) == dtype


@pytest.mark.parametrize("dtype", PANDAS_TYPES, ids=str)
def test_a_pandas_type_is_described_in_json_and_built_again(dtype):
    description = json.loads(json.dumps(pandas_description(dtype)))
    rebuilt = pandas_type(description)
    assert rebuilt == dtype and repr(rebuilt) == repr(dtype)  # storage and order too


def test_descriptions_name_types_only_and_plain_names_of_earlier_saves_still_read():
    assert polars_type("Int64") is pl.Int64 and polars_type("Categorical") is pl.Categorical
    for bad in ("read_csv", {"name": "Enum", "categories": [1]}, {"name": "os.system"}):
        with pytest.raises(ValueError, match="polars"):
            polars_type(bad)
    for bad in ({"name": "eval"}, {"name": "arrow", "type": "timestamp", "unit": "h", "tz": None}):
        with pytest.raises(ValueError, match="does not describe"):
            pandas_type(bad)


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (["0.25", "0.10", "7.50"], pl.Decimal(10, 2)),
        ([18000, 18001, 19000], pl.Date()),
        ([0, 3_600_000_001, -5], pl.Datetime("us", "Europe/Paris")),
        ([0.25, 0.1, 7.5], pl.Float64()),
    ],
    ids=str,
)
def test_ids_json_cannot_hold_are_saved_exactly_and_read_back_in_their_type(values, dtype):
    ids = pl.Series(values).cast(dtype).to_list()
    description = polars_description(dtype)
    stored = json.loads(json.dumps(saved_ids(ids, description)))
    assert loaded_ids(stored, description) == ids


def test_a_timestamp_the_time_type_cannot_hold_is_refused_not_truncated():
    noon = np.array(["2020-01-01T00", "2020-01-01T12"], dtype="datetime64[ns]")
    with pytest.raises(
        ValueError, match=r"'day' is a date \(Date\), which holds dates only.*12:00"
    ):
        time_series("day", noon, {"kind": "date"})
    fine = np.array(["2020-01-01T00:00:00.000001"], dtype="datetime64[ns]")
    with pytest.raises(ValueError, match="holds whole milliseconds only.*00:00:00.000001"):
        time_series("ds", fine, {"kind": "datetime", "unit": "ms", "tz": None})
    seconds = Layout("wide", "pandas", "ds", pandas_types={"time": {"name": "datetime64[s]"}})
    frame = pl.DataFrame({"ds": np.array(["2020-01-01T00:00:00.5"], dtype="datetime64[ms]")})
    with pytest.raises(ValueError, match=r"'ds' is datetime64\[s\], which holds whole seconds"):
        finish_frame(frame, seconds)
    whole = pl.DataFrame({"ds": np.array(["2020-01-01T00:00:01"], dtype="datetime64[ms]")})
    assert finish_frame(whole, seconds).ds.dtype == "datetime64[s]"


def test_an_id_the_id_type_cannot_hold_is_refused_not_rounded():
    scale_1 = polars_description(pl.Decimal(10, 1))  # polars' own cast would give 0.2
    layout = Layout("long", "polars", "ds", "unique_id", "y", id_dtype=scale_1)
    with pytest.raises(ValueError, match=r"Decimal\(precision=10, scale=1\), which cannot hold"):
        finish_frame(pl.DataFrame({"unique_id": [Decimal("0.25")]}), layout)
    exact = finish_frame(pl.DataFrame({"unique_id": [Decimal("0.50")]}), layout)["unique_id"]
    assert exact.dtype == pl.Decimal(10, 1) and exact[0] == Decimal("0.5")
    narrow = Layout(
        "long", "pandas", "ds", "unique_id", "y", pandas_types={"id": {"name": "int16"}}
    )
    with pytest.raises(ValueError, match="int16, which cannot hold .*70000"):
        finish_frame(pl.DataFrame({"unique_id": [70000, 1]}), narrow)  # NumPy would wrap it


def test_time_columns_in_seconds_are_read_and_their_type_kept():
    dates = pd.date_range("2020-01-01", periods=6, freq="h", unit="s")
    frame = pd.DataFrame({"date": dates, "x": np.arange(6.0)})
    for given in (frame, frame.set_index("date"), frame.assign(date=dates.tz_localize("UTC"))):
        table = read_frame(given)
        assert (table.times == dates.tz_localize(None).to_numpy()).all()
        assert pandas_type(table.layout.pandas_types["time"]) == given.reset_index().date.dtype


def test_ids_of_another_kind_than_the_fitted_are_refused_naming_both_types_and_the_cast():
    long = pd.DataFrame(
        {"unique_id": np.repeat([1, 2], 4), "ds": np.tile(np.arange(4), 2), "y": np.arange(8.0)}
    )
    fitted = read_frame(long).layout
    with pytest.raises(ValueError) as refused:
        read_frame(long.assign(unique_id=long.unique_id.astype(str)), fitted=fitted)
    message = str(refused.value)
    assert "are str (text) but the fitted ids are int64 (integer)" in message
    assert "df['unique_id'] = df['unique_id'].astype('int64')" in message
    with pytest.raises(
        ValueError, match=r"Float64 \(float\).*pl.col\('unique_id'\).cast\(pl.Int64"
    ):
        read_frame(pl.from_pandas(long.assign(unique_id=long.unique_id * 1.0)), fitted=fitted)
    same = read_frame(long.assign(unique_id=long.unique_id.astype("Int16")), fitted=fitted)
    assert same.columns == read_frame(long).columns == [1, 2]  # matched by value
