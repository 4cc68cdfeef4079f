"""A value far outside the rest of its column's training rows (a 1e7 in a series around 100)
ruined a fit silently: the scaler's mean and standard deviation are dominated by it, every
other value is squashed into a sliver of the scaled range, and the only warning said the
naive forecast wins. A fit now names it, how far out it is and the fixes, records it in
``fit_metrics_["extreme_values"]`` (metrics.json for the command line), and says nothing of
heavy-tailed but clean data (tsfm/data/extreme_values.py)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.helpers.data import REPO
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm import Forecaster
from tsfm.data.extreme_notes import extreme_values_note
from tsfm.data.extreme_values import find_extreme_values
from tsfm.estimator.fit_metrics import fit_metric_value
from tsfm.training.validation_notes import validation_notes

TINY = dict(d_model=8, d_ff=8, max_epochs=1, verbose=0, threads=1, lookback=48, horizon=12)


def daily_cycle(n: int = 1500, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    return 100 + 30 * np.sin(2 * np.pi * t / 24) + 3 * np.random.default_rng(seed).normal(size=n)


def hourly(values: np.ndarray, **columns: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=len(values), freq="h")
    return pd.DataFrame({"ds": ds, "y": values, **columns})


def fit_warnings(f: Forecaster, df: pd.DataFrame) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f.fit(df)
    return [str(w.message) for w in caught if "extreme value" in str(w.message)]


def test_the_outlier_is_found_with_where_and_how_far_and_heavy_tails_are_not():
    y = daily_cycle()
    assert find_extreme_values([y[:, None]], ["y"], [None]) == []
    y[700] = 1e7
    times = pd.date_range("2024-01-01", periods=len(y), freq="h").to_numpy()
    (found,) = find_extreme_values([y[:, None]], ["y"], [times], show_time=lambda t: str(t)[:16])
    assert found["column"] == "y" and found["series"] is None and found["value"] == 1e7
    assert found["time"] == "2024-01-30T04:00" and 95 < found["median"] < 105
    assert found["robust_sds"] > 1e5 and found["std_ratio"] > 1e4
    for seed in range(5):  # Student-t (df=3) noise: rare large values, not errors
        rng = np.random.default_rng(seed)
        noisy = daily_cycle(20_000, seed) + 3 * rng.standard_t(3, size=(20_000, 3)).T
        assert find_extreme_values([noisy.T], ["a", "b", "c"], [None]) == []
    dummy = np.zeros((1000, 1))
    dummy[500] = 1.0  # an event indicator: no spread to judge it by
    assert find_extreme_values([dummy], ["event"], [None]) == []
    panel = [daily_cycle(500, 1)[:, None], y[:, None]]  # ids as a long frame may hold them
    (found,) = find_extreme_values(panel, ["y"], [None, None], [np.int64(3), np.int64(7)])
    assert found["series"] == 7 and type(found["series"]) is int and found["time"] == "700"
    assert fit_metric_value("extreme_values", [found])
    shift = np.r_[np.zeros(900), np.full(100, 1e6)] + np.random.default_rng(0).normal(size=1000)
    assert find_extreme_values([shift[:, None]], ["level"], [None]) == []  # 10 %: a level shift


def test_etth1s_training_rows_give_no_warning():
    from tsfm.config import compose_config
    from tsfm.pipeline import build_datamodule

    cfg = compose_config("data=etth1")  # the bundled datasets/ETTh1.csv
    assert build_datamodule(cfg).extreme_values == []  # the command line's data layer
    df = pd.read_csv(REPO / "datasets" / "ETTh1.csv")
    values = df.drop(columns="date").to_numpy(float)
    assert find_extreme_values([values], list(df.columns[1:]), [None]) == []  # every row


def test_fit_warns_once_naming_column_time_value_and_fix_and_records_it(tmp_path):
    y = daily_cycle(600)
    y[300] = 1e7
    f = Forecaster("itransformer", **TINY)
    (said,) = fit_warnings(f, hourly(y))
    assert said.startswith("fit: 1 extreme value in the training rows")
    assert "column 'y' at 2024-01-13 12:00:00: 1e+07" in said
    assert "robust standard deviations from the median" in said
    assert 'set it to NaN and fit with missing="mask"' in said and "correct it" in said
    (record,) = f.fit_metrics_["extreme_values"]
    assert record["time"] == "2024-01-13 12:00:00" and record["value"] == 1e7
    assert fit_metric_value("extreme_values", f.fit_metrics_["extreme_values"])
    f.save(tmp_path / "model")  # forecaster.json holds it, and its check accepts it
    assert Forecaster.load(tmp_path / "model").fit_metrics_["extreme_values"] == [record]
    assert fit_warnings(Forecaster("itransformer", **TINY), hourly(daily_cycle(600))) == []


def test_masking_the_value_is_the_fix_for_targets_and_covariates():
    y, x = daily_cycle(600), daily_cycle(600, seed=1)
    y[300], x[200] = 1e7, -9999.0
    f = Forecaster("itransformer", future_covariates=["x"], **TINY)
    (said,) = fit_warnings(f, hourly(y, x=x))
    assert "2 extreme values" in said and "column 'x' at 2024-01-09 08:00:00: -9999" in said
    y[300], x[200] = np.nan, np.nan
    masked = Forecaster("itransformer", future_covariates=["x"], missing="mask", **TINY)
    assert fit_warnings(masked, hourly(y, x=x)) == []
    assert "extreme_values" not in masked.fit_metrics_
    assert abs(masked.scaler_.mean[0] - 100) < 5  # the scaler of the observed values


@pytest.mark.parametrize("mode", ["independent", "joint"])
def test_a_panel_names_the_series(mode):
    y = np.concatenate([daily_cycle(400, 0), daily_cycle(400, 1)])
    y[400 + 150] = 5e6
    long = pd.concat([hourly(daily_cycle(400, 0)), hourly(daily_cycle(400, 1))])
    long.insert(0, "unique_id", np.repeat(["A", "B"], 400))
    long["y"] = y
    f = Forecaster("itransformer", mode=mode, **TINY)
    (said,) = fit_warnings(f, long)
    assert "series 'B', column 'y' at 2024-01-07 06:00:00: 5e+06" in said
    (record,) = f.fit_metrics_["extreme_values"]
    assert record["series"] == "B" and record["column"] == "y"


def test_the_fit_quality_note_points_at_them_and_the_note_counts_them():
    cfg = OmegaConf.create(
        {
            "loss": "mse",
            "optim": {"lr": 1e-3},
            "trainer": {"max_epochs": 3},
            "data": {"seq_len": 96},
        }
    )
    worse = {"val/best_loss": 0.5, "val/snaive_loss": 0.1, "val/naive_loss": 0.2}
    assert "extreme" not in validation_notes(worse, cfg)["baselines"]
    y = daily_cycle(3000)
    y[[10, 20]] = 1e7, -1e7
    records = find_extreme_values([y[:, None]], ["y"], [None])
    note = validation_notes({**worse, "extreme_values": records}, cfg)["baselines"]
    assert "the training rows hold 2 extreme values" in note
    text = extreme_values_note(records * 3, "data.missing=mask", "metrics.json")
    assert text.startswith("6 extreme values") and "; and 1 more" in text
    assert "data.missing=mask" in text and "extreme_values in metrics.json" in text


def test_under_the_robust_scaler_the_warning_and_the_note_say_what_it_does():
    y = daily_cycle(600)
    y[300] = 1e7
    (standard,) = fit_warnings(Forecaster("itransformer", **TINY), hourly(y))
    assert "It inflates its column's standard deviation to" in standard
    f = Forecaster("itransformer", scaler="robust", **TINY)
    (said,) = fit_warnings(f, hourly(y))
    assert f.scaler_.std[0] < 40  # the other values' scale (about 31): not inflated
    assert "inflate" not in said and "squash" not in said and "sliver" not in said
    far = said.split("1e+07, ")[1].split(" robust standard deviations from the median")[0]
    assert (
        "The robust scaler's median and interquartile range hardly move for it, so the other "
        "values of its column keep their scaled range; but it stays "
        f"{far} robust standard deviations out after scaling"
    ) in said
    assert "and dominates the training loss of the windows holding it" in said
    assert 'set it to NaN and fit with missing="mask"' in said
    cfg = OmegaConf.create({"loss": "mse", "optim": {"lr": 1e-3}, "trainer": {"max_epochs": 3}})
    worse = {"val/best_loss": 0.5, "val/snaive_loss": 0.1, "extreme_values": [{}]}
    for scaler, does in (("standard", "squashes its column's"), ("robust", "lies far outside")):
        cfg.data = {"seq_len": 96, "scaler": scaler}
        assert f"which {does}" in validation_notes(worse, cfg)["baselines"]


@pytest.mark.slow
def test_the_command_line_warns_and_records_it_in_metrics_json(tmp_path):
    y = daily_cycle(400)
    y[100] = 1e7
    path = tmp_path / "outlier.csv"
    hourly(y).rename(columns={"ds": "date", "y": "OT"}).to_csv(path, index=False)
    run_dir = tmp_path / "run"
    data = ["data=custom", f"data.path={path}"]
    proc = run_cli(*data, *TINY_ITRANSFORMER, *TINY_RUN, f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logged = (run_dir / "run.log").read_text()
    assert "fit: 1 extreme value in the training rows" in logged
    assert "column 'OT' at 2024-01-05 04:00:00: 1e+07" in logged
    assert "data.missing=mask" in logged
    (record,) = json.loads((run_dir / "metrics.json").read_text())["extreme_values"]
    assert record["column"] == "OT" and record["value"] == 1e7
