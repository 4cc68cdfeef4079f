"""Several targets per series on the command line (``data.mode=independent`` with
``data.targets=[...]``): each series one multivariate sample, scaled per series and target on
its own training rows, trained, tested and written as the Forecaster's
``mode="independent", targets=[...]`` fits them (tests/test_panel_targets.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_panel_targets import two_target_panel
from tsfm import Forecaster, InputError
from tsfm.config import compose_config
from tsfm.data import make_datamodule
from tsfm.pipeline import build_datamodule
from tsfm.run import run
from tsfm.training.nonnegative import check_run_data

TARGETS = ["sales", "returns"]
LOOKBACK, HORIZON = 12, 4
MODEL = {"d_model": 8, "d_ff": 16, "n_heads": 2, "n_layers": 1}
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def panel_settings(path, frame: pd.DataFrame) -> list[str]:
    frame.to_csv(path, index=False)
    return [
        "data=custom", f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds",
        "data.mode=independent", "data.targets=[sales,returns]", f"data.seq_len={LOOKBACK}",
        f"data.pred_len={HORIZON}",
    ]  # fmt: skip


def test_the_command_lines_forecasts_of_two_targets_are_the_forecasters(tmp_path):
    """The same data and settings (tiny model, seed 0, one epoch): every test window's forecast
    of each target in forecasts.parquet is the one a Forecaster fitted on each series' rows
    before its test rows makes; the file's rows of each target score as metrics.json says."""
    frame = two_target_panel((100, 96))  # 10 validation rows each: val_size=0.125 of 80 and 77
    data = panel_settings(tmp_path / "p.csv", frame)
    model = [f"model.{k}={v}" for k, v in MODEL.items()]
    run_dir = tmp_path / "run"
    whole = [  # every training and validation batch: the Forecaster trains on them all
        "trainer.max_epochs=1", "seed=0", "logger=none", "trainer.enable_progress_bar=false",
        "output.plot=false", "output.print_table=false", "output.forecasts=true",
    ]  # fmt: skip
    run(compose_config(*data, *model, *whole), run_dir)
    written = pl.read_parquet(run_dir / "forecasts.parquet").to_pandas()
    assert list(written.columns) == [
        "window", "series", "target", "cutoff", "ds", "step", "forecast", "y"
    ]  # fmt: skip
    assert sorted(written.series.unique()) == ["a", "b"]
    assert written.groupby(["series", "target"]).size().to_dict() == {
        ("a", "returns"): 17 * HORIZON, ("a", "sales"): 17 * HORIZON,  # 20 test rows
        ("b", "returns"): 16 * HORIZON, ("b", "sales"): 16 * HORIZON,  # 19
    }  # fmt: skip
    metrics = json.loads((run_dir / "metrics.json").read_text())
    errors = (written.forecast - written.y).abs()
    assert metrics["test/mae_original"] == pytest.approx(errors.mean(), rel=1e-9)
    for target in TARGETS:  # each target's own scores, every series' windows pooled
        mine = errors[written.target == target]
        assert metrics[f"test/{target}/mae_original"] == pytest.approx(mine.mean(), rel=1e-9)
    tested = {"a": 20, "b": 19}
    rank = frame.groupby("unique_id").cumcount(ascending=False)
    fitted = frame[rank >= frame.unique_id.map(tested)]  # the rows before each test
    forecaster = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", targets=TARGETS, seed=0,
        max_epochs=1, val_size=0.125, verbose=0, **MODEL,
    ).fit(fitted)  # fmt: skip
    for later in (0, 9):  # the first test window of each series, and one later
        history = frame[rank >= frame.unique_id.map(tested) - later]
        predicted = forecaster.predict(history)
        for series, rows in predicted.groupby("unique_id"):
            cutoff = history.ds[history.unique_id == series].max()
            own = written[(written.series == series) & (written.cutoff == cutoff)]
            for target in TARGETS:
                expected = own[own.target == target].sort_values("ds")
                np.testing.assert_array_equal(rows.ds, expected.ds)
                np.testing.assert_allclose(rows[target], expected.forecast, rtol=1e-5)
    assert Forecaster.from_run(run_dir).get_params()["targets"] == TARGETS


