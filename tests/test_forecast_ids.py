"""forecasts.parquet names a long file's series by their ids in the type they were read in
(integer ids stay integers, text stays text), so the file joins back to the user's frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.run import run

FULL_TEST = [*TINY_RUN, "trainer.limit_test_batches=1.0", "output.forecasts=true"]


def long_source(tmp_path, ids: list, lengths: list[int], suffix: str, id_type=None) -> str:
    """A long file of series ``ids`` (in this order) of ``lengths`` hourly rows."""
    rows = []
    for k, (series, length) in enumerate(zip(ids, lengths, strict=True)):
        ds = pd.date_range("2021-01-01", periods=length, freq="h")
        y = np.sin(np.arange(length) / 4 + k) + 3 * k
        rows.append(pd.DataFrame({"unique_id": series, "ds": ds, "y": y}))
    frame = pd.concat(rows, ignore_index=True)
    if id_type is not None:
        frame["unique_id"] = frame["unique_id"].astype(id_type)
    path = tmp_path / f"panel.{suffix}"
    frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
    return str(path)


def read_back(path: str, library: str):
    """The source file as a user reads it, its dates in nanoseconds (to join on)."""
    if library == "pandas":
        frame = pd.read_csv(path) if path.endswith("csv") else pd.read_parquet(path)
        return frame.assign(ds=pd.to_datetime(frame.ds).astype("datetime64[ns]"))
    frame = (
        pl.read_csv(path, try_parse_dates=True) if path.endswith("csv") else pl.read_parquet(path)
    )
    return frame.with_columns(pl.col("ds").cast(pl.Datetime("ns")))


@pytest.mark.parametrize(
    ("ids", "suffix", "id_type", "mode"),
    [
        ([3, 1, 2], "csv", None, "independent"),
        ([3, 1, 2], "csv", None, "joint"),
        ([3, 1, 2], "parquet", "int32", "independent"),
        (["c", "a", "b"], "csv", None, "joint"),  # text stays text
    ],
)
def test_series_ids_keep_the_type_they_were_read_in(tmp_path, ids, suffix, id_type, mode):
    lengths = [150, 150, 150] if mode == "joint" else [150, 120, 100]  # joint: shared dates
    path = long_source(tmp_path, ids, lengths, suffix, id_type)
    settings = ["data=custom", f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds"]
    cfg = compose_config(
        *settings, "data.target=y", f"data.mode={mode}", *TINY_ITRANSFORMER, *FULL_TEST
    )
    run(cfg, tmp_path / "run")
    written = tmp_path / "run" / "forecasts.parquet"
    keys = {"left_on": ["series", "ds"], "right_on": ["unique_id", "ds"], "how": "left"}

    forecasts, source = pd.read_parquet(written), read_back(path, "pandas")
    assert forecasts["series"].dtype == source["unique_id"].dtype
    assert sorted(forecasts["series"].unique()) == sorted(ids)
    forecasts["ds"] = forecasts["ds"].astype("datetime64[ns]")
    joined = forecasts.merge(source, **keys)  # every row finds its actual value
    assert joined["y_y"].notna().all()
    np.testing.assert_array_equal(joined["y_x"], joined["y_y"])  # y as read

    forecasts, source = pl.read_parquet(written), read_back(path, "polars")
    assert forecasts.schema["series"] == source.schema["unique_id"]
    assert sorted(forecasts["series"].unique().to_list()) == sorted(ids)
    joined = forecasts.with_columns(pl.col("ds").cast(pl.Datetime("ns"))).join(source, **keys)
    assert joined["y_right"].null_count() == 0
    np.testing.assert_array_equal(joined["y"].to_numpy(), joined["y_right"].to_numpy())
