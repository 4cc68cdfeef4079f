"""``output.forecasts=true``: every test window's forecast in forecasts.parquet, the values the
test metrics are computed from (wide, channel-independent and panel data, with intervals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_panel_files import SETTINGS, long_file
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.report import forecast_figure
from tsfm.run import run

FULL_TEST = [*TINY_RUN, "trainer.limit_test_batches=1.0", "output.forecasts=true"]


def _read(run_dir) -> pl.DataFrame:
    return pl.read_parquet(run_dir / "forecasts.parquet")


def _mae(frame: pl.DataFrame) -> float:
    """The file's MAE: its y is the data's value as read, which the metrics score too (so
    they agree to float64 rounding)."""
    return float((frame["forecast"] - frame["y"]).abs().mean())


@pytest.mark.parametrize("variant", ["joint", "independent", "bf16"])
def test_the_file_holds_every_test_forecast_the_metrics_score(tmp_path, variant):
    independent = variant == "independent"
    overrides = {
        "joint": [],
        "independent": ["data.channel_independent=true"],
        "bf16": ["trainer.precision=bf16-mixed"],  # forecast as the test was: in bf16
    }[variant]
    cfg = compose_config(*TINY_ITRANSFORMER, *FULL_TEST, "loss=quantile", *overrides)
    metrics = run(cfg, tmp_path)
    frame = _read(tmp_path)
    windows, horizon = metrics["windows/test"], cfg.data.pred_len
    if independent:
        windows //= 7  # one sample per (window, variate)
    assert frame.height == windows * horizon * 7 and frame["window"].n_unique() == windows
    assert _mae(frame) == pytest.approx(metrics["test/mae_original"], rel=1e-12)  # y as read
    ot = frame.filter(pl.col("series") == "OT")
    assert _mae(ot) == pytest.approx(metrics["test/OT/mae_original"], rel=1e-12)  # y as read
    first = frame.filter((pl.col("window") == 0) & (pl.col("series") == "OT"))
    assert first["step"].to_list() == list(range(1, horizon + 1))
    hours = np.diff(first["ds"].to_numpy()).astype("timedelta64[h]").astype(int)
    assert (hours == 1).all() and (first["ds"][0] - first["cutoff"][0]).total_seconds() == 3600
    inside = (frame["y"] >= frame["forecast-lo-80"]) & (frame["y"] <= frame["forecast-hi-80"])
    assert float(inside.mean()) == pytest.approx(metrics["test/coverage_80"], rel=1e-12)


@pytest.mark.parametrize("independent", [False, True])
def test_an_adaptive_conformal_file_holds_the_moving_bounds_the_metrics_score(
    tmp_path, independent
):
    adaptive = ["conformal.windows=40", "conformal.step=3", "conformal.adaptive_rate=0.05"]
    overrides = ["data.channel_independent=true"] if independent else []
    metrics = run(compose_config(*TINY_ITRANSFORMER, *FULL_TEST, *adaptive, *overrides), tmp_path)
    frame = _read(tmp_path)
    for level in (80, 95):
        lo, hi = frame[f"forecast-lo-{level}"], frame[f"forecast-hi-{level}"]
        inside = float(((frame["y"] >= lo) & (frame["y"] <= hi)).mean())
        assert inside == pytest.approx(metrics[f"test/coverage_{level}"], rel=1e-12)
        width = metrics[f"test/width_{level}_original"]
        assert float((hi - lo).mean()) == pytest.approx(width, rel=1e-12)
    first = frame.filter((pl.col("series") == "OT") & (pl.col("step") == 1))
    assert (first["forecast-hi-80"] - first["forecast"]).round(6).n_unique() > 1  # they move


def test_a_panel_file_names_each_row_by_its_series(tmp_path):
    path, frame = long_file(tmp_path)
    overrides = [f"data.{k}={v}" for k, v in SETTINGS.items() if k not in ("seq_len", "pred_len")]
    cfg = compose_config(
        "data=custom", *overrides, f"data.path={path}", *TINY_ITRANSFORMER, *FULL_TEST
    )
    metrics = run(cfg, tmp_path)
    forecasts = _read(tmp_path)
    assert sorted(forecasts["series"].unique()) == ["s0", "s1", "s2"]
    for series, rows in frame.groupby("unique_id"):
        mine = forecasts.filter(pl.col("series") == series)
        assert _mae(mine) == pytest.approx(
            metrics[f"test/{series}/mae_original"], rel=1e-12
        )  # y as read
        last = mine.filter(pl.col("window") == mine["window"].max())
        np.testing.assert_array_equal(last["ds"].to_numpy(), rows.ds.to_numpy()[-8:])
        np.testing.assert_array_equal(last["y"].to_numpy(), rows.y.to_numpy()[-8:])


@pytest.mark.parametrize("freq", ["h", "D"])
def test_a_wide_file_with_a_time_zone_keeps_it_in_the_file_and_in_python(tmp_path, freq):
    frame = synthetic_frame(900, freq=freq)  # daily: local midnights, across daylight saving
    frame["date"] = pd.date_range("2021-01-01", periods=900, freq=freq, tz="Europe/Berlin")
    path = tmp_path / "berlin.parquet"
    frame.to_parquet(path)
    cfg = compose_config("data=custom", f"data.path={path}", *TINY_ITRANSFORMER, *FULL_TEST)
    run(cfg, tmp_path / "run")
    forecasts = _read(tmp_path / "run")
    assert forecasts.schema["ds"].time_zone == "Europe/Berlin"
    last = forecasts.filter(pl.col("series") == "OT").filter(
        pl.col("window") == pl.col("window").max()
    )
    assert list(last["ds"].to_pandas()) == list(frame.date.iloc[-8:])  # the file's own times
    result = fit_and_test(cfg, tmp_path / "figure")
    figure = forecast_figure(result.module, result.datamodule, n_windows=1, variates=["OT"])
    drawn = figure.axes[0].lines[0].get_xdata()  # window 0's look-back, on the zone's clock
    first = int(np.flatnonzero(frame.date == forecasts["cutoff"][0])[0]) - 23  # 24 steps
    np.testing.assert_array_equal(drawn, frame.date.dt.tz_localize(None)[first : first + 24])
    future = Forecaster.from_run(tmp_path / "run").predict()
    step = pd.Timedelta(hours=1) if freq == "h" else pd.DateOffset(days=1)
    assert future.date.iloc[0] == frame.date.iloc[-1] + step and str(future.date.dt.tz) == (
        "Europe/Berlin"
    )


def test_integer_time_is_written_as_the_data_s_own_steps(tmp_path):
    frame = synthetic_frame(400).drop(columns=["date"])
    frame.insert(0, "step", 100 + 2 * np.arange(400))  # a step of 2 from 100
    frame.to_csv(tmp_path / "steps.csv", index=False)
    settings = ["data=custom", f"data.path={tmp_path / 'steps.csv'}", "data.date_col=step"]
    run(compose_config(*settings, *TINY_ITRANSFORMER, *FULL_TEST), tmp_path / "wide")
    last = _read(tmp_path / "wide").filter(pl.col("series") == "OT").tail(8)
    assert last["ds"].to_list() == frame.step.tolist()[-8:]
    assert last["cutoff"][0] == frame.step.iloc[-9]
    future = Forecaster.from_run(tmp_path / "wide").predict()
    assert future.step.tolist() == [900 + 2 * k for k in range(8)]
    panel = pd.DataFrame(
        {"unique_id": ["a"] * 150 + ["b"] * 100, "t": [*range(150), *range(30, 130)]}
    ).assign(y=lambda f: np.sin(f.t / 3))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    settings = [f"data.path={tmp_path / 'panel.csv'}", "data.date_col=t", "data.target=y"]
    panel_run = [*settings, "data.id_col=unique_id", "data.mode=independent"]
    run(compose_config("data=custom", *panel_run, *TINY_ITRANSFORMER, *FULL_TEST), tmp_path / "p")
    b = _read(tmp_path / "p").filter(pl.col("series") == "b")
    assert b["ds"].tail(8).to_list() == list(range(122, 130))  # series b's own steps


@pytest.mark.parametrize("variant", ["joint", "channel-independent", "panel"])
def test_y_is_the_datas_value_as_read_not_a_float32_round_trip(tmp_path, variant):
    frame = synthetic_frame(400)
    frame[["v0", "v1", "OT"]] = (500 + 37 * frame[["v0", "v1", "OT"]]).round(1)  # e.g. 521.3
    settings = ["data=custom", *TINY_ITRANSFORMER, *FULL_TEST]
    if variant == "panel":
        frame = frame.melt(id_vars="date", var_name="unique_id", value_name="y")
        settings += ["data.id_col=unique_id", "data.target=y", "data.mode=independent"]
    elif variant == "channel-independent":
        settings.append("data.channel_independent=true")
    frame.to_csv(tmp_path / "data.csv", index=False)
    run(compose_config(*settings, f"data.path={tmp_path / 'data.csv'}"), tmp_path / "run")
    written = _read(tmp_path / "run").to_pandas()
    if variant != "panel":
        frame = frame.melt(id_vars="date", var_name="unique_id", value_name="y")
    actual = written.merge(
        frame, left_on=["series", "ds"], right_on=["unique_id", "date"], suffixes=("", "_data")
    )
    assert len(actual) == len(written)
    np.testing.assert_array_equal(actual["y"].to_numpy(), actual["y_data"].to_numpy())
