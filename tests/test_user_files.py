"""A user's own file on the command line, as people have them: a path given without
data=custom, pandas' row-number column, other separators, thousands separators, a path that
is not where it is looked for. Each is refused naming what is wrong and the fix."""

from __future__ import annotations

import io
import os
import warnings

import pandas as pd
import polars as pl
import pytest
from omegaconf import OmegaConf

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.config import check_relative_data_path, compose_config
from tsfm.data import TimeSeriesDataModule, make_datamodule, read_file, read_frame
from tsfm.data.frames import build_table
from tsfm.data.sources import BUNDLED_DIR
from tsfm.pipeline import fit_and_test

WINDOWS = {"seq_len": 24, "pred_len": 8}


def _custom(path, **settings) -> TimeSeriesDataModule:
    dm = TimeSeriesDataModule({"name": "custom", "path": str(path), **WINDOWS, **settings})
    dm.setup()
    return dm


# ------------------------------------------------------------- settings of custom data only
def test_a_path_without_data_custom_is_refused_not_replaced_by_the_benchmark(tmp_path):
    path = tmp_path / "mine.csv"
    synthetic_frame(200).to_csv(path, index=False)
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, f"data.path={path}", "data.target=OT")
    with pytest.raises(ValueError, match=rf"data.path={path} is set, but data.name is 'etth1'.*"
                       "add data=custom to read your own file"):  # fmt: skip
        fit_and_test(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.parametrize(
    ("settings", "shown"),
    [
        ({"id_col": "unique_id"}, "data.id_col=unique_id is set"),
        ({"mode": "independent", "id_col": "unique_id"}, "data.id_col=unique_id and data.mode"),
    ],
)
def test_long_file_settings_with_a_registered_dataset_are_refused(settings, shown):
    with pytest.raises(ValueError, match=f"{shown}.*registered dataset.*add data=custom"):
        make_datamodule({"name": "etth1", **WINDOWS, **settings}).setup()


def test_m4_refuses_the_long_file_settings_it_would_ignore():
    config = {"name": "m4_hourly", "id_col": "unique_id", "mode": "independent"}
    with pytest.raises(ValueError, match=r"data.id_col, data.mode: not available for M4"):
        make_datamodule(config)


@pytest.mark.parametrize("key", ["data.id_col=unique_id", "data.mode=independent"])
def test_the_forecaster_points_a_long_frame_setting_to_its_argument(key):
    argument = key.split(".")[1].split("=")[0]
    with pytest.raises(ValueError, match=f"'{argument}' argument controls; pass {argument}="):
        tiny(overrides=[key]).fit(synthetic_frame(120))


# ---------------------------------------------------------------- pandas' row-number column
def _indexed_csv(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "indexed.csv"
    frame.to_csv(path)  # pandas' default: the row numbers first, under an empty header
    return path


@pytest.mark.parametrize("features", ["M", "MS"])
def test_pandas_row_numbers_in_a_file_are_refused_with_the_fixes(tmp_path, features):
    path = _indexed_csv(tmp_path, synthetic_frame(200))
    with pytest.raises(ValueError, match=r"column\(s\) \[''\] have no name: most likely the row "
                       r"numbers \(index\) pandas writes.*index=False.*data.columns"):  # fmt: skip
        _custom(path, target="OT", features=features)
    assert _custom(path, target="OT", columns=["v0", "OT"]).table.columns == ["v0", "OT"]
    assert _custom(path, target="OT", features="S").table.columns == ["OT"]  # not read


def test_pandas_row_numbers_in_a_long_file_and_a_parquet_index_are_refused(tmp_path):
    path = _indexed_csv(tmp_path, to_long(synthetic_frame(60)))
    settings = {"id_col": "unique_id", "date_col": "ds", "target": "y"}
    with pytest.raises(ValueError, match=r"column\(s\) \[''\] have no name"):
        _custom(path, **settings)
    with pytest.raises(ValueError, match=r"column\(s\) \[''\] have no name"):
        make_datamodule({"name": "custom", "path": str(path), "mode": "independent", **WINDOWS,
                         **settings}).setup()  # fmt: skip
    kept = synthetic_frame(200).drop(index=[5])  # an index other than a range is written
    kept.to_parquet(tmp_path / "kept.parquet")
    with pytest.raises(ValueError, match=r"\['__index_level_0__'\] have no name"):
        _custom(tmp_path / "kept.parquet", target="OT")


def test_an_empty_column_from_trailing_commas_is_named_as_such(tmp_path):
    text = synthetic_frame(60).to_csv(index=False).replace("\n", ",\n")
    (tmp_path / "trailing.csv").write_text(text)
    with pytest.raises(ValueError, match=r"\[''\] have no name and no values: a separator at"):
        _custom(tmp_path / "trailing.csv", target="OT")


def test_a_frame_read_with_its_row_numbers_is_refused_by_the_forecaster():
    indexed = pd.read_csv(io.StringIO(synthetic_frame(120).to_csv()), parse_dates=["date"])
    assert indexed.columns[0] == "Unnamed: 0"
    with pytest.raises(ValueError, match=r"\['Unnamed: 0'\] have no name.*index_col=0"):
        tiny().fit(indexed)
    with pytest.raises(ValueError, match=r"\['Unnamed: 0'\] have no name"):
        tiny(data__features="MS", targets=["OT"]).fit(indexed)
    long = pd.read_csv(io.StringIO(to_long(synthetic_frame(60)).to_csv()), parse_dates=["ds"])
    with pytest.raises(ValueError, match=r"\['Unnamed: 0'\] have no name"):
        read_frame(long)
    assert read_frame(indexed, columns=["OT"]).columns == ["OT"]  # the columns a fit keeps


# ---------------------------------------------------------------------------- separators
@pytest.mark.parametrize(("sep", "shown"), [(";", "sep=';'"), ("\t", r"sep='\\t'")])
def test_a_file_with_another_separator_is_named_with_the_rewrite(tmp_path, sep, shown):
    path = tmp_path / "other.csv"
    synthetic_frame(50).to_csv(path, sep=sep, index=False)  # decimal points: polars reads it
    with pytest.raises(ValueError, match=rf"reads as one column, 'date.+v0.+OT', so it is not "
                       rf"comma-separated; its header has .* \(pandas: pd.read_csv\(path, {shown}\)"):  # fmt: skip
        read_file(path)


def _text_column(values: list[str]) -> pl.DataFrame:
    dates = pd.date_range("2021-01-01", periods=len(values), freq="h").astype(str)
    return pl.DataFrame({"date": dates, "load": values, "OT": [1.0] * len(values)})


def test_numbers_with_thousands_separators_or_decimal_commas_get_that_advice():
    thousands = _text_column([f"{40_000 + 7 * i:,}" for i in range(50)])  # every value
    with pytest.raises(ValueError, match=r"'load' holds numbers written with thousands "
                       r"separators \('40,000' at row 0, 50 value\(s\).*thousands=','"):  # fmt: skip
        build_table(thousands, date_col="date", target="OT")
    decimals = _text_column([f"{30 + i / 100:.2f}".replace(".", ",") for i in range(50)])
    with pytest.raises(ValueError, match=r"written with decimal commas \('30,00' at row 0.*"
                       "decimal=','"):  # fmt: skip
        build_table(decimals, date_col="date", target="OT")
    mixed = _text_column(["n/a", *(f"{1000 + i:,}" for i in range(49))])
    with pytest.raises(ValueError, match=r"thousands separators \('1,000' at row 1.*; 'load' is "
                       r"numbers but for 1 value\(s\), the first 'n/a' at row 0"):  # fmt: skip
        build_table(mixed, date_col="date", target="OT")


# ------------------------------------------------------------------------ where a file is
def test_a_missing_file_names_where_it_was_looked_for_and_data_root(tmp_path, monkeypatch):
    other = tmp_path / "data"
    other.mkdir()
    synthetic_frame(60).to_csv(other / "np.csv", index=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=rf"looked for {tmp_path / 'np.csv'}: a relative "
                       rf"data.path is read from the working directory, {tmp_path}; data.root "
                       r"applies to registered datasets only.*pass an absolute path"):  # fmt: skip
        _custom("np.csv")
    with pytest.raises(FileNotFoundError, match=f"the file is in data.root: pass "
                       f"data.path={other / 'np.csv'}"):  # fmt: skip
        _custom("np.csv", root=str(other))
    with pytest.raises(ValueError, match=r"data.path=data is a folder"):
        _custom("data")


def test_a_relative_path_under_hydra_chdir_names_the_directory_the_command_started_in(tmp_path):
    synthetic_frame(60).to_csv(tmp_path / "np.csv", index=False)
    proc = run_cli(
        *TINY_ITRANSFORMER, *TINY_RUN, "data=custom", "data.path=np.csv", "hydra.job.chdir=true",
        f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "hydra.job.chdir=true runs the job in its run directory" in proc.stderr
    assert f"Pass an absolute path: data.path={tmp_path / 'np.csv'}" in proc.stderr


def test_a_relative_data_root_or_tsfm_data_under_hydra_chdir_is_refused_with_the_full_path(
    tmp_path, monkeypatch
):
    (tmp_path / "data").mkdir()
    run_dir, started_in = tmp_path / "outputs" / "run", tmp_path / "work"
    run_dir.mkdir(parents=True)
    monkeypatch.chdir(run_dir)  # where Hydra runs the job with chdir=true
    monkeypatch.delenv("TSFM_DATA", raising=False)
    data = OmegaConf.create({"name": "etth1", "root": "../data"})
    check_relative_data_path(data, False, started_in)  # without chdir: read as given
    with pytest.raises(FileNotFoundError, match=rf"data folder ../data \(data.root\) does not "
                       rf"exist in the working directory, {run_dir}: hydra.job.chdir=true runs "
                       rf"the job in its run directory.*not from {started_in}, where the command "
                       rf"started. Pass an absolute path: data.root={tmp_path / 'data'}$"):  # fmt: skip
        check_relative_data_path(data, True, started_in)
    with pytest.raises(FileNotFoundError, match=r"data.root=/full/path/to/absent$"):
        check_relative_data_path(OmegaConf.create({"name": "etth1", "root": "absent"}), True,
                                 tmp_path)  # fmt: skip
    check_relative_data_path(OmegaConf.create({"name": "etth1", "root": "."}), True, tmp_path)
    check_relative_data_path(OmegaConf.create({"name": "etth1", "root": str(tmp_path)}), True,
                             tmp_path)  # fmt: skip


def test_tsfm_data_under_hydra_chdir_is_refused_only_when_the_dataset_is_found_nowhere(
    tmp_path, monkeypatch
):
    """TSFM_DATA is a list of places to look, the bundled datasets/ last: a relative folder
    missing from the run directory refuses the run only when no folder has the file."""
    (tmp_path / "data").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ETTh1.csv").write_bytes((BUNDLED_DIR / "ETTh1.csv").read_bytes())
    run_dir = tmp_path / "outputs" / "run"
    run_dir.mkdir(parents=True)
    monkeypatch.chdir(run_dir)  # where Hydra runs the job with chdir=true
    etth1 = OmegaConf.create({"name": "etth1", "root": None})
    monkeypatch.setenv("TSFM_DATA", f"{elsewhere}{os.pathsep}data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # found before the missing folder: nothing to say
        check_relative_data_path(etth1, True, tmp_path)
    monkeypatch.setenv("TSFM_DATA", f"data{os.pathsep}/nonexistent_absolute")
    with pytest.warns(UserWarning, match=r"TSFM_DATA folder\(s\) \['data'\] are not in the run "
                      rf"directory.*'etth1' is read from {BUNDLED_DIR} instead"):  # fmt: skip
        check_relative_data_path(etth1, True, tmp_path)  # the bundled datasets/ has it
    monkeypatch.setattr("tsfm.data.sources.BUNDLED_DIR", tmp_path / "no_bundled_datasets")
    with pytest.raises(FileNotFoundError, match=rf"TSFM_DATA=\S*{tmp_path.name}/data$"):
        check_relative_data_path(etth1, True, tmp_path)
