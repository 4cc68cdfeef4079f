"""``nonnegative`` on the command line: forecasts.parquet writes the marked targets' forecasts
and bounds floored at zero (the others as the model made them), and a marked target with
negative training values, or a name that is no target, is refused before training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.m4 import write_m4_files
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_nonnegative import demand_frame
from tsfm import Forecaster, InputError
from tsfm.config import compose_config
from tsfm.pipeline import build_datamodule
from tsfm.run import run
from tsfm.training.nonnegative import check_run_data, floor_frame
from tsfm.training.test_floors import floored_columns

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
    # Forecaster.from_run keeps the run's setting: its forecasts are floored as the run's
    assert "nonnegative" not in Forecaster.from_run(tmp_path / "off").get_params()
    converted = Forecaster.from_run(tmp_path / "on")
    assert converted.get_params()["nonnegative"] == ["demand", "spares"]
    own = Forecaster.from_run(tmp_path / "off").predict(quantiles=[0.1])
    floored = converted.predict(quantiles=[0.1])
    for column in ("demand", "demand-q-0.1", "spares", "spares-q-0.1", "price-q-0.1"):
        expected = own[column] if column.startswith("price") else own[column].clip(lower=0)
        np.testing.assert_array_equal(floored[column], expected)
    assert (own["demand-q-0.1"] < 0).any() and (own["price-q-0.1"] < 0).any()


def _recomputed(frame: pl.DataFrame, scaler: dict, columns: list[str]) -> dict[str, float]:
    """Test metrics recomputed from forecasts.parquet's forecasts, bounds and actuals."""
    y, f = frame["y"].to_numpy(), frame["forecast"].to_numpy()
    j = np.array([columns.index(s) for s in frame["series"]])
    mean, std = np.asarray(scaler["mean"])[j], np.asarray(scaler["std"])[j]
    error, scaled = f - y, (f - mean) / std - (y - mean) / std
    lo, hi = frame["forecast-lo-80"].to_numpy(), frame["forecast-hi-80"].to_numpy()
    demand = (frame["series"] == "demand").to_numpy()
    return {
        "test/mae_original": np.abs(error).mean(),
        "test/mse_original": np.square(error).mean(),
        "test/mae": np.abs(scaled).mean(),
        "test/mse": np.square(scaled).mean(),
        "test/coverage_80": ((y >= lo) & (y <= hi)).mean(),
        "test/width_80_original": (hi - lo).mean(),
        "test/demand/mae_original": np.abs(error[demand]).mean(),
    }


def test_the_test_metrics_score_the_forecasts_of_the_forecast_file(data, tmp_path):
    """metrics.json scores the floored forecasts forecasts.parquet holds (the console table
    shows metrics.json's), on both scales; without nonnegative the model's own."""
    settings = [*data, *TINY_ITRANSFORMER, *FULL_TEST]
    datamodule = build_datamodule(compose_config(*settings))
    scaler, columns = datamodule.scaler_state(), list(datamodule.columns)
    found = {}
    for name, extra in (("off", []), ("on", ["nonnegative=[demand,spares]"])):
        run(compose_config(*settings, *extra), tmp_path / name)
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        frame = pl.read_parquet(tmp_path / name / "forecasts.parquet")
        expected = _recomputed(frame, scaler, columns)
        for key, value in expected.items():
            assert metrics[key] == pytest.approx(value, rel=1e-5), (name, key)
        found[name] = metrics
    assert found["on"]["nonnegative"] == ["demand", "spares"] and "nonnegative" not in found["off"]
    for key in (
        "test/mae_original",
        "test/mae",
        "test/width_80_original",
        "test/demand/mae_original",
    ):
        assert found["on"][key] < found["off"][key]  # the model's own went below zero
    assert found["on"]["test/price/mae_original"] == found["off"]["test/price/mae_original"]
    assert found["on"]["test/snaive_mae"] == found["off"]["test/snaive_mae"]  # not floored


