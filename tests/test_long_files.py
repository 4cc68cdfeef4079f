"""Long files on the command line (``data.id_col``): read jointly, as the Forecaster's
``mode="joint"``, window for window the same data as the wide file they pivot to."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from tests.helpers.runs import TINY_RUN, run_cli
from tests.test_covariates import panel_frame
from tsfm.data import TimeSeriesDataModule

SETTINGS = {"name": "custom", "seq_len": 24, "pred_len": 6, "date_col": "ds"}


def long_file(tmp_path) -> tuple[str, pd.DataFrame]:
    frame = panel_frame(lengths=(200, 200, 200), categories=("a", "b", "a"))
    frame["ds"] = (
        frame.groupby("unique_id")
        .cumcount()
        .map(lambda k: pd.Timestamp("2021-01-01") + pd.Timedelta(hours=k))
    )
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    return str(path), frame


def test_a_long_file_gives_the_windows_of_its_wide_pivot(tmp_path):
    path, frame = long_file(tmp_path)
    long = TimeSeriesDataModule(
        {**SETTINGS, "path": path, "id_col": "unique_id", "target": "y",
         "future_covariates": ["promo"], "static_covariates": ["store"]}
    )  # fmt: skip
    long.setup()
    wide = frame.pivot(index="ds", columns="unique_id", values=["y", "promo"])
    wide.columns = [s if v == "y" else f"promo[{s}]" for v, s in wide.columns]
    wide_path = tmp_path / "wide.csv"
    wide.reset_index().to_csv(wide_path, index=False)
    future = ["promo[s0]", "promo[s1]", "promo[s2]"]
    pivot = TimeSeriesDataModule(
        {**SETTINGS, "path": str(wide_path), "targets": ["s0", "s1", "s2"],
         "future_covariates": future}
    )  # fmt: skip
    pivot.setup()
    assert long.roles.targets == ("s0", "s1", "s2") and long.roles.future == tuple(future)
    for stage in ("train", "val", "test"):
        a, b = long.datasets[stage], pivot.datasets[stage]
        assert len(a) == len(b)
        first, last = a.__getitems__([0, len(a) - 1]), b.__getitems__([0, len(b) - 1])
        for key in ("x", "y", "future_covariates"):
            assert torch.equal(first[key], last[key]), (stage, key)
    assert long.static["cat"][:, 0].tolist() == [1, 2, 1]  # a, b, a: one value per series
    assert long.dims()["static_cardinalities"] == [2]


def test_a_long_file_is_read_with_its_series_in_id_order_whatever_its_rows_order(tmp_path):
    path, frame = long_file(tmp_path)
    reordered = frame.sample(frac=1.0, random_state=0).sort_values(
        "unique_id", ascending=False, kind="stable"
    )  # series s2, s1, s0, each one's rows shuffled
    other = tmp_path / "reordered.csv"
    reordered.to_csv(other, index=False)
    read = []
    for source in (path, str(other)):
        datamodule = TimeSeriesDataModule(
            {**SETTINGS, "path": source, "id_col": "unique_id", "target": "y",
             "future_covariates": ["promo"], "static_covariates": ["store"]}
        )  # fmt: skip
        datamodule.setup()
        read.append(datamodule)
    assert [d.roles.targets for d in read] == [("s0", "s1", "s2")] * 2
    assert read[1].static["cat"][:, 0].tolist() == [1, 2, 1]  # each series' own store
    assert read[1].protocol()["data_sha256"] == read[0].protocol()["data_sha256"]


def test_long_file_settings_are_checked_with_the_fix(tmp_path):
    path, _ = long_file(tmp_path)
    cases = [
        ({"id_col": "series", "target": "y"}, "data.id_col='series' are not columns"),
        ({"id_col": "unique_id", "target": "y", "features": "S"}, "apply to wide files"),
        ({"id_col": "unique_id", "target": "y"}, "\\['store'\\].*data.static_covariates"),
        (
            {"id_col": "unique_id", "target": "y", "static_covariates": ["store"]},
            "\\['promo'\\] without a role: list them in data.future_covariates",
        ),
        (
            {
                "id_col": "unique_id",
                "target": "y",
                "static_covariates": ["store"],
                "future_covariates": ["temp"],
            },
            "data.future_covariates names 'temp', which is not a covariate column",
        ),
    ]
    for settings, message in cases:
        with pytest.raises(ValueError, match=message):
            TimeSeriesDataModule({**SETTINGS, "path": path, **settings}).setup()


def test_the_command_line_trains_on_a_long_file_with_covariates_and_statics(tmp_path):
    path, _ = long_file(tmp_path)
    result = run_cli(
        "model=itransformer", "data=custom", f"data.path={path}", "data.date_col=ds",
        "data.id_col=unique_id", "data.target=y", "data.future_covariates=[promo]",
        "data.static_covariates=[store]", "data.seq_len=24", "data.pred_len=6",
        *TINY_RUN, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test/mse"] > 0
