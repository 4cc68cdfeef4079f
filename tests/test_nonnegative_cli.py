"""``nonnegative`` on the command line: forecasts.parquet writes the marked targets' forecasts
and bounds floored at zero (the others as the model made them), and a marked target with
negative training values, or a name that is no target, is refused before training."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_nonnegative import demand_frame
from tsfm import InputError
from tsfm.config import compose_config
from tsfm.run import run

FULL_TEST = [*TINY_RUN, "trainer.limit_test_batches=1.0", "output.forecasts=true"]
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("demand") / "demand.csv"
    demand_frame(400).to_csv(path, index=False)
    return ["data=custom", f"data.path={path}", "data.target=demand", "loss=quantile"]


def test_the_forecast_file_floors_the_marked_targets(data, tmp_path):
    settings = [*data, *TINY_ITRANSFORMER, *FULL_TEST]
    run(compose_config(*settings), tmp_path / "off")
    run(compose_config(*settings, "nonnegative=[demand,spares]"), tmp_path / "on")
    off = pl.read_parquet(tmp_path / "off" / "forecasts.parquet")
    on = pl.read_parquet(tmp_path / "on" / "forecasts.parquet")
    values = [c for c in off.columns if c == "forecast" or c.startswith("forecast-")]
    marked = off["series"].is_in(["demand", "spares"]).to_numpy()[:, None]
    before, after = off.select(values).to_numpy(), on.select(values).to_numpy()
    assert (before[marked[:, 0]] < 0).any() and (before[~marked[:, 0]] < 0).any()
    np.testing.assert_array_equal(after, np.where(marked, np.maximum(before, 0), before))


def test_negative_training_values_and_unknown_names_are_refused(data, tmp_path):
    with pytest.raises(InputError, match=r"target 'price' is marked nonnegative, but \d+ of"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=true"), tmp_path)
    with pytest.raises(InputError, match=r"nonnegative names \['sales'\]"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=[sales]"), tmp_path)
    with pytest.raises(InputError, match="must be True, False or a list"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=demand"), tmp_path)
