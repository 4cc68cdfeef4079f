"""The command line's original-unit scores read the actuals as the data holds them (the
evaluation batches' ``x_original``/``y_original``), never scaled and back: an actual of 0
stays 0 (left out of MAPE, with the ``mape_zeros`` warning; a series that is 0 throughout has
no MAPE), and metrics.json holds the scores of forecasts.parquet's rows to float64 rounding,
look-back and history scales (MASE, MSIS) included. ``Forecaster`` scoring:
tests/test_evaluate_actuals.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.run import run

LOOKBACK = 24  # TINY_ITRANSFORMER's


def counts_frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Hourly series whose round trip through a float32 scaler is not exact: a level with one
    decimal, sales with many zeros, and counts that stop (0 from row 240 on: every test and
    most validation windows)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    stopped = rng.poisson(2.0, n).astype(float)
    stopped[240:] = 0.0
    return pd.DataFrame(
        {
            "date": pd.date_range("2021-01-01", periods=n, freq="h"),
            "level": np.round(500 + 37 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 3, n), 1),
            "sales": rng.poisson(0.7, n).astype(float),
            "stopped": stopped,
        }
    )


def _recomputed(
    written: pd.DataFrame, history: dict[str, pd.DataFrame], mase_scale: str
) -> dict[str, float]:
    """The pooled scores of forecasts.parquet's rows with an actual, over the scale of the
    look-backs (or, ``mase_scale="history"``, of every row before the origin) of the data as
    given (season_length=1: pairs of observed neighbours)."""
    scale = np.empty(len(written))
    for (series, cutoff), rows in written.groupby(["series", "cutoff"]).groups.items():
        frame = history[str(series)]
        end = int(np.flatnonzero(frame["date"].to_numpy() == np.datetime64(cutoff))[0]) + 1
        look = frame["y"].to_numpy()[0 if mase_scale == "history" else end - LOOKBACK : end]
        steps = np.abs(np.diff(look))
        steps = steps[~np.isnan(steps)]
        scale[np.asarray(rows)] = steps.mean() if steps.size else 0.0
    observed = written["y"].notna().to_numpy()
    written, scale = written[observed], scale[observed]
    y, f = written["y"].to_numpy(), written["forecast"].to_numpy()
    error, total = np.abs(f - y), np.abs(f) + np.abs(y)
    nonzero, usable = y != 0, scale > 0
    lo, hi = written["forecast-lo-95"].to_numpy(), written["forecast-hi-95"].to_numpy()
    winkler = hi - lo + 40.0 * (np.clip(lo - y, 0, None) + np.clip(y - hi, 0, None))
    return {
        "mae_original": error.mean(),
        "mse_original": (error**2).mean(),
        "smape": np.mean(np.where(total > 0, 200 * error / np.where(total > 0, total, 1), 0)),
        "mape": np.mean(100 * error[nonzero] / np.abs(y[nonzero])),
        "mase": np.mean(error[usable] / scale[usable]),
        "msis": np.mean(winkler[usable] / scale[usable]),
        "coverage_80": np.mean((y >= written["forecast-lo-80"]) & (y <= written["forecast-hi-80"])),
    }


@pytest.mark.parametrize(
    ("layout", "mase_scale"),
    [("wide", "lookback"), ("panel", "lookback"), ("wide", "history"), ("gaps", "lookback")],
)
def test_the_command_lines_metrics_are_those_of_the_forecast_file(tmp_path, layout, mase_scale):
    frame = counts_frame()
    columns = ["level", "sales", "stopped"]
    settings = ["data=custom", *TINY_ITRANSFORMER, *TINY_RUN, "loss=quantile", "season_length=1"]
    settings.append(f"mase_scale={mase_scale}")
    settings += ["trainer.limit_test_batches=1.0", "output.forecasts=true"]
    if layout == "gaps":  # missing values, in look-backs and targets alike
        frame.loc[frame.index % 7 == 3, "level"] = np.nan
        settings.append("data.missing=mask")
    long = frame.melt(id_vars="date", var_name="unique_id", value_name="y")
    if layout == "panel":
        frame = long
        settings += ["data.id_col=unique_id", "data.target=y", "data.mode=independent"]
    frame.to_csv(tmp_path / "counts.csv", index=False)
    metrics = run(compose_config(*settings, f"data.path={tmp_path / 'counts.csv'}"), tmp_path)
    written = pl.read_parquet(tmp_path / "forecasts.parquet").to_pandas()
    history = {c: long[long.unique_id == c] for c in columns}
    read = written.merge(long, left_on=["series", "ds"], right_on=["unique_id", "date"])
    assert len(read) == len(written)
    np.testing.assert_array_equal(read["y_x"], read["y_y"])  # as read, exactly

    # the actuals of 0 are left out of MAPE, and 'stopped' (0 throughout the test) has none
    assert "'stopped'" in metrics["test/warnings/mape_zeros"]
    assert "test/stopped/mape" not in metrics and "test/undefined/stopped/mape" in metrics
    for name, value in _recomputed(written, history, mase_scale).items():
        assert metrics[f"test/{name}"] == pytest.approx(value, rel=1e-12, abs=0), name
    for column in columns:
        mine = written[written.series == column]
        error = (mine["forecast"] - mine["y"]).abs().mean()  # missing actuals left out
        assert metrics[f"test/{column}/mae_original"] == pytest.approx(error, rel=1e-12)
