"""Long files of independent series on the command line (``data.mode=independent``): each
series split by its own rows from its end, scaled on its own training rows, trained, validated
and tested as the Forecaster's ``mode="independent"`` panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_covariates import panel_frame
from tsfm.config import compose_config
from tsfm.data import make_datamodule
from tsfm.data.panel import PanelDataModule
from tsfm.pipeline import fit_and_test

LENGTHS, HORIZON = (150, 100, 60), 8
SETTINGS = {
    "name": "custom", "id_col": "unique_id", "date_col": "ds", "target": "y",
    "mode": "independent", "seq_len": 24, "pred_len": HORIZON, "cutoffs": "per_series",
}  # fmt: skip  # each series split from its own end (shared cutoffs: tests/test_panel_splits.py)


def long_file(tmp_path, **columns) -> tuple[str, pd.DataFrame]:
    frame = panel_frame(lengths=LENGTHS, categories=("a", "b", "a")).drop(columns=["store"])
    frame = frame.drop(columns=["promo"]).assign(**columns)
    path = tmp_path / "panel.csv"
    frame.to_csv(path, index=False)
    return str(path), frame


def test_each_series_is_split_from_its_own_end_and_scaled_on_its_training_rows(tmp_path):
    path, frame = long_file(tmp_path)
    datamodule = make_datamodule({**SETTINGS, "path": path})
    assert isinstance(datamodule, PanelDataModule)
    datamodule.setup()
    for j, (series, rows) in enumerate(frame.groupby("unique_id", sort=False)):
        n = len(rows)
        n_test = max(HORIZON, round(0.2 * n))
        n_val = max(HORIZON, round(0.1 * n))
        n_train = n - n_test - n_val
        y = rows.y.to_numpy()
        assert datamodule.series_mean[j, 0] == pytest.approx(y[:n_train].mean())  # train only
        for stage, first, end in (
            ("train", 1, n_train), ("val", n_train, n - n_test), ("test", n - n_test, n),
        ):  # fmt: skip
            dataset = datamodule.datasets[stage]
            cuts = dataset.cuts[dataset.series == j].numpy()
            assert (cuts.min(), cuts.max()) == (first, end - HORIZON), (series, stage)
        last = int(np.flatnonzero(datamodule.datasets["test"].series.numpy() == j)[-1])
        times = datamodule.window_times("test", last)  # the series' last look-back and horizon
        np.testing.assert_array_equal(times, rows.ds.to_numpy()[-(24 + HORIZON) :])
        assert datamodule.window_name("test", last) == f"series {series!r}, test window {last}"


def test_a_long_file_of_independent_series_trains_and_tests_from_the_command_line(tmp_path):
    path, _ = long_file(tmp_path, promo=lambda f: (f.ds.dt.hour % 5 == 0).astype(float))
    overrides = [f"data.{k}={v}" for k, v in SETTINGS.items() if k not in ("seq_len", "pred_len")]
    cfg = compose_config(
        "data=custom", *overrides, f"data.path={path}", "data.future_covariates=[promo]",
        *TINY_ITRANSFORMER, *TINY_RUN, "trainer.limit_test_batches=1.0",
    )  # fmt: skip
    result = fit_and_test(cfg, tmp_path)
    windows = sum(max(HORIZON, round(0.2 * n)) - HORIZON + 1 for n in LENGTHS)
    assert result.metrics["windows/test"] == windows  # every series' test windows, scored
    assert result.metrics["test/mse"] > 0 and np.isfinite(result.metrics["test/mae"])
    assert result.module.model.future_embedding is not None  # promo known over the horizon
    per_series = {  # each series' own test scores, in its own units
        s: result.metrics[f"test/{s}/mae_original"] for s in ("s0", "s1", "s2")
    }
    counts = [max(HORIZON, round(0.2 * n)) - HORIZON + 1 for n in LENGTHS]  # windows each
    pooled = sum(per_series[f"s{j}"] * counts[j] for j in range(3)) / sum(counts)
    assert pooled == pytest.approx(result.metrics["test/mae_original"], rel=1e-6)
    assert len(set(per_series.values())) == 3


def test_independent_long_file_settings_are_checked_with_the_fix(tmp_path):
    path, _ = long_file(tmp_path, price=1.0)
    cases = [
        ({"mode": "independent", "id_col": None}, "name its series id column with data.id_col"),
        ({"mode": "pooled"}, "data.mode must be one of"),
        ({"id_col": "series"}, "data.id_col='series' are not columns"),
        ({"features": "MS"}, "data.features: not available with data.mode=independent"),
        (  # several targets per series: data.targets alone (tests/test_panel_files_targets.py)
            {"targets": ["y", "price"]},
            r"data.target='y' and data.targets=\['y', 'price'\] both name each series' targets",
        ),
        ({"test_ratio": 0.4, "train_ratio": 0.6}, "leave a share for validation"),
        ({}, "\\['price'\\] without a role: list them in data.future_covariates"),
        ({"pred_len": 30, "past_covariates": ["price"]}, "fewer than horizon \\+ 1"),
    ]
    for settings, message in cases:
        with pytest.raises(ValueError, match=message):
            make_datamodule({**SETTINGS, "path": path, **settings}).setup()


def test_a_series_with_absent_steps_names_the_command_line_settings(tmp_path):
    path, frame = long_file(tmp_path)
    frame.drop(index=[40, 41]).to_csv(path, index=False)  # two hours gone from series s0
    with pytest.raises(ValueError, match="data.freq=... in the CLI.*data.missing=mask in the CLI"):
        make_datamodule({**SETTINGS, "path": path}).setup()


def test_panel_conformal_scores_pool_the_series_and_gaps_are_named(tmp_path):
    path, frame = long_file(tmp_path)
    overrides = [f"data.{k}={v}" for k, v in SETTINGS.items() if k not in ("seq_len", "pred_len")]
    base = ["data=custom", *overrides, "data.train_ratio=0.5", *TINY_ITRANSFORMER, *TINY_RUN]

    def run(data_path: str, *extra: str):
        cfg = compose_config(*base, f"data.path={data_path}", "conformal.step=1", *extra)
        return fit_and_test(cfg, tmp_path / "run")

    with pytest.raises(ValueError, match=r"5 conformal calibration windows give 15 scores pooled "
                       r"over the 3 series.*7 give every one"):  # fmt: skip
        run(path, "conformal.windows=5")
    assert np.isfinite(run(path, "conformal.windows=7").metrics["test/coverage_95"])
    gappy = frame.copy()
    gappy.loc[gappy.index[gappy.unique_id == "s1"][-25:-12], "y"] = np.nan
    gappy.to_csv(tmp_path / "gappy.csv", index=False)
    with pytest.raises(ValueError, match=r"give 16 scores observed \(fewest from \['s1'\]\)"):
        run(str(tmp_path / "gappy.csv"), "conformal.windows=7", "data.missing=mask")
    with pytest.raises(ValueError, match="adaptive_rate adapts along one series"):
        run(path, "conformal.windows=7", "conformal.adaptive_rate=0.01")
