"""The data layer: papers' splits window for window, train-only scaling, windows, inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.data import SHARED_DATA, needs_shared, synthetic_frame
from tsfm import Forecaster
from tsfm.data import TimeSeriesDataModule, WindowDataset, compute_borders, time_features
from tsfm.data.timefeatures import n_time_features


def test_etth1_window_counts_match_the_papers_loader():
    dm = TimeSeriesDataModule({"name": "etth1", "seq_len": 96, "pred_len": 96})
    dm.setup()
    assert dm.window_counts() == {"train": 8449, "val": 2785, "test": 2785}
    assert dm.borders.val == (8640 - 96, 8640 + 2880)
    assert dm.borders.test == (8640 + 2880 - 96, 8640 + 2 * 2880)


@needs_shared("ETTm1.csv.gz")
def test_ettm1_window_counts_match_the_papers_loader():
    dm = TimeSeriesDataModule({"name": "ettm1", "root": str(SHARED_DATA)})
    assert dm.window_counts() == {"train": 34369, "val": 11425, "test": 11425}


@needs_shared("exchange_rate.csv")
def test_ratio_split_follows_tslib_integer_arithmetic():
    dm = TimeSeriesDataModule({"name": "exchange_rate", "root": str(SHARED_DATA)})
    dm.setup()
    n = 7588
    n_train, n_test = int(n * 0.7), int(n * 0.2)
    assert dm.borders.train == (0, n_train)
    assert dm.borders.val == (n_train - 96, n - n_test)
    assert dm.borders.test == (n - n_test - 96, n)
    assert dm.window_counts() == {"train": 5120, "val": 665, "test": 1422}


def test_scaler_statistics_come_from_training_rows_only():
    dm = TimeSeriesDataModule({"name": "etth1"})
    dm.setup()
    train_rows = dm.table.values[:8640]
    np.testing.assert_allclose(dm.scaler.mean, train_rows.mean(0))
    np.testing.assert_allclose(dm.scaler.std, train_rows.std(0))
    assert not np.allclose(dm.scaler.mean, dm.table.values[:14400].mean(0))


def test_windows_are_the_rows_they_claim_and_marks_follow():
    dm = TimeSeriesDataModule({"name": "etth1", "seq_len": 24, "pred_len": 12})
    dm.setup()
    test = dm.datasets["test"]
    start = dm.borders.test[0]
    scaled = dm.scaler.transform(dm.table.values)
    marks = time_features(dm.table.dates, "h")
    for i in (0, 5, len(test) - 1):
        item = test[i]
        np.testing.assert_allclose(item["x"], scaled[start + i : start + i + 24], rtol=1e-6)
        np.testing.assert_allclose(item["y"], scaled[start + i + 24 : start + i + 36], rtol=1e-6)
        np.testing.assert_allclose(item["y_mark"], marks[start + i + 24 : start + i + 36])
    # the first target of the test split is the first row after the validation border
    assert test[0]["y"][0].tolist() == pytest.approx(scaled[8640 + 2880].tolist(), rel=1e-6)


def test_a_batch_is_gathered_in_one_call_and_matches_single_items():
    values = torch.arange(60, dtype=torch.float32).view(20, 3)
    ds = WindowDataset(values, None, 4, 2)
    batch = ds.__getitems__([3, 0, 7])
    assert batch["x"].shape == (3, 4, 3) and batch["y"].shape == (3, 2, 3)
    for row, i in enumerate([3, 0, 7]):
        assert torch.equal(batch["x"][row], ds[i]["x"])
    assert batch["index"].tolist() == [3, 0, 7]


def test_channel_independent_windows_cover_every_window_and_variate():
    values = torch.arange(60, dtype=torch.float32).view(20, 3)
    ds = WindowDataset(values, None, 4, 2, channel_independent=True)
    assert len(ds) == 15 * 3
    item = ds[15 + 2]  # variate 1, window 2 (variate-major, as S2IP-LLM's Dataset_Custom)
    assert item["variate"] == 1 and item["index"] == 2
    assert torch.equal(item["x"][:, 0], values[2:6, 1])


def test_sampled_variates_are_a_random_subset_per_batch():
    torch.manual_seed(0)
    values = torch.randn(50, 10)
    ds = WindowDataset(values, None, 8, 4, sample_variates=3)
    batch = ds.__getitems__([0, 1])
    cols = batch["variates"]
    assert batch["x"].shape == (2, 8, 3) and len(cols) == 3
    assert torch.equal(batch["x"][0], values[0:8][:, cols])


@pytest.mark.parametrize(
    ("features", "targets", "past"),
    [("M", ["v0", "v1", "OT"], []), ("S", ["OT"], []), ("MS", ["OT"], ["v0", "v1"])],
)
def test_feature_modes_are_roles(frame, features, targets, past):
    dm = TimeSeriesDataModule(
        {"name": "custom", "features": features, "seq_len": 24, "pred_len": 8}, frame=frame
    )
    assert dm.n_vars == len(targets) and dm.columns == targets
    assert list(dm.roles.past) == past and dm.dims()["n_past"] == len(past)
    batch = dm.datasets["train"].__getitems__([0, 1])
    assert batch["x"].shape == (2, 24, len(targets))
    assert ("past_covariates" in batch) == bool(past)


def test_s_does_not_refuse_a_missing_value_in_a_column_it_drops(frame):
    gappy = frame.assign(v0=frame.v0.where(frame.index != 5))
    settings = {"name": "custom", "seq_len": 24, "pred_len": 8}
    dm = TimeSeriesDataModule({**settings, "features": "S"}, frame=gappy)
    assert dm.columns == ["OT"]
    with pytest.raises(ValueError, match="'v0' has a NaN"):
        TimeSeriesDataModule({**settings, "features": "M"}, frame=gappy).setup()


def test_target_is_moved_last(frame):
    dm = TimeSeriesDataModule({"target": "v0", "seq_len": 24, "pred_len": 8}, frame=frame)
    assert dm.columns == ["v1", "OT", "v0"]


def test_time_features_use_the_papers_encoding():
    dates = np.array(["2021-03-04 05:00", "2021-12-31 23:00"], dtype="datetime64[ns]")
    hourly = time_features(dates, "h")
    assert hourly.shape == (2, 4)
    assert hourly[0, 0] == pytest.approx(5 / 23 - 0.5)  # hour of day
    assert hourly[0, 1] == pytest.approx(3 / 6 - 0.5)  # Thursday
    assert hourly[0, 2] == pytest.approx(3 / 30 - 0.5)  # day of month
    assert hourly[1, 3] == pytest.approx(364 / 365 - 0.5)  # day of year
    assert (n_time_features("15min"), n_time_features("t"), n_time_features("D")) == (5, 5, 3)
    assert n_time_features("W") == 2 and n_time_features("M") == 1
    with pytest.raises(ValueError, match="unknown frequency"):
        time_features(dates, "fortnightly")


def test_frames_files_and_formats_give_the_same_data(frame, tmp_path):
    cfg = {"seq_len": 24, "pred_len": 8}
    reference = TimeSeriesDataModule(cfg, frame=frame)
    reference.setup()
    frame.to_csv(tmp_path / "s.csv", index=False)
    frame.to_csv(tmp_path / "s.csv.gz", index=False)
    frame.to_parquet(tmp_path / "s.parquet")
    sources = [TimeSeriesDataModule(cfg, frame=pl.from_pandas(frame))]
    sources += [
        TimeSeriesDataModule({**cfg, "name": "custom", "path": str(tmp_path / f)})
        for f in ("s.csv", "s.csv.gz", "s.parquet")
    ]
    for dm in sources:
        dm.setup()
        np.testing.assert_allclose(dm.table.values, reference.table.values)
        assert dm.window_counts() == reference.window_counts()
    indexed = TimeSeriesDataModule(cfg, frame=frame.set_index("date"))
    indexed.setup()
    assert indexed.columns == reference.columns


def test_few_shot_percent_keeps_the_first_windows_and_the_full_train_scaler():
    borders = compute_borders("ett_hour", 17420, 96, 96, percent=10)
    assert borders.train == (0, (8640 - 96) * 10 // 100 + 96)
    assert borders.scaler == (0, 8640)
    subset = compute_borders("ett_hour", 17420, 96, 96, percent=10, scaler_on_subset=True)
    assert subset.scaler == borders.train


def test_split_ratios_on_an_ett_benchmark_are_refused_naming_its_fixed_borders():
    borders = "rows 0-8640 train, 8640-11520 validation, 11520-14400 test"
    with pytest.raises(ValueError, match=rf"train_ratio=0.9 and .*test_ratio=0.2 .*{borders}"):
        compute_borders("ett_hour", 17420, 96, 96, train_ratio=0.9)
    with pytest.raises(ValueError, match=r"do not apply to an ETT benchmark.*data=custom"):
        TimeSeriesDataModule({"name": "etth1", "test_ratio": 0.1}).setup()
    default = compute_borders("ett_minute", 69680, 96, 96, train_ratio=0.7, test_ratio=0.2)
    assert default.test == (4 * 8640 + 4 * 2880 - 96, 4 * 14400)


# ---------------------------------------------------------------------------- bad input
def _load(frame, **cfg):
    dm = TimeSeriesDataModule({"seq_len": 24, "pred_len": 8, **cfg}, frame=frame)
    dm.setup()
    return dm


def test_nan_is_refused_naming_column_and_row(frame):
    frame.loc[37, "v1"] = np.nan
    with pytest.raises(
        ValueError, match=r"column 'v1' has a NaN/missing value at row 37 \(2020-01-02 13:00:00\)"
    ):
        _load(frame)


def test_inf_is_refused(frame):
    frame.loc[5, "OT"] = np.inf
    with pytest.raises(ValueError, match=r"column 'OT' has an infinite value at row 5"):
        _load(frame)


def test_missing_values_in_a_real_file_are_reported_as_missing():
    path = SHARED_DATA / "extra" / "aus_production.csv"
    if not path.exists():
        pytest.skip("shared data not present")
    with pytest.raises(ValueError, match="column 'Tobacco' has a NaN/missing value at row 194"):
        TimeSeriesDataModule(
            {
                "name": "custom",
                "path": str(path),
                "date_col": None,
                "target": "Gas",
                "columns": ["Beer", "Tobacco", "Bricks", "Cement", "Electricity", "Gas"],
                "seq_len": 8,
                "pred_len": 4,
            }
        ).setup()


def test_duplicate_timestamps_are_refused(frame):
    frame.loc[10, "date"] = frame.loc[9, "date"]
    with pytest.raises(ValueError, match="duplicate timestamp .* at rows 9 and 10"):
        _load(frame)


def test_unsorted_timestamps_are_refused(frame):
    frame = frame.iloc[[*range(20), 25, *range(20, 25), *range(26, 400)]].reset_index(drop=True)
    with pytest.raises(ValueError, match="not sorted: row 21"):
        _load(frame)


def test_non_numeric_columns_are_refused(frame):
    frame["site"] = "a"
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['site'\]"):
        _load(frame)
    assert _load(frame, columns=["v0", "OT"]).columns == ["v0", "OT"]
    with pytest.raises(ValueError, match="site") as plain:
        _load(frame)
    assert "long table" not in str(plain.value)  # its timestamps do not repeat
    long = pd.concat([frame.assign(site="a"), frame.assign(site="b")], ignore_index=True)
    with pytest.raises(ValueError, match="looks like a long table .*data.id_col"):
        _load(long)


def test_unknown_target_is_refused(frame):
    with pytest.raises(ValueError, match="target column 'load' not found"):
        _load(frame, target="load")


def test_series_too_short_is_refused():
    with pytest.raises(ValueError, match="the val split has .* rows but one window needs"):
        _load(synthetic_frame(n_rows=60), seq_len=24, pred_len=8)
    with pytest.raises(
        ValueError,
        match="the train split has 14 rows but one window needs seq_len \\+ pred_len = 32",
    ):
        _load(synthetic_frame(n_rows=20), seq_len=24, pred_len=8)


@pytest.mark.parametrize(("train", "test"), [(0.8, 0.3), (0.0, 0.2), (0.7, 1.0), (-0.1, 0.2)])
def test_impossible_split_ratios_are_refused(frame, train, test):
    with pytest.raises(ValueError, match="impossible split ratios"):
        _load(frame, train_ratio=train, test_ratio=test)


def test_missing_file_says_where_it_looked_and_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"no ETTh2.csv .* under {tmp_path}.*ETDataset"):
        TimeSeriesDataModule({"name": "etth2", "root": str(tmp_path)}).setup()


def test_unknown_dataset_and_setting_are_refused():
    with pytest.raises(ValueError, match="unknown dataset 'ettx'"):
        TimeSeriesDataModule({"name": "ettx"}).setup()
    with pytest.raises(ValueError, match=r"unknown data setting\(s\) \['seqlen'\]"):
        TimeSeriesDataModule({"seqlen": 4})


def test_data_root_from_environment(monkeypatch, tmp_path, frame):
    frame.to_csv(tmp_path / "ETTh2.csv", index=False)
    monkeypatch.setenv("TSFM_DATA", str(tmp_path))
    spec_dm = TimeSeriesDataModule({"name": "etth2", "seq_len": 24, "pred_len": 8})
    # found the file (named in the message); it is not the published ETTh2
    with pytest.raises(ValueError, match=f"{tmp_path}.*400 rows where the published file has"):
        spec_dm.setup()


def test_dates_as_people_have_them():
    from tsfm.data.frames import quarter_starts, read_frame

    quarterly = pd.DataFrame({"Quarter": ["1956 Q1", "1956 Q2", "1956 Q3"], "Beer": [1.0, 2, 3]})
    table = read_frame(quarterly)  # the one text column is the time column
    assert list(table.times.astype("datetime64[D]").astype(str)) == [
        "1956-01-01",
        "1956-04-01",
        "1956-07-01",
    ]
    periods = quarterly.set_index(pd.PeriodIndex(["1956Q1", "1956Q2", "1956Q3"], freq="Q"))
    assert (read_frame(periods.drop(columns="Quarter")).times == table.times).all()
    stamps = quarter_starts([1959, 1959, 2009], [1, 4, 3])
    assert list(stamps.astype("datetime64[D]").astype(str)) == [
        "1959-01-01",
        "1959-10-01",
        "2009-07-01",
    ]
    macro = pd.DataFrame({"year": [1959, 1959, 1959], "quarter": [1, 2, 3], "gdp": [1.0, 2, 3]})
    with pytest.raises(
        ValueError, match=r"quarter_starts\(df.pop\('year'\), df.pop\('quarter'\)\)"
    ):
        read_frame(macro)  # integers everywhere: the hint says how to date the rows
    macro.insert(0, "date", quarter_starts(macro.pop("year"), macro.pop("quarter")))  # the hint
    dated = read_frame(macro)
    assert list(dated.times.astype("datetime64[M]").astype(str)) == [
        "1959-01",
        "1959-04",
        "1959-07",
    ]
    assert dated.columns == ["gdp"]
    monthly = pd.DataFrame({"Year": [2020, 2020], "Month": [1, 2], "sales": [1.0, 2]})
    with pytest.raises(ValueError, match=r"month=df.pop\('Month'\)"):
        read_frame(monthly)
    monthly.insert(
        0, "date", pd.to_datetime(dict(year=monthly.pop("Year"), month=monthly.pop("Month"), day=1))
    )
    assert read_frame(monthly).columns == ["sales"]
    local = pd.date_range("2021-10-31 00:00", periods=5, freq="h", tz="Europe/Berlin")
    naive = pd.DataFrame({"date": local.tz_localize(None), "v": range(5)})
    with pytest.raises(ValueError, match="daylight saving.*tz_localize"):
        read_frame(naive)
    back = pd.date_range("2021-10-31 00:00", periods=8, freq="30min", tz="Europe/Berlin")
    naive = pd.DataFrame({"date": back.tz_localize(None), "v": range(8)})
    with pytest.raises(ValueError, match="goes back 30 minutes at row 6 .* daylight saving"):
        read_frame(naive)
    for step in ("h", "30min"):  # clocks forward: local times skip an hour
        spring = pd.date_range("2021-03-28 00:00", periods=96, freq=step, tz="Europe/Berlin")
        naive = pd.DataFrame({"date": spring.tz_localize(None), "v": range(96)})
        with pytest.raises(ValueError, match="clocks skip an hour at the start of daylight"):
            Forecaster(horizon=4, lookback=8).fit(naive)
    gap = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=96, freq="h"), "v": 1.0})
    with pytest.raises(ValueError, match="not regular: row 60 .* Fill the missing") as refused:
        Forecaster(horizon=4, lookback=8).fit(gap.drop(index=60))
    assert "daylight" not in str(refused.value)  # a gap at noon: no clock change
    night = pd.date_range("2021-01-10", periods=96, freq="15min")
    paris = pd.date_range("2021-01-10", periods=96, freq="h", tz="Europe/Paris")
    for stamps in (night.delete(5), paris.delete(2)):  # 15 minutes at night; a zone-aware frame
        frame = pd.DataFrame({"date": stamps, "v": 1.0})
        with pytest.raises(ValueError, match="not regular") as refused:
            Forecaster(horizon=4, lookback=8).fit(frame)
        assert "daylight" not in str(refused.value)
