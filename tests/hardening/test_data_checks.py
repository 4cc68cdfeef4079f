"""Issue 16, items 7, 8 and 10 (data): gaps, edited benchmark files, frequencies that do not
fit, overflowing values and the messages of malformed files and frames."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers.data import REPO, SHARED_DATA, needs_shared, synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.helpers.strict_json import read_strict_json
from tsfm.config import compose_config
from tsfm.data import TimeSeriesDataModule, read_frame
from tsfm.pipeline import fit_and_test
from tsfm.training.artifacts import metrics_json

WINDOWS = {"seq_len": 24, "pred_len": 8}


def _custom(tmp_path, frame, **settings) -> TimeSeriesDataModule:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    dm = TimeSeriesDataModule({"name": "custom", "path": str(path), **WINDOWS, **settings})
    dm.setup()
    return dm


# ---------------------------------------------------------------------- gaps and frequencies
@pytest.mark.parametrize("settings", [{"freq": "h"}, {"time_features": False}, {}])
def test_missing_timestamps_are_refused_whatever_the_calendar_settings(tmp_path, settings):
    gappy = synthetic_frame(400).drop(index=range(200, 205))
    with pytest.raises(ValueError, match=r"not regular: row 200 .* set data.allow_irregular=true"):
        _custom(tmp_path, gappy, **settings)
    accepted = _custom(tmp_path, gappy, allow_irregular=True, freq="h")
    assert len(accepted.table) == 395


@pytest.mark.parametrize(
    ("freq", "fits"), [("D", False), ("15min", False), ("h", True), ("2h", True), (None, True)]
)
def test_data_freq_must_describe_the_datas_steps(tmp_path, freq, fits):
    frame = synthetic_frame(400)  # hourly
    if fits:
        _custom(tmp_path, frame, freq=freq)
    else:
        with pytest.raises(ValueError, match=rf"data.freq='{freq}' does not fit the data"):
            _custom(tmp_path, frame, freq=freq)


def test_a_benchmark_takes_the_papers_h_but_not_another_unit():
    TimeSeriesDataModule({"name": "etth1", **WINDOWS, "freq": "h"}).setup()
    with pytest.raises(ValueError, match="data.freq='D' does not fit.*Set data.freq=h, or null"):
        TimeSeriesDataModule({"name": "etth1", **WINDOWS, "freq": "D"}).setup()


@needs_shared("ETTm1.csv.gz", "weather.csv.gz")
def test_published_files_with_their_known_quirks_pass_the_registry_check():
    for name in ("ettm1", "weather"):  # 15-min data with the papers' h; a duplicate and a gap
        dm = TimeSeriesDataModule({"name": name, "root": str(SHARED_DATA), "freq": "h"})
        dm.setup()
        assert len(dm.table) == {"ettm1": 69680, "weather": 52696}[name]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(index=range(5000, 5100)), "17320 rows where the published file has"),
        (lambda f: f.iloc[:-1], "17419 rows where the published file has 17420"),
        (
            lambda f: f.assign(date=pd.to_datetime(f.date) + pd.Timedelta(days=1)),
            "where the published file runs from 2016-07-01",
        ),
    ],
)
def test_an_edited_benchmark_file_is_refused(tmp_path, edit, message):
    frame = pd.read_csv(REPO / "datasets" / "ETTh1.csv")
    edit(frame).to_csv(tmp_path / "ETTh1.csv", index=False)
    with pytest.raises(
        ValueError, match=rf"dataset 'etth1' .* not the published file: .*{message}"
    ):
        TimeSeriesDataModule({"name": "etth1", "root": str(tmp_path)}).setup()


# ---------------------------------------------------------------------- overflow
def test_original_scale_metrics_of_huge_values_are_float64_and_finite(tmp_path):
    frame = synthetic_frame(400)
    runs = {}
    for factor in (1.0, 1e30):
        scaled = frame.assign(**{c: frame[c] * factor for c in ("v0", "v1", "OT")})
        path = tmp_path / f"x{factor:g}.csv"
        scaled.to_csv(path, index=False)
        cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "data=custom", f"data.path={path}")
        runs[factor] = fit_and_test(cfg, tmp_path / f"run{factor:g}").metrics
    small, huge = runs[1.0], runs[1e30]
    assert huge["test/mse"] == pytest.approx(small["test/mse"], rel=1e-5)  # same scaled data
    # 1e60 times the first run: beyond float32, which turned it into inf before
    assert huge["test/mse_original"] == pytest.approx(small["test/mse_original"] * 1e60, rel=1e-4)
    text = metrics_json(huge)
    assert json.loads(text)["status"] == "ok" and "Infinity" not in text


def test_metrics_json_is_strict_and_names_what_was_not_finite(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(metrics_json({"test/mse": float("nan"), "test/mae": float("inf"), "e": 3}))
    metrics = read_strict_json(path)
    assert metrics["status"] == "non_finite" and metrics["test/mse"] is None
    assert metrics["non_finite"] == ["test/mse", "test/mae"] and metrics["e"] == 3


def test_values_whose_statistics_overflow_are_refused(tmp_path):
    huge = synthetic_frame(400).assign(v1=lambda d: d.v1 * 1e300)
    with pytest.raises(ValueError, match=r"column\(s\) \['v1'\] .* too large for their mean"):
        _custom(tmp_path, huge)
    with pytest.raises(ValueError, match=r"column\(s\) \['v1'\] .* too large"):
        tiny().fit(huge)
    beyond32 = synthetic_frame(400).assign(v1=lambda d: d.v1 * 1e39)
    with pytest.raises(
        ValueError,
        match=r"column 'v1' holds .* at row 0 \(2020-01-01 00:00:00\) .*, beyond 1.8e\+19.*set data.scale=true",
    ):
        _custom(tmp_path, beyond32, scale=False)


# ---------------------------------------------------------------------- messages
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("date,a,OT\n", r"has a header \(\['date', 'a', 'OT'\]\) but no data rows"),
        ("date,a,a,OT\n2020-01-01,1,2,3\n", r"repeats the column name\(s\) \['a'\]"),
        (
            "date,a,OT\n" + "".join(f"2020-01-{d:02d},,{d}\n" for d in range(1, 29)),
            r"column\(s\) \['a'\] are empty \(every value is missing\)",
        ),
    ],
)
def test_malformed_files_are_refused_with_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        TimeSeriesDataModule({"name": "custom", "path": str(path), **WINDOWS}).setup()


def test_malformed_frames_name_the_column():
    mixed = synthetic_frame(50).astype({"v0": object})
    mixed.loc[17, "v0"] = "n/a"
    with pytest.raises(ValueError, match=r"column 'v0' cannot be read .* row 17 holds 'n/a'"):
        read_frame(mixed)
    twice = synthetic_frame(50)
    twice.columns = ["date", "v0", "v0", "OT"]
    with pytest.raises(ValueError, match=r"repeats the column name\(s\) \['v0'\]"):
        read_frame(twice)
    empty = synthetic_frame(50)
    empty["v1"] = pd.Series([None] * 50, dtype=object)
    with pytest.raises(ValueError, match=r"\['v1'\] are empty"):
        read_frame(empty)