def test_negative_training_values_and_unknown_names_are_refused(data, tmp_path):
    with pytest.raises(InputError, match=r"target 'price' is marked nonnegative, but \d+ of"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=true"), tmp_path)
    with pytest.raises(InputError, match=r"nonnegative names \['sales'\]"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=[sales]"), tmp_path)
    with pytest.raises(InputError, match="must be True, False or a list"):
        run(compose_config(*data, *TINY_ITRANSFORMER, *TINY_RUN, "nonnegative=demand"), tmp_path)


def _panel_file(path, negative: slice | None = None) -> list[str]:
    """A long CSV of two counting series (s1 with -0.5 at ``negative`` rows), as the command
    line reads an independent panel."""
    rng = np.random.default_rng(0)
    frames = []
    for i, n in enumerate((120, 100)):
        y = rng.poisson(0.3, n).astype(float)
        if i == 1 and negative is not None:
            y[negative] = -0.5
        times = pd.date_range("2021-01-01", periods=n, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": times, "y": y}))
    pd.concat(frames).to_csv(path, index=False)
    return [
        "data=custom", f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds",
        "data.target=y", "data.mode=independent", "data.seq_len=12", "data.pred_len=4",
    ]  # fmt: skip


def test_a_panel_target_named_floors_every_series_of_the_forecast_file(tmp_path):
    settings = [*_panel_file(tmp_path / "p.csv"), *TINY_ITRANSFORMER[:4], *FULL_TEST]
    run(compose_config(*settings), tmp_path / "off")
    run(compose_config(*settings, "nonnegative=[y]"), tmp_path / "on")
    off = pl.read_parquet(tmp_path / "off" / "forecasts.parquet")
    on = pl.read_parquet(tmp_path / "on" / "forecasts.parquet")
    assert sorted(off["series"].unique()) == ["s0", "s1"]
    before, after = off["forecast"].to_numpy(), on["forecast"].to_numpy()
    for series in ("s0", "s1"):  # the model's own forecasts go below zero in both series
        assert (before[(off["series"] == series).to_numpy()] < 0).any()
    np.testing.assert_array_equal(after, np.maximum(before, 0))


def test_a_panel_series_below_zero_where_it_trains_or_validates_is_refused(tmp_path):
    for setting in ("nonnegative=[y]", "nonnegative=true"):
        data = _panel_file(tmp_path / "p.csv", negative=slice(5, 8))
        with pytest.raises(InputError, match=r"target 'y' of series 's1' is marked nonnegative, "
                           r"but 3 of its training values are below zero \(the first at "
                           r"2021-01-01 05:00:00: -0.5\)"):  # fmt: skip
            run(compose_config(*data, *TINY_ITRANSFORMER[:4], *TINY_RUN, setting), tmp_path)
    # its test rows (the last 20 % of each series) are not what it learns from: not refused
    cfg = compose_config(
        *_panel_file(tmp_path / "q.csv", negative=slice(-3, None)), "nonnegative=[y]"
    )
    check_run_data(cfg, build_datamodule(cfg))
    cfg = compose_config(
        *_panel_file(tmp_path / "q.csv", negative=slice(-25, -24)), "nonnegative=[y]"
    )
    with pytest.raises(InputError, match="series 's1'"):  # a validation row is
        check_run_data(cfg, build_datamodule(cfg))


def test_an_m4_groups_name_floors_every_series_in_the_metrics_and_the_file(tmp_path):
    """nonnegative=[Hourly] on M4 (its one column, whose series forecasts.parquet names by
    id) marks every series for the test scores and the file alike."""
    write_m4_files(tmp_path, "Hourly")
    cfg = compose_config("data=m4_hourly", f"data.root={tmp_path}", "nonnegative=[Hourly]")
    datamodule = build_datamodule(cfg)
    assert floored_columns(cfg, datamodule).tolist() == [True]
    frame = pl.DataFrame({"series": ["H1", "H2"], "forecast": [-1.0, 2.0]})
    floored = floor_frame(frame, ["Hourly"], datamodule.long_target())
    assert floored["forecast"].to_list() == [0.0, 2.0]
