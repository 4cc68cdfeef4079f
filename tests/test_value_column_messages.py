"""The messages for wide and long columns that are not numbers: numbers written as text get
the conversion (not an encoding of labels), a datetime column beside a variate named ``ds``
(taken as the time column by its name) gets ``date_col``."""

from __future__ import annotations

import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import InputError


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_a_variate_named_ds_beside_a_datetime_column_suggests_date_col(library):
    frame = synthetic_frame(80, 3).rename(columns={"OT": "ds"})
    frame = pl.from_pandas(frame) if library == "polars" else frame
    with pytest.raises(InputError, match=r"column 'date' holds timestamps.*date_col='date'"):
        tiny().fit(frame)
    assert tiny(date_col="date").fit(frame).columns_ == ["v0", "v1", "ds"]


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_numbers_written_as_text_are_refused_with_the_conversion(library):
    frame = synthetic_frame(80, 2)
    frame["OT"] = frame.OT.map(repr)
    fix = {"pandas": "pd.to_numeric(df['OT'])", "polars": "pl.col('OT').cast(pl.Float64)"}
    given = pl.from_pandas(frame) if library == "polars" else frame
    with pytest.raises(InputError, match="'OT' holds numbers written as text") as refused:
        tiny().fit(given)
    assert fix[library] in str(refused.value) and "get_dummies" not in str(refused.value)
    long = to_long(frame.assign(OT=frame.OT.astype(float))).astype({"y": str})
    with pytest.raises(InputError, match=r"target column 'y' holds numbers written as text"):
        tiny().fit(long)
