"""``Forecaster.from_run``: a command-line run's model as a fitted Forecaster that forecasts
what the run's own test forecasts say, refits the run's settings, saves and loads; a run it
cannot rebuild exactly is refused with the reason."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import SHARED_DATA, needs_shared
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_covariates import panel_frame
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.data.sources import BUNDLED_DIR
from tsfm.data.user_warnings import InSampleWarning
from tsfm.run import run

ETTH1 = BUNDLED_DIR / "ETTh1.csv"


def cli_run(tmp_path, *overrides: str, name: str = "run"):
    cfg = compose_config(
        *TINY_ITRANSFORMER, *TINY_RUN, "trainer.limit_test_batches=1.0",
        "output.forecasts=true", *overrides,
    )  # fmt: skip
    run_dir = tmp_path / name
    run(cfg, run_dir)
    return run_dir


def test_a_run_forecasts_as_its_own_test_forecasts_and_refits_its_settings(tmp_path):
    run_dir = cli_run(
        tmp_path, "conformal.windows=20", "optim.lr=0.003", "seed=7", "data.percent=50",
        "callbacks.checkpoint.monitor=val/mae", "callbacks.early_stopping.monitor=val/mae",
    )  # fmt: skip
    forecaster = Forecaster.from_run(run_dir)
    params = forecaster.get_params()
    assert (params["lr"], params["seed"], params["conformal_windows"]) == (0.003, 7, 20)
    assert (params["horizon"], params["lookback"], params["d_model"]) == (8, 24, 8)
    assert params["callbacks__checkpoint__monitor"] == "val/mae"  # which epoch is kept
    assert params["val_size"] == 0.25  # ETTh1's 4 validation months of the 16 it used
    assert "levels" not in params  # the run's levels were its defaults
    assert "data__percent" not in params  # few-shot is the run's protocol; a refit uses all
    assert forecaster.fit_metrics_["epochs"] == 1

    written = pd.read_parquet(run_dir / "forecasts.parquet")
    frame = pd.read_csv(ETTH1, parse_dates=["date"])
    for cutoff in written.cutoff.unique()[[0, -1]]:  # the first and last test windows
        predicted = forecaster.predict(frame[frame.date <= cutoff], level=[80])
        window = written[written.cutoff == cutoff]
        for series in ("HUFL", "OT"):
            rows = window[window.series == series].sort_values("ds")
            np.testing.assert_array_equal(predicted.date, rows.ds)
            for column, own in ((series, "forecast"), (f"{series}-lo-80", "forecast-lo-80")):
                np.testing.assert_allclose(predicted[column], rows[own], rtol=1e-5, atol=1e-5)

    future = forecaster.predict()  # on from the end of the file
    assert future.date.iloc[0] == frame.date.iloc[-1] + pd.Timedelta("1h")

    saved = Forecaster.load(forecaster.save(tmp_path / "saved"))
    pd.testing.assert_frame_equal(saved.predict(level=[80]), forecaster.predict(level=[80]))
    for model in (forecaster, saved):  # the run validated up to row 11520: its test is unseen
        _, metrics = model.backtest(frame.iloc[:14400], n_windows=3, step=96)
        assert len(metrics) == 3
        with pytest.raises(ValueError, match="fitted on rows up to 2017-10-23 23:00:00"):
            model.backtest(frame.iloc[:11600], n_windows=3, step=96)
        validated = "96 of 121 windows .* 96 reach its validation rows \\(2017-06-26 00:00:00 to"
        with pytest.warns(InSampleWarning, match=validated):  # the last 25 after row 11519
            model.evaluate(frame.iloc[11400:11552])
        with warnings.catch_warnings():
            warnings.simplefilter("error", InSampleWarning)
            model.evaluate(frame.iloc[11520 - 24 : 11600])  # the test rows and their look-back

    refit = Forecaster.from_run(run_dir).set_params(verbose=0).fit(frame.iloc[:1500])
    for key in ("model", "optim", "loss", "conformal", "seed"):
        assert refit.config_[key] == forecaster.config_[key], key


@needs_shared("ETTm1.csv.gz")
def test_a_benchmark_run_keeps_the_papers_hourly_calendar_on_quarter_hours(tmp_path):
    run_dir = cli_run(tmp_path, "data=ettm1", f"data.root={SHARED_DATA}")
    forecaster = Forecaster.from_run(run_dir)
    assert forecaster.get_params()["data__freq"] == "h" and forecaster.freq_ == "15min"
    assert forecaster.dims_["n_marks"] == 4  # hour, weekday, day of month and of year
    written = pd.read_parquet(run_dir / "forecasts.parquet")
    cutoff = written.cutoff.iloc[-1]
    frame = pd.read_csv(SHARED_DATA / "ETTm1.csv.gz", parse_dates=["date"])
    predicted = forecaster.predict(frame[frame.date <= cutoff])
    rows = written[(written.cutoff == cutoff) & (written.series == "OT")].sort_values("ds")
    np.testing.assert_allclose(predicted.OT, rows.forecast, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="pass data_root=..."):
        Forecaster.from_run(run_dir, data_path=SHARED_DATA / "ETTm1.csv.gz")


def test_the_data_must_be_the_run_s_and_where_it_moved_can_be_given(tmp_path):
    path = tmp_path / "sales.csv"
    frame = pd.read_csv(ETTH1).iloc[:2000]
    frame.to_csv(path, index=False)
    run_dir = cli_run(tmp_path, "data=custom", f"data.path={path}", "data.target=OT")
    moved = tmp_path / "moved.csv"
    shutil.move(path, moved)
    with pytest.raises(FileNotFoundError, match="pass data_path=..."):
        Forecaster.from_run(run_dir)
    with pytest.raises(ValueError, match="read a custom file: pass data_path"):
        Forecaster.from_run(run_dir, data_root=tmp_path)
    forecaster = Forecaster.from_run(run_dir, data_path=moved)
    assert forecaster.predict().shape == (8, 8)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["data_rows"] == 2000
    edited = frame.copy()
    edited.loc[1999, "HUFL"] += 1  # a test row: the scaling is the same, the data is not
    edited.to_csv(moved, index=False)
    with pytest.raises(ValueError, match=r"\(2000 rows\) is not what the run read"):
        Forecaster.from_run(run_dir, data_path=moved)
    grown = pd.concat([frame, pd.read_csv(ETTH1).iloc[2000:2100]])
    grown.to_csv(moved, index=False)
    with pytest.raises(ValueError, match="2100 rows.*2000 rows.*grown since"):
        Forecaster.from_run(run_dir, data_path=moved)
    del metrics["data_sha256"]  # a run from before the digest: the checkpoint's scaling
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    frame.assign(OT=frame.OT * 2).to_csv(moved, index=False)
    with pytest.raises(ValueError, match="other scaling statistics"):
        Forecaster.from_run(run_dir, data_path=moved)
    frame.drop(columns=["HUFL"]).to_csv(moved, index=False)
    with pytest.raises(ValueError, match="the data file changed since the run"):
        Forecaster.from_run(run_dir, data_path=moved)


def test_what_is_not_a_run_it_can_rebuild_is_refused_with_the_reason(tmp_path):
    with pytest.raises(FileNotFoundError, match="not the directory of a python -m tsfm.run"):
        Forecaster.from_run(tmp_path)
    run_dir = cli_run(tmp_path, "data.features=MS")
    with pytest.raises(ValueError, match="'best' or 'last'"):
        Forecaster.from_run(run_dir, checkpoint="epoch=0")
    (run_dir / "checkpoints" / "best.ckpt").unlink()
    with pytest.raises(FileNotFoundError, match=r"the run's checkpoints: \['last.ckpt'\]"):
        Forecaster.from_run(run_dir)
    last = Forecaster.from_run(run_dir, checkpoint="last")
    assert last.columns_ == ["OT"] and last.get_params()["past_covariates"][0] == "HUFL"
    config = (run_dir / "config.yaml").read_text()
    cases = [
        (config.replace("id_col: null", "id_col: unique_id"), "or on a long file of independent"),
        (  # an M4 config, whose data schema differs, is refused for what it is
            config.replace("name: etth1", "name: m4_hourly\n  lookback_multiple: 2"),
            "this run read 'm4_hourly'",
        ),
        (config.replace("date_col: date", "date_col: null"), "no time column"),
        (config.replace("allow_irregular: false", "allow_irregular: true"), "irregular"),
    ]
    for text, message in cases:
        assert text != config
        (run_dir / "config.yaml").write_text(text)
        with pytest.raises(ValueError, match=message):
            Forecaster.from_run(run_dir, checkpoint="last")
    # a run from before data.path was refused without data=custom: it read the benchmark
    stray = config.replace("\n  path: null\n", "\n  path: /elsewhere/mine.csv\n")
    assert stray != config
    (run_dir / "config.yaml").write_text(stray)
    with pytest.warns(UserWarning, match=r"data.path=/elsewhere/mine.csv was ignored .*'etth1'"):
        assert Forecaster.from_run(run_dir, checkpoint="last").columns_ == ["OT"]
    (run_dir / "config.yaml").write_text(config + "extra:\n  _target_: os.system\n")
    with pytest.raises(ValueError, match="refuses to load it"):
        Forecaster.from_run(run_dir, checkpoint="last")
    # a run that failed after its checkpoints were written (here, in the plot): it loads,
    # with a warning naming the error
    (run_dir / "config.yaml").write_text(config)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    failed = {**metrics, "status": "failed", "error": "OSError: disk full while plotting"}
    (run_dir / "metrics.json").write_text(json.dumps(failed))
    with pytest.warns(UserWarning, match=r"this run failed \(metrics.json: status failed\): "
                      r"OSError: disk full while plotting.*last.ckpt"):  # fmt: skip
        Forecaster.from_run(run_dir, checkpoint="last")


def test_a_panel_run_forecasts_each_series_as_its_test_forecasts_and_refits(tmp_path):
    frame = panel_frame(lengths=(150, 100, 60))
    frame.loc[140, "promo"] = np.nan  # in s0's last look-back: masked, in training as here
    frame.to_csv(tmp_path / "panel.csv", index=False)
    data = [
        "data=custom", f"data.path={tmp_path / 'panel.csv'}", "data.id_col=unique_id",
        "data.date_col=ds", "data.target=y", "data.mode=independent", "data.train_ratio=0.6",
        "data.future_covariates=[promo]", "data.static_covariates=[store]", "data.missing=mask",
        "data.cutoffs=per_series",  # each series split from its own end
    ]  # fmt: skip
    intervals = ["conformal.windows=3", "conformal.step=1", "levels=[80]", "quantiles=[0.1,0.9]"]
    run_dir = cli_run(tmp_path, *data, *intervals)
    forecaster = Forecaster.from_run(run_dir)
    config = (run_dir / "config.yaml").read_text()  # a run from before data.cutoffs: per_series
    older = config.replace("  cutoffs: per_series\n", "")
    assert older != config
    (run_dir / "config.yaml").write_text(older)
    np.testing.assert_array_equal(
        Forecaster.from_run(run_dir).series_mean_, forecaster.series_mean_
    )
    (run_dir / "config.yaml").write_text(config)
    params = forecaster.get_params()
    assert (params["mode"], params["time_col"], params["static_covariates"]) == (
        "independent", "ds", ["store"],
    )  # fmt: skip
    assert params["val_size"] == 0.25  # 0.2 of each series validated, of the 0.8 it used
    assert forecaster.series_ == ["s0", "s1", "s2"]
    written = pd.read_parquet(run_dir / "forecasts.parquet")
    last = written[written.cutoff == written.groupby("series").cutoff.transform("max")]
    recent = frame.merge(last.groupby("series").cutoff.max(), left_on="unique_id", right_index=True)
    future = recent[recent.ds > recent.cutoff].groupby("unique_id").head(8)
    predicted = forecaster.predict(
        recent[recent.ds <= recent.cutoff].drop(columns="cutoff"),
        future_df=future.drop(columns=["y", "store", "cutoff"]),
        level=[80],
    )
    for series, rows in last.groupby("series"):
        mine = predicted[predicted.unique_id == series]
        np.testing.assert_array_equal(mine.ds, rows.sort_values("ds").ds)
        for column, own in (("y", "forecast"), ("y-lo-80", "forecast-lo-80")):
            np.testing.assert_allclose(mine[column], rows.sort_values("ds")[own], atol=1e-5)
    ahead = forecaster.make_future_dataframe().assign(promo=0.0)
    saved = Forecaster.load(forecaster.save(tmp_path / "saved"))
    pd.testing.assert_frame_equal(
        saved.predict(future_df=ahead), forecaster.predict(future_df=ahead)
    )
    for model in (forecaster, saved):  # each series' last horizon is among its test rows
        assert len(model.backtest(frame, n_windows=1)[1]) == 1
        with pytest.raises(ValueError, match="series 's2': the first fold forecasts from"):
            model.backtest(frame, n_windows=3, step=8)  # s2: the fewest rows after its fitted
        with pytest.warns(InSampleWarning, match="validation rows, on which the fit chose"):
            model.evaluate(frame)
    refit = Forecaster.from_run(run_dir).set_params(verbose=0).fit(frame)
    assert refit.config_.model == forecaster.config_.model and refit.mode_ == "independent"
    changed = [  # a value, and a series' static covariate: neither moves the scaling
        frame.assign(y=frame.y.where(frame.index != 5, 0.0)),
        frame.assign(store=frame.store.where(frame.unique_id != "s2", "b")),
    ]
    for edited in changed:
        edited.to_csv(tmp_path / "panel.csv", index=False)
        with pytest.raises(ValueError, match=r"\(310 rows\) is not what the run read"):
            Forecaster.from_run(run_dir)


def test_a_relative_data_path_is_read_from_where_the_run_started(tmp_path, monkeypatch):
    pd.read_csv(ETTH1).iloc[:2000].to_csv(tmp_path / "sales.csv", index=False)
    monkeypatch.chdir(tmp_path)
    run_dir = cli_run(tmp_path, "data=custom", "data.path=sales.csv", "data.target=OT")
    (run_dir / ".hydra").mkdir(exist_ok=True)  # what Hydra records of a command-line run
    (run_dir / ".hydra" / "hydra.yaml").write_text(f"hydra:\n  runtime:\n    cwd: {tmp_path}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert Forecaster.from_run(run_dir).predict().shape == (8, 8)


def test_every_top_level_setting_a_forecaster_takes_is_carried_from_a_run():
    """A run's top-level settings that a Forecaster parameter sets (nonnegative, loss, seed,
    ...) come over with the run; the rest say how the run ran (train, resume, ckpt_path, ...)
    or are arguments of one call (mase_scale)."""
    from dataclasses import fields

    from tsfm.config import RunConfig
    from tsfm.estimator.from_run import carried
    from tsfm.estimator.params import ALIASES, PER_CALL

    top = {f.name for f in fields(RunConfig)}
    taken = {key for key in ALIASES.values() if key in top}
    assert "nonnegative" in taken and "seed" in taken
    assert [key for key in sorted(taken) if not carried(key)] == []
    left = {key for key in top - taken if not carried(key)}
    how_it_ran = {"task_name", "train", "test", "ckpt_path", "test_scaler", "resume"}
    sections = {"data", "model", "optim", "trainer", "callbacks", "logger", "output", "tune"}
    assert left == how_it_ran | sections | {"conformal"} | (top & set(PER_CALL))
