"""Every frame the Forecaster returns gives the id and time columns in the types of the frame
passed to that call (of the fitted frame without one): pyarrow-backed and nullable pandas,
category with all its categories, polars Categorical and Enum; time columns in seconds are
read and come back in seconds; a step the time type cannot hold is refused at fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long


def _long(n_rows: int = 64) -> pd.DataFrame:
    return to_long(synthetic_frame(n_rows, 3)).replace({"unique_id": {"v0": "s0", "v1": "s1"}})


def _pandas_arrow(frame: pd.DataFrame) -> pd.DataFrame:  # as read_csv(dtype_backend="pyarrow")
    ids = pd.Categorical(frame.unique_id, categories=["s9", "s1", "s0", "OT"])  # unused, order
    return frame.assign(unique_id=ids, ds=frame.ds.astype("timestamp[s][pyarrow]"))


def _pandas_arrow_text(frame: pd.DataFrame) -> pd.DataFrame:
    ds = frame.ds.dt.tz_localize("Europe/Paris").astype("timestamp[ns, tz=Europe/Paris][pyarrow]")
    return frame.assign(unique_id=frame.unique_id.astype("string[pyarrow]"), ds=ds)


def _pandas_nullable(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame.unique_id.map({"s0": 10, "s1": 11, "OT": 12}).astype("Int64")
    return frame.assign(unique_id=ids, ds=frame.ds.astype("datetime64[s]").dt.tz_localize("UTC"))


def _pandas_daily(frame: pd.DataFrame) -> pd.DataFrame:
    days = pd.date_range("2021-01-01", periods=frame.ds.nunique(), freq="D")
    ds = np.tile(days.values, 3)
    return frame.assign(unique_id=frame.unique_id.astype("string"), ds=ds).astype(
        {"ds": "date32[pyarrow]"}
    )


def _polars_enum(frame: pd.DataFrame) -> pl.DataFrame:
    ids = pl.col("unique_id").cast(pl.Enum(["OT", "s1", "s0", "s9"]))
    return pl.from_pandas(frame).with_columns(ids, pl.col("ds").cast(pl.Datetime("ms")))


def _polars_categorical(frame: pd.DataFrame) -> pl.DataFrame:
    return pl.from_pandas(frame).with_columns(pl.col("unique_id").cast(pl.Categorical))


FRAMES = [
    _pandas_arrow,
    _pandas_arrow_text,
    _pandas_nullable,
    _pandas_daily,
    _polars_enum,
    _polars_categorical,
]


def _types(frame) -> dict:
    if isinstance(frame, pl.DataFrame):
        return {c: frame.schema[c] for c in ("unique_id", "ds", "cutoff") if c in frame.columns}
    names = [c for c in ("unique_id", "ds", "cutoff") if c in frame.columns]
    return {c: frame[c].dtype for c in names}


def _assert_types(given, *frames) -> None:
    want = _types(given)
    for out in frames:
        got = _types(out)
        assert got.pop("cutoff", want["ds"]) == want["ds"]
        assert got == {c: want[c] for c in got}, (got, want)
        if "unique_id" in got and isinstance(want["unique_id"], pd.CategoricalDtype):
            assert repr(got["unique_id"]) == repr(want["unique_id"])  # all categories, in order


@pytest.mark.parametrize("mode", ["joint", "independent"])
@pytest.mark.parametrize("make", FRAMES, ids=lambda f: f.__name__[1:])
def test_every_frame_returned_has_the_id_and_time_types_of_the_frame_given(make, mode):
    base = _long()
    frame = make(base)
    early = (base.groupby("unique_id").cumcount() < 48).to_numpy()  # each series' first rows
    train = frame.filter(pl.Series(early)) if isinstance(frame, pl.DataFrame) else frame[early]
    est = tiny(mode=mode).fit(train)
    _, windows = est.evaluate(frame, return_forecasts=True)
    folds = est.backtest(frame, n_windows=1)  # the folds after the fitted rows
    _assert_types(
        frame,
        est.predict(),
        est.predict(frame),
        est.make_future_dataframe(),
        est.make_future_dataframe(frame),
        windows,
        est.evaluate(frame, per_series=True),
        *folds,
        folds.per_series,
    )
    cv = est.cross_validate(frame, n_windows=2, step=HORIZON, refit=False)
    _assert_types(frame, *cv, cv.per_series)
    forecast = est.predict(train)  # merges with the user's own frame, as given
    if isinstance(frame, pd.DataFrame):
        assert len(frame.merge(forecast, on=["unique_id", "ds"])) == 3 * HORIZON
    else:
        assert forecast.join(frame, on=["unique_id", "ds"]).height == 3 * HORIZON


@pytest.mark.parametrize(
    "seconds",
    [
        lambda d: d.assign(date=d.date.astype("datetime64[s]")),
        lambda d: d.assign(date=d.date.astype("datetime64[s]")).set_index("date"),
        lambda d: d.assign(date=d.date.dt.tz_localize("UTC").astype("datetime64[s, UTC]")),
    ],
    ids=["column", "index", "utc"],
)
def test_time_columns_in_seconds_are_read_and_come_back_in_seconds(seconds):
    frame = seconds(synthetic_frame(80, 2))
    est = tiny().fit(frame)
    times = frame.index if "date" not in frame.columns else frame.date
    forecast = est.predict()
    assert (
        forecast.index if "date" not in forecast.columns else forecast.date
    ).dtype == times.dtype
    _, windows = est.evaluate(frame, return_forecasts=True)
    assert windows.date.dtype == windows.cutoff.dtype == times.dtype
    np.testing.assert_array_equal(
        windows.date.to_numpy()[:HORIZON], times.to_numpy()[24 : 24 + HORIZON]
    )
    long = to_long(synthetic_frame(80, 2)).assign(ds=lambda d: d.ds.astype("datetime64[s]"))
    assert tiny(mode="independent").fit(long).predict().ds.dtype == "datetime64[s]"


def test_a_step_the_time_column_cannot_hold_is_refused_not_truncated():
    days = pd.DataFrame(
        {"day": pd.date_range("2021-01-01", periods=60, freq="D"), "y": np.arange(60.0) % 7}
    )
    for frame in (
        days.astype({"day": "date32[pyarrow]"}),
        pl.from_pandas(days).cast({"day": pl.Date}),
    ):
        with pytest.raises(ValueError, match=r"'day' is .*which holds dates only.*12:00:00"):
            tiny(freq="12h", missing="mask").fit(frame)  # 12:00 rows a date cannot hold


def test_float_time_is_refused_with_integer_steps_as_the_fix_and_the_python_names():
    """Integer steps are a time column as dates are: floats of whole numbers are told to
    become integers (not to be dates), and the Forecaster's names come before the CLI's."""
    series = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": np.sin(np.arange(40.0))})
    est = tiny(mode="independent").fit(series)
    whole, halves = series.assign(ds=series.ds.astype(float)), series.assign(ds=series.ds + 0.5)
    with pytest.raises(ValueError) as err:
        est.predict(whole)
    message = str(err.value)
    assert message.startswith("time column 'ds' has type Float64; it must hold integer steps")
    assert "whole numbers, so make them integers (pandas: df['ds'].astype('int64')" in message
    assert "(Python: time_col=... for a long frame, date_col=... for a wide one" in message
    assert len(est.predict(whole.assign(ds=whole.ds.astype("int64")))) == HORIZON  # the fix
    with pytest.raises(ValueError, match="steps with fractions are neither; number the steps"):
        est.predict(halves)
    with pytest.raises(ValueError, match=r"make them integers after dropping its rows without"):
        tiny().fit(pd.DataFrame({"ds": [*range(39), None], "y": np.arange(40.0)}))
