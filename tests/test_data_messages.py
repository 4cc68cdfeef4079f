"""Messages that name what is wrong with a data file and the setting to change."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tsfm.data.frames.date_text import parse_dates
from tsfm.data.frames.dates import resolve_freq
from tsfm.data.frames.long import joint_table, series_tables
from tsfm.data.frames.read import build_table, read_long
from tsfm.data.roles import resolve_roles
from tsfm.errors import InputError


def _file(n: int = 40) -> pl.DataFrame:
    dates = pd.date_range("2021-01-01", periods=n, freq="h").astype(str)
    return pl.DataFrame({"date": dates, "a": np.arange(n, dtype=float), "b": np.ones(n)})


def test_the_target_cannot_be_a_covariate_in_any_features_mode():
    for features in ("M", "MS"):
        with pytest.raises(ValueError, match=r"target 'a' \(data.target\) cannot also be a cov"):
            resolve_roles(["a", "b"], features=features, target="a", future=["a"])
    roles = resolve_roles(["a", "b"], features="M", future=["a"])  # no target named: fine
    assert roles.targets == ("b",) and roles.future == ("a",)


def test_one_absent_month_is_named_by_its_calendar_step():
    months = pd.date_range("2000-01-01", periods=100, freq="MS")
    kept = np.delete(months.values, 50)  # 2004-03-01
    with pytest.raises(ValueError, match=r"row 50 is 2004-04-01.*frequency 'MS' puts 2004-03-01"):
        resolve_freq(kept.astype("datetime64[ns]"))


def test_a_few_words_in_a_numeric_column_are_named_with_their_row():
    frame = _file().with_columns(pl.col("a").cast(pl.String))
    frame = frame.with_columns(
        pl.when(pl.int_range(40) == 7).then(pl.lit("n/a")).otherwise(pl.col("a")).alias("a")
    )
    with pytest.raises(
        ValueError, match=r"'a' is numbers but for 1 value\(s\), the first 'n/a' at row 7"
    ):
        build_table(frame, date_col="date", target="b")
    words = _file().with_columns(pl.lit("x").alias("a"))  # a text column: no such hint
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['a'\] \(\['String'\]\); drop"):
        build_table(words, date_col="date", target="b")


def test_an_unknown_column_in_data_columns_is_named_before_the_target():
    with pytest.raises(ValueError, match=r"data.columns names unknown column\(s\) \['zz'\]"):
        build_table(_file(), date_col="date", target="zz", columns=["a", "zz"])


def test_tiny_series_keep_their_scale_and_constants_and_float32_underflow_do_not():
    from tsfm.data.scaler import StandardScaler

    rng = np.random.default_rng(0)
    tiny = 1e-15 * (3 + rng.standard_normal((50, 1)))
    constant = np.full((50, 1), 0.1)
    scaler = StandardScaler().fit(np.hstack([tiny, constant]))
    assert scaler.std[0] == pytest.approx(tiny.std(), rel=1e-9) and scaler.std[1] == pytest.approx(
        0.1
    )
    assert np.abs(scaler.transform(np.hstack([tiny, constant]))[:, 0]).max() < 4
    with pytest.raises(ValueError, match=r"\['v'\] vary by less than 1.18e-38"):
        StandardScaler().fit(tiny * 1e-285, columns=["v"])  # its spread underflows float32


def test_a_duplicate_row_of_a_long_frame_is_named_by_the_frames_rows_in_either_mode():
    stamps = pd.date_range("2021-01-01", periods=30, freq="D")
    frame = pl.DataFrame({"unique_id": np.repeat(["a", "b"], 30), "ds": np.tile(stamps, 2)})
    frame = frame.with_columns(y=pl.int_range(60).cast(pl.Float64))
    frame = pl.concat([frame, frame[[4]]])  # row 60 repeats row 4 ('a' on 2021-01-05)
    long = read_long(frame, "polars", "unique_id", "ds", "y")
    for tables in (series_tables, joint_table):
        with pytest.raises(
            ValueError, match=r"series 'a': duplicate .*2021-01-05.* at rows 4 and 60"
        ):
            tables(long)


@pytest.mark.parametrize("written", ["%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y %H:%M"])
def test_dates_with_day_and_month_as_numbers_are_read_in_the_order_that_steps_regularly(written):
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    column = pl.Series("date", months.strftime(written).tolist())
    np.testing.assert_array_equal(parse_dates(column), months.values)


def test_dates_that_read_regularly_both_ways_are_refused_as_ambiguous():
    days = pd.date_range("2015-01-01", periods=10, freq="D").strftime("%d/%m/%Y")
    with pytest.raises(ValueError, match="both readings fit .* YYYY-MM-DD"):
        parse_dates(pl.Series("date", days.tolist()))


TWO_DIGITS = r"writes years with two digits \(row 0: '{}'\).* Write four-digit years"


@pytest.mark.parametrize(
    "written", ["%d-%b-%y", "%b-%y", "%b %d, %y", "%m/%d/%y", "%d.%m.%y %H:%M", "%y-%m-%d"]
)
@pytest.mark.parametrize("start", ["1965-01-01", "1950-01-01", "2012-12-01"])
def test_two_digit_years_are_refused_never_given_a_century(written, start):
    # 1965-1975 as '01-Jan-65' read 2065-2075 without a word (polars: every year in the
    # 2000s), as '1/1/65' was refused as stepping regularly in no reading (68 read 2068, 69
    # 1969); 1950-1960 as '1/1/50': 2050-2060
    months = pd.date_range(start, periods=132, freq="MS")
    text = months.strftime(written).tolist()
    with pytest.raises(InputError, match=TWO_DIGITS.format(re.escape(text[0]))):
        parse_dates(pl.Series("date", text))


def test_two_digit_years_are_refused_by_the_forecaster_and_the_command_lines_data(tmp_path):
    from tsfm import Forecaster
    from tsfm.data import make_datamodule

    months = pd.date_range("1965-01-01", "1975-12-01", freq="MS")
    frame = pd.DataFrame({"date": months.strftime("%d-%b-%y"), "y": np.arange(132.0)})
    with pytest.raises(InputError, match=TWO_DIGITS.format("01-Jan-65")):
        Forecaster(horizon=4, lookback=12).fit(frame)
    frame.to_csv(tmp_path / "two.csv", index=False)
    data = make_datamodule({"name": "custom", "path": str(tmp_path / "two.csv")})
    with pytest.raises(InputError, match=TWO_DIGITS.format("01-Jan-65")):
        data.setup()


def test_years_written_in_full_are_read_whatever_else_the_text_holds():
    for text, first in [
        (["2021-12-31T23:00:00-05:00", "2022-01-01T00:00:00-05:00"], "2022-01-01T04:00"),
        (["20210517", "20210518"], "2021-05-17"),
        (["May 2021", "Jun 2021"], "2021-05-01"),
        (["1956 Q1", "1956 Q2"], "1956-01-01"),
    ]:
        assert parse_dates(pl.Series("date", text))[0] == np.datetime64(first)


@pytest.mark.parametrize("written", ["%m/%d/%Y", "%d/%m/%Y"])
def test_numeric_dates_with_an_absent_step_are_read_in_the_order_that_steps_regularly(written):
    # one absent month made every reading irregular: refused as "several readings fit"
    months = pd.date_range("2000-01-01", periods=120, freq="MS").delete(40)
    column = pl.Series("date", months.strftime(written).tolist())
    np.testing.assert_array_equal(parse_dates(column), months.values)


@pytest.mark.parametrize("written", ["%d/%m/%Y %H:%M", "%d/%m/%Y"])
def test_numeric_dates_with_an_empty_date_are_refused_for_the_empty_date(written):
    freq = "h" if "%H" in written else "MS"
    text = pd.date_range("2013-02-01", periods=120, freq=freq).strftime(written).tolist()
    text[40] = None
    with pytest.raises(ValueError, match=r"missing or unreadable date at row 40 \(None\)"):
        parse_dates(pl.Series("date", text))


def test_numeric_dates_that_step_regularly_no_way_are_not_said_to_fit():
    days = pd.DatetimeIndex(["2015-01-01", "2015-01-02", "2015-01-07", "2015-03-05", "2015-12-01"])
    with pytest.raises(ValueError, match=r"no reading .* steps regularly") as err:
        parse_dates(pl.Series("date", days.strftime("%d/%m/%Y").tolist()))
    assert "fit" not in str(err.value)


@pytest.mark.parametrize("written", ["%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"])
def test_readings_that_give_the_same_timestamps_are_not_ambiguous(written):
    # one day of hours on 01/01/2015: day first and month first both read 2015-01-01
    hours = pd.date_range("2015-01-01", periods=24, freq="h")
    column = pl.Series("date", hours.strftime(written).tolist())
    np.testing.assert_array_equal(parse_dates(column), hours.values)


def test_a_monthly_file_with_an_absent_month_is_fitted_under_missing_mask():
    from tests.helpers.models import TINY
    from tsfm import Forecaster

    months = pd.date_range("2000-01-01", periods=60, freq="MS").delete(40)
    frame = pd.DataFrame({"date": months.strftime("%d/%m/%Y"), "y": np.sin(np.arange(59) / 2)})
    model = Forecaster(
        "itransformer", horizon=3, lookback=12, max_epochs=1, missing="mask", **TINY["itransformer"]
    )
    with pytest.warns(UserWarning, match="1 absent step"):
        assert model.fit(frame).freq_ == "MS"


def test_a_semicolon_file_with_decimal_commas_is_refused_with_the_fix(tmp_path):
    from tsfm.data.frames import read_file

    path = tmp_path / "semi.csv"
    frame = pd.DataFrame({"t": pd.date_range("2021", periods=50, freq="D"), "v": np.arange(50) / 3})
    frame.to_csv(path, sep=";", decimal=",", index=False)
    with pytest.raises(ValueError, match=r"semi.csv is not a comma-separated.*sep=';'"):
        read_file(path)


@pytest.mark.parametrize("rows", ["tail", "alternate"])
def test_dates_mixing_year_first_and_day_first_formats_are_refused_naming_a_row_of_each(rows):
    times = pd.date_range("2016-07-01", periods=60, freq="h")
    iso, by_hand = times.strftime("%Y-%m-%d %H:%M:%S"), times.strftime("%d/%m/%Y %H:%M")
    hand = np.arange(60) >= 50 if rows == "tail" else np.arange(60) % 2 == 0
    written = np.where(hand, by_hand, iso)  # 10/07/2016 would be read as 7 October
    first = int(hand.argmax())
    with pytest.raises(ValueError, match="mixes date formats") as refused:
        parse_dates(pl.Series("date", written))
    assert f"row {first} is '{by_hand[first]}'" in str(refused.value)
    assert "format=" in str(refused.value)


def test_a_frame_whose_dates_mix_formats_is_refused_for_that_not_for_its_steps():
    from tests.helpers.data import synthetic_frame
    from tests.helpers.estimator import tiny

    frame = synthetic_frame(120, 2)
    frame["date"] = frame.date.dt.strftime("%Y-%m-%d %H:%M:%S").where(
        frame.index < 100, frame.date.dt.strftime("%d/%m/%Y %H:%M")
    )
    for given in (frame, pl.from_pandas(frame)):
        with pytest.raises(ValueError, match="mixes date formats: row 0 is .* row 100 is"):
            tiny().fit(given)
