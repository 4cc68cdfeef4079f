"""The id column's type (tsfm/data/frames/column_types.py, id_types.py): described in JSON and
built again without running code, ids saved exactly, and an id its type cannot hold refused
rather than rounded."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest

from tsfm.data.frames import Layout
from tsfm.data.frames.column_types import polars_description, polars_type
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


@pytest.mark.parametrize("dtype", POLARS_TYPES, ids=str)
def test_a_polars_type_is_described_in_json_and_built_again(dtype):
    description = json.loads(json.dumps(polars_description(dtype)))
    assert polars_type(description) == dtype


def test_descriptions_name_types_only_and_plain_names_of_earlier_saves_still_read():
    assert polars_type("Int64") is pl.Int64 and polars_type("Categorical") is pl.Categorical
    for bad in ("read_csv", {"name": "Enum", "categories": [1]}, {"name": "os.system"}):
        with pytest.raises(ValueError, match="polars"):
            polars_type(bad)


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


def test_an_id_the_id_type_cannot_hold_is_refused_not_rounded():
    scale_1 = polars_description(pl.Decimal(10, 1))  # polars' own cast would give 0.2
    layout = Layout("long", "polars", "ds", "unique_id", "y", id_dtype=scale_1)
    with pytest.raises(ValueError, match=r"Decimal\(precision=10, scale=1\), which cannot hold"):
        finish_frame(pl.DataFrame({"unique_id": [Decimal("0.25")]}), layout)
    exact = finish_frame(pl.DataFrame({"unique_id": [Decimal("0.50")]}), layout)["unique_id"]
    assert exact.dtype == pl.Decimal(10, 1) and exact[0] == Decimal("0.5")
