"""Frames tsfm does not read as given, refused with the fix: ids and times in a
``MultiIndex`` (``df.reset_index()``), a polars ``LazyFrame`` (``.collect()``, before polars
warns of resolving its columns), tuples as ids (joined into text, not ``pd.to_numeric``)."""

from __future__ import annotations

import re
import warnings

import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import InputError


def test_ids_and_times_in_a_multi_index_are_refused_with_reset_index():
    long = to_long(synthetic_frame(80, 2))
    for index in (["unique_id", "ds"], ["ds", "unique_id"]):
        with pytest.raises(InputError, match=re.escape(f"holds {index} in its index")) as refused:
            tiny().fit(long.set_index(index))
        assert str(refused.value).endswith("make them columns: df.reset_index()")
    assert tiny().fit(long.set_index("ds")).columns_ == [
        "OT",
        "v0",
    ]  # a time index: read (ids sorted)


def test_a_lazy_frame_is_refused_with_collect_before_its_columns_are_read():
    lazy = pl.from_pandas(synthetic_frame(80, 2)).lazy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # polars' PerformanceWarning on lazy.columns
        with pytest.raises(InputError, match=r"LazyFrame.*df.collect\(\)"):
            tiny().fit(lazy)
        with pytest.raises(InputError, match=r"val_df is a polars LazyFrame.*val_df.collect"):
            tiny().fit(synthetic_frame(80, 2), val_df=lazy)


def test_tuple_ids_are_refused_with_a_join_not_to_numeric():
    long = to_long(synthetic_frame(80, 2))
    long["unique_id"] = long.unique_id.map({"v0": ("a", 1), "OT": ("b", 2)})
    with pytest.raises(InputError, match="holds a tuple at row 0") as refused:
        tiny().fit(long)
    assert "join" in str(refused.value) and "to_numeric" not in str(refused.value)