def test_intervals_nonnegative_and_from_run_cover_every_target(tmp_path):
    """Integer ids stay integers; the marked target's forecasts and bounds are floored, the
    other's kept below zero; Forecaster.from_run forecasts both targets as the run did."""
    frame = two_target_panel((160, 130))
    rng = np.random.default_rng(1)
    frame = frame.assign(unique_id=frame.unique_id.map({"a": 10, "b": 20}))
    frame["sales"] = rng.poisson(0.3, len(frame)).astype(float)  # counts, near zero
    data = panel_settings(tmp_path / "p.csv", frame)
    settings = [*data, "data.train_ratio=0.5", "conformal.windows=10", "conformal.step=1"]
    run_dir = tmp_path / "run"
    run(compose_config(*settings, *TINY_ITRANSFORMER[:4], *TINY_RUN,
                       "trainer.limit_test_batches=1.0", "output.forecasts=true",
                       "nonnegative=[sales]"), run_dir)  # fmt: skip
    written = pl.read_parquet(run_dir / "forecasts.parquet")
    assert written.schema["series"] == pl.Int64 and sorted(written["series"].unique()) == [10, 20]
    bounds = [c for c in written.columns if c.startswith("forecast")]
    assert len(bounds) == 5  # the point, and the bounds of the levels 80 and 95
    sales = written.filter(pl.col("target") == "sales").select(bounds).to_numpy()
    returns = written.filter(pl.col("target") == "returns").select(bounds).to_numpy()
    assert sales.min() == 0.0 and (returns < 0).any()  # floored; not marked: kept
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert all(f"test/{t}/mae_original" in metrics for t in TARGETS)
    assert 0 < metrics["test/coverage_95"] <= 1
    converted = Forecaster.from_run(run_dir)
    params = converted.get_params()
    assert converted.columns_ == TARGETS and params["targets"] == TARGETS
    assert params["nonnegative"] == ["sales"] and params["target_col"] == "y"  # unused
    last = written.filter(pl.col("cutoff") == pl.col("cutoff").max().over("series")).to_pandas()
    ends = last.groupby("series").cutoff.first()
    history = frame[frame.ds <= frame.unique_id.map(ends)]
    predicted = converted.predict(history, level=[80])
    assert list(predicted.columns) == [
        "unique_id", "ds", "sales", "sales-lo-80", "sales-hi-80",
        "returns", "returns-lo-80", "returns-hi-80",
    ]  # fmt: skip
    for target in TARGETS:
        own = last[last.target == target].sort_values(["series", "ds"])
        for mine, theirs in ((target, "forecast"), (f"{target}-lo-80", "forecast-lo-80")):
            np.testing.assert_allclose(predicted[mine], own[theirs], atol=1e-5)


def test_target_settings_and_nonnegative_names_are_checked_with_the_fix(tmp_path):
    frame = two_target_panel((100, 96))
    data = panel_settings(tmp_path / "p.csv", frame)
    cases = [
        (["data.target=sales"], r"data.target='sales' and data.targets=\['sales', 'returns'\] "),
        (["data.targets=[sales,cost]"], r"data.targets='cost' are not columns of"),
        (["data.targets=[]"], r"data.targets=\[\] names no target"),
        (
            ["data.targets=[sales,sales]"],
            r"data.targets lists a column twice: \['sales', 'sales'\]",
        ),
        (["data.targets=[sales]"], r"\['returns'\] without a role: list them in data.future_cov"),
        (  # one target named, another value column: the refusal says data.targets takes both
            ["data.targets=null", "data.target=sales"],
            r"\['returns'\] without a role: .*, in data.targets beside \['sales'\] to forecast",
        ),
    ]
    for settings, message in cases:
        with pytest.raises(InputError, match=message):
            make_datamodule(compose_config(*data, *settings).data).setup()
    one = compose_config(*data, "data.targets=[sales]", "data.past_covariates=[returns]")
    assert make_datamodule(one.data).long_target() == "sales"  # one target: as data.target
    datamodule = build_datamodule(compose_config(*data))
    assert datamodule.columns == TARGETS and datamodule.n_vars == 2
    with pytest.raises(InputError, match=r"nonnegative names \['cost'\], which are not targets"):
        check_run_data(compose_config(*data, "nonnegative=[cost]"), datamodule)
    for setting in ("nonnegative=[returns]", "nonnegative=true"):  # returns go below zero
        with pytest.raises(InputError, match=r"target 'returns' of series 'a' is marked"):
            check_run_data(compose_config(*data, setting), datamodule)
    check_run_data(compose_config(*data, "nonnegative=[sales]"), datamodule)  # sales: > 0


def test_a_study_tunes_a_panel_of_two_targets(tmp_path):
    from tests.test_tune import SPACE, TINY
    from tsfm.tuning.config_study import tune

    data = panel_settings(tmp_path / "p.csv", two_target_panel((100, 96)))
    overrides = [*TINY, *data, f"tune.dir={tmp_path}", "tune.n_trials=1", "tune.pruner=none"]
    cfg = compose_config(*overrides)
    cfg.tune.params = SPACE
    study, outputs = tune(cfg, overrides)
    assert [t.state.name for t in study.trials] == ["COMPLETE"]
    assert "- sales\n  - returns" in outputs["experiment"].read_text()  # the preset keeps them
