"""A Boolean column is a covariate (a holiday flag, read as 0/1) but never a target, in every
layout: wide pandas or polars, long, a file on the command line; True/False are not forecast
as 1/0 unless the user converts them. An object column mixing booleans with numbers is
refused rather than read as 1/0."""

from __future__ import annotations

import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import InputError
from tsfm.data import TimeSeriesDataModule


def _flagged(n_rows: int = 120):
    frame = synthetic_frame(n_rows, 3)
    return frame.assign(OT=frame.OT.gt(frame.OT.median()))


@pytest.mark.parametrize("library", ["pandas", "polars"])
@pytest.mark.parametrize(
    "roles",
    [{}, {"targets": ["OT"]}, {"data__features": "MS"}, {"targets": ["OT", "v0"]}],
)
def test_a_boolean_target_of_a_wide_frame_is_refused_with_the_conversion(library, roles):
    frame = _flagged() if library == "pandas" else pl.from_pandas(_flagged())
    fix = "df['OT'] = df['OT'].astype(float)" if library == "pandas" else "pl.col('OT').cast("
    with pytest.raises(InputError, match=r"target column\(s\) \['OT'\] are Boolean") as refused:
        tiny(**roles).fit(frame)
    assert fix in str(refused.value) and "future_covariates" in str(refused.value)


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_boolean_target_of_a_long_frame_is_refused_with_the_conversion(mode):
    long = to_long(synthetic_frame(120, 2))
    for flags in (long.y > 3, (long.y > 3).astype(object), (long.y > 3).astype("boolean")):
        with pytest.raises(InputError, match=r"\['y'\] are Boolean.*df\['y'\].astype\(float\)"):
            tiny(mode=mode).fit(long.assign(y=flags))


def test_a_boolean_covariate_is_read_as_0_1_and_a_boolean_target_refused_at_predict():
    frame = _flagged()
    est = tiny(targets=["v0"], future_covariates=["OT"]).fit(frame)
    assert est.columns_ == ["v0"] and len(est.predict(future_df=_future(est))) == 8
    numeric = tiny().fit(frame.assign(OT=frame.OT.astype(float)))
    with pytest.raises(InputError, match=r"\['OT'\] are Boolean"):
        numeric.predict(frame)


def _future(est):
    future = est.make_future_dataframe()
    future["OT"] = True
    return future


def test_an_object_column_mixing_booleans_with_numbers_is_refused_naming_it():
    frame = synthetic_frame(120, 3)
    frame["OT"] = frame.OT.astype(object)
    frame.loc[5, "OT"] = True
    with pytest.raises(InputError, match=r"column 'OT' mixes booleans with numbers \(row 5 holds"):
        tiny().fit(frame)
    frame["OT"] = frame.index % 2 == 0  # booleans only, as object: a Boolean column
    with pytest.raises(InputError, match=r"\['OT'\] are Boolean"):
        tiny().fit(frame.astype({"OT": object}))


def test_a_boolean_target_in_a_file_on_the_command_line_is_refused(tmp_path):
    path = tmp_path / "flags.csv"
    _flagged().rename(columns={"OT": "flag"}).to_csv(path, index=False)
    config = {"name": "custom", "path": str(path), "seq_len": 24, "pred_len": 8}
    with pytest.raises(InputError, match=r"\['flag'\] are Boolean.*1/0 in the file.*data.future"):
        TimeSeriesDataModule({**config, "target": "flag"}).setup()
    module = TimeSeriesDataModule({**config, "target": "v1", "future_covariates": ["flag"]})
    module.setup()
    assert module.roles.targets == ("v0", "v1") and module.roles.future == ("flag",)


def _long_file_module(path, mode: str):
    from tsfm.data.panel_files import panel_file_datamodule

    config = {"name": "custom", "path": str(path), "seq_len": 24, "pred_len": 8, "mode": mode}
    config = {**config, "id_col": "unique_id", "date_col": "ds", "target": "y"}
    if mode == "joint":
        TimeSeriesDataModule(config).setup()
    else:
        panel_file_datamodule(config).setup()


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_long_file_s_boolean_or_text_columns_are_refused_with_the_file_fix(tmp_path, mode):
    path = tmp_path / "flags.csv"
    long = to_long(_flagged().rename(columns={"OT": "flag"}))
    long.assign(y=long.y > 0).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"\['y'\] are Boolean.*write them as 1/0 in the file") as err:  # fmt: skip
        _long_file_module(path, mode)
    assert "df." not in str(err.value)  # a command-line user has no frame to convert
    words = long.y.map("{:.3f}".format).where(long.index != 3, "n/a")  # numbers but one word
    for column in ("y", "promo"):
        long.assign(promo=0.0).assign(**{column: words}).to_csv(path, index=False)
        with pytest.raises(InputError, match=rf"'{column}' is numbers but for 1 value.*'n/a' at row 3: write missing values as empty") as err:  # fmt: skip
            _long_file_module(path, mode)
        assert "df." not in str(err.value)
