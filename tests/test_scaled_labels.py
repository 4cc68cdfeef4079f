"""The scaled metrics are labelled by the scaler they are on: metrics.json's ``scaler``
(``standard``, ``robust`` or ``none``), the console table's first row and the baseline's note;
``scaled (papers)`` only where the papers' standard scaling was used."""

from __future__ import annotations

import json

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.config import compose_config
from tsfm.report import metrics_table, run_title
from tsfm.run import run

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("labels") / "series.csv"
    synthetic_frame(300, 2).to_csv(path, index=False)
    return ["data=custom", f"data.path={path}", *TINY_ITRANSFORMER, *TINY_RUN]


@pytest.mark.parametrize(
    ("settings", "scaler", "label"),
    [
        ([], "standard", "scaled (papers)"),
        (["data.scaler=robust"], "robust", "robust-scaled"),
        (["data.scale=false"], "none", "unscaled"),
    ],
)
def test_metrics_json_and_the_table_name_the_scaler(data, tmp_path, settings, scaler, label):
    cfg = compose_config(*data, *settings)
    metrics = run(cfg, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["scaler"] == scaler
    table = metrics_table(metrics)
    rows = table.splitlines()
    assert rows[2].startswith(f"{label:<16}") and rows[3].startswith("original scale")
    assert f"({label.replace(' (papers)', '')}; season" in table  # the seasonal-naive row
    assert table.count("(papers)") == (scaler == "standard")
    title = run_title(cfg, metrics)
    assert title.endswith(f"({label})") == (scaler != "standard")
    if scaler == "none":  # the data's own units: the same errors as the original scale's
        assert metrics["test/mae"] == pytest.approx(metrics["test/mae_original"], rel=1e-5)


def test_an_older_runs_train_rows_reads_as_the_standard_scaler():
    metrics = {"scaler": "train rows", "test/mse": 1.0, "test/mae": 1.0, "test/rmse": 1.0}
    assert metrics_table(metrics).splitlines()[2].startswith("scaled (papers)")


@pytest.mark.parametrize(("scaler", "label"), [("robust", "robust-scaled"), ("standard", "scaled")])
def test_an_older_runs_table_takes_the_scaler_from_its_config(data, scaler, label):
    """Before metrics.json named the scaler it said "train rows" for every scaled run, a
    robust one too: the table a resumed finished run shows reads the run's config."""
    from tsfm.report import with_configured_scaler

    cfg = compose_config(*data, f"data.scaler={scaler}")
    metrics = {"scaler": "train rows", "test/mse": 1.0, "test/mae": 1.0, "test/rmse": 1.0}
    shown = with_configured_scaler(metrics, cfg)
    assert metrics_table(shown).splitlines()[2].startswith(label)
    assert metrics["scaler"] == "train rows"  # what the run wrote is not changed
    assert with_configured_scaler({"scaler": "none"}, cfg) == {"scaler": "none"}
