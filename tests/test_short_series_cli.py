"""The command line's metrics.json on short look-backs: ``mase_scale=history`` (the training
split and every row before each test window), a look-back of one season that keeps its season,
MAPE beside sMAPE, and the warnings the run records (``test/warnings/<key>``)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.data import make_datamodule
from tsfm.forecast_file import write_forecasts
from tsfm.pipeline import fit_and_test
from tsfm.report import metrics_table
from tsfm.training.module import ForecastingModule

DAY = 24  # hourly data: the season; TINY_ITRANSFORMER's look-back is one day (24 -> 8)


def _run(tmp_path, *extra: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "series.csv"
    synthetic_frame(400).to_csv(path, index=False)
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "data=custom", f"data.path={path}", *extra)
    result = fit_and_test(cfg, tmp_path / "run")
    write_forecasts(result.module, result.datamodule, tmp_path / "forecasts.parquet")
    return result.metrics, pl.read_parquet(tmp_path / "forecasts.parquet").to_pandas()


def test_a_one_day_lookback_keeps_the_day_and_history_gives_mase(tmp_path):
    metrics, _ = _run(tmp_path / "lookback")
    assert metrics["season_length"] == DAY and metrics["mase_scale"] == "lookback"
    assert "test/mase" not in metrics  # a look-back of one season has no pair a season apart
    assert "mase_scale=history" in metrics["test/undefined/mase"]
    sign_note = metrics["test/warnings/sign_changes"]  # v0 oscillates around 0
    assert "read mae (MASE is undefined here: a look-back of 24 rows" in sign_note
    assert "read mae and mase" not in sign_note  # no pointing at a metric left out
    table = metrics_table(metrics)
    assert "MASE: undefined (a look-back of 24 rows holds no pair" in table
    assert "mase_scale=history" in table
    metrics, forecasts = _run(tmp_path / "history", "mase_scale=history")
    assert metrics["mase_scale"] == "history"
    assert "read mae and mase" in metrics["test/warnings/sign_changes"]
    assert "MASE: undefined" not in metrics_table(metrics)
    data = synthetic_frame(400)
    total, count = 0.0, 0
    for (series, cutoff), rows in forecasts.groupby(["series", "cutoff"]):
        values = data[series].to_numpy()[: int(np.flatnonzero(data.date == cutoff)[0]) + 1]
        scale = np.abs(values[DAY:] - values[:-DAY]).mean()  # every row before the origin
        total += (np.abs(rows.y - rows.forecast) / scale).sum()
        count += len(rows)
    assert metrics["test/mase"] == pytest.approx(total / count, rel=1e-5)


def test_metrics_json_has_mape_per_target_and_the_warnings(tmp_path):
    metrics, forecasts = _run(tmp_path, "data.seq_len=48")
    y, f = forecasts.y.to_numpy(), forecasts.forecast.to_numpy()
    assert metrics["test/mape"] == pytest.approx(np.mean(100 * np.abs(y - f) / np.abs(y)))
    for column in ("v0", "v1", "OT"):
        rows = forecasts[forecasts.series == column]
        mine = np.mean(100 * np.abs(rows.y - rows.forecast) / rows.y.abs())
        assert metrics[f"test/{column}/mape"] == pytest.approx(mine)
    assert "['v0']" in metrics["test/warnings/sign_changes"]  # v0 oscillates around 0
    assert "MAPE" in metrics_table(metrics)


def test_the_data_modules_history_scale_equals_the_hand_computation(tmp_path):
    path = tmp_path / "series.csv"
    frame = synthetic_frame(300)
    frame.loc[[30, 31, 150], "v1"] = np.nan  # missing values: their pairs left out
    frame.to_csv(path, index=False)
    cfg = compose_config(
        *TINY_ITRANSFORMER, "data=custom", f"data.path={path}", "data.missing=mask"
    )
    datamodule = make_datamodule(cfg.data)
    datamodule.setup()
    batch = datamodule.datasets["test"].__getitems__([0, 5, 17])
    scale = datamodule.history_scale("test", batch, DAY).numpy()
    values = datamodule.input_scaler.transform(frame[["v0", "v1", "OT"]].to_numpy())
    start = datamodule.borders.test[0]
    for w, window in enumerate([0, 5, 17]):
        origin = start + window + cfg.data.seq_len
        rows = values[:origin]
        expected = np.nanmean(np.abs(rows[DAY:] - rows[:-DAY]), axis=0)
        np.testing.assert_allclose(scale[w], expected, rtol=1e-5)


def test_the_training_module_takes_a_season_of_the_whole_lookback():
    dims = {"seq_len": 24, "pred_len": 8, "n_vars": 1, "n_marks": 0}
    model = {"name": "itransformer", "d_model": 8, "d_ff": 8, "n_heads": 2, "n_layers": 1}
    module = ForecastingModule(model, dims, season_length=24, mase_scale="history")
    assert module.hparams.season_length == 24
    with pytest.raises(ValueError, match="at most the look-back"):
        ForecastingModule(model, dims, season_length=25)
    with pytest.raises(ValueError, match="mase_scale='train'"):
        ForecastingModule(model, dims, mase_scale="train")
