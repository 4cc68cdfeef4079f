"""Absent timestamps (rows a series skips) under ``missing="mask"``: inserted as missing
values, refused with the fix otherwise; off-grid timestamps always refused."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.data import TimeSeriesDataModule
from tsfm.data.frames.dates import LocalTimeSteps, resolve_freq
from tsfm.data.frames.gaps import insert_absent_steps
from tsfm.data.frames.table import SeriesTable

DAYS = pd.date_range("2022-01-01", periods=200, freq="D")


def _table(times, values=None) -> SeriesTable:
    times = np.asarray(times)
    values = np.arange(len(times), dtype=float)[:, None] if values is None else values
    return SeriesTable(values, times, ["y"])


def test_absent_steps_become_nan_rows_and_only_whole_steps_are_inserted():
    times = DAYS.values.astype("datetime64[ns]")
    regular = _table(times)
    assert insert_absent_steps(regular, None) is regular  # nothing to do
    kept = np.delete(np.arange(200), [50, 51, 120])
    with pytest.warns(UserWarning, match=r"3 absent step\(s\) \(the first at 2022-02-20"):
        filled = insert_absent_steps(_table(times[kept], kept[:, None].astype(float)), None)
    assert (filled.times == times).all()
    assert np.isnan(filled.values[[50, 51, 120], 0]).all()
    observed = ~np.isnan(filled.values[:, 0])
    assert (filled.values[observed, 0] == kept).all()  # every given value at its own time
    off_grid = times[kept].copy()
    off_grid[10] += np.timedelta64(3, "h")
    with pytest.raises(ValueError, match="the frame: row 10 is .* off the grid of the usual step"):
        insert_absent_steps(_table(off_grid), None)
    steps = np.array([0, 1, 2, 5, 6], dtype=np.int64) * 7  # integer time, step 7
    with pytest.warns(UserWarning, match="2 absent"):
        assert len(insert_absent_steps(_table(steps), None)) == 7


def test_calendar_steps_are_inferred_from_the_rows_when_unambiguous_else_asked_for():
    months = pd.date_range("2015-01-01", periods=36, freq="MS").values.astype("datetime64[ns]")
    gappy = np.delete(months, [7, 8])
    with pytest.warns(UserWarning, match="2 absent.*No frequency was given: .* step by 'MS'"):
        inferred = insert_absent_steps(_table(gappy), None)
    assert (inferred.times == months).all()
    with pytest.warns(UserWarning, match="2 absent") as given:
        filled = insert_absent_steps(_table(gappy), "MS")
    assert (filled.times == months).all() and "No frequency" not in str(given[0].message)
    sparse = np.concatenate([months[:4], months[6::2]])  # mostly two months apart
    with pytest.raises(ValueError, match="most rows are 2 of its steps apart.*give freq='MS'"):
        insert_absent_steps(_table(sparse), None)
    with pytest.warns(UserWarning, match="16 absent"):  # given: its absent steps inserted
        assert len(insert_absent_steps(_table(sparse), "MS")) == 35
    off = gappy.copy()
    off[20] += np.timedelta64(14, "D")  # mid-month: on no monthly grid
    with pytest.raises(ValueError, match=r"row 20 \(2016-11-15 00:00:00\) is off its grid"):
        insert_absent_steps(_table(off), None)


def _sales(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wave = 10 + np.sin(np.arange(len(DAYS)) * 2 * np.pi / 7)
    return pd.DataFrame({"date": DAYS, "sales": wave + rng.normal(0, 0.1, len(DAYS))})


def test_a_frame_with_absent_days_fits_under_mask_and_is_refused_with_the_fix_otherwise():
    gappy = _sales().drop(index=[60, 61, 62, 150])
    with pytest.raises(ValueError, match="missing='mask' in Python, data.missing=mask in the CLI"):
        Forecaster(horizon=7, lookback=28, **TINY_IT).fit(gappy)
    with pytest.warns(UserWarning, match="4 absent step"):
        est = Forecaster(horizon=7, lookback=28, missing="mask", **TINY_IT).fit(gappy)
    forecast = est.predict()
    assert (forecast.date.to_numpy() == pd.date_range(DAYS[-1], periods=8)[1:].to_numpy()).all()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = est.evaluate(gappy.tail(80))  # its one absent step was the fitted frame's
    assert not [w for w in caught if "absent step" in str(w.message)]
    with pytest.warns(UserWarning, match="df: 1 absent step\\(s\\) \\(the first at 2022-06-20"):
        est.evaluate(gappy.tail(80).drop(index=[170]))  # a step the fitted frame had
    assert scores["windows"] == 80 - 28 - 7 + 1 + 1  # row 150's step restored: 81 rows
    assert np.isfinite(scores["mae"])
    hourly = gappy.assign(
        date=pd.date_range("2022-01-01", periods=len(DAYS), freq="h")[gappy.index]
    )
    with pytest.warns(UserWarning, match="4 absent step"):  # refit: the new data's own steps
        assert est.fit(hourly).freq_ == "h"


def test_the_cli_data_module_inserts_absent_steps_under_data_missing_mask():
    gappy = _sales().drop(index=[60, 61, 62, 150])
    settings = {"seq_len": 28, "pred_len": 7}
    with pytest.raises(ValueError, match="set data.missing=mask to treat absent steps"):
        TimeSeriesDataModule(settings, frame=gappy).setup()
    with pytest.warns(UserWarning, match="4 absent step"):
        module = TimeSeriesDataModule({**settings, "missing": "mask"}, frame=gappy)
        module.setup()
    assert len(module.table) == len(DAYS) and module.sampling == "D"
    assert np.isnan(module.table.values[[60, 61, 62, 150]]).all()


def test_panel_series_with_absent_steps_are_named_and_filled_under_mask():
    sales = _sales().rename(columns={"date": "ds", "sales": "y"})
    panel = pd.concat(
        [sales.assign(unique_id="a"), sales.drop(index=[30, 90]).assign(unique_id="b")]
    )
    settings = {"horizon": 7, "lookback": 28, "mode": "independent", **TINY_IT}
    with pytest.raises(ValueError, match="series 'b': timestamps are not regular"):
        Forecaster(**settings).fit(panel)
    with pytest.warns(UserWarning, match="series 'b': 2 absent step"):
        est = Forecaster(**settings, missing="mask").fit(panel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = est.evaluate(panel, per_series=True)  # b's steps were warned about at fit
        est.make_future_dataframe(panel)
        est.predict(panel)
    assert not [w for w in caught if "absent step" in str(w.message)]
    assert scores.windows.tolist() == [200 - 28 - 7 + 1] * 2  # b's two steps restored


def test_cross_validate_warns_of_absent_steps_once_per_call_not_per_fold_fit():
    sales = _sales().rename(columns={"date": "ds", "sales": "y"})
    b = sales.drop(index=[30, 195]).assign(unique_id="b")  # one step before the folds, one in
    panel = pd.concat([sales.assign(unique_id="a"), b])
    settings = {"horizon": 7, "lookback": 28, "mode": "independent", **TINY_IT}
    for refit in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Forecaster(**settings, missing="mask").cross_validate(panel, n_windows=2, refit=refit)
        [message] = [str(w.message) for w in caught if "absent step" in str(w.message)]
        assert message.startswith("series 'b': 2 absent step(s)")


def test_daily_data_on_a_daylight_saving_clock_steps_in_local_days(tmp_path):
    local = pd.date_range("2022-01-01", periods=120, freq="D", tz="Europe/Berlin")
    frame = pd.DataFrame({"ds": local, "y": np.sin(np.arange(120)), "temp": np.arange(120.0)})
    est = Forecaster(horizon=7, lookback=28, future_covariates=["temp"], **TINY_IT).fit(frame)
    assert est.freq_ == "D" and est.layout_.time_type["wall"]
    future = est.make_future_dataframe().assign(temp=1.0)
    expected = pd.date_range("2022-05-01", periods=7, freq="D", tz="Europe/Berlin")
    assert (future.ds == expected).all()  # local midnights; the frame crosses a clock change
    forecast = est.predict(future_df=future)
    assert (forecast.ds == expected).all() and str(forecast.ds.dt.tz) == "Europe/Berlin"
    assert np.isfinite(est.evaluate(frame.tail(60))["mae"])
    again = Forecaster.load(est.save(tmp_path / "local_days"))
    pd.testing.assert_frame_equal(again.predict(future_df=future), forecast)
    hourly = pd.date_range("2022-03-26", periods=96, freq="h", tz="Europe/Berlin")
    est = Forecaster(horizon=6, lookback=24, **TINY_IT).fit(
        pd.DataFrame({"ds": hourly, "y": np.sin(np.arange(96) / 4)})
    )  # instants an hour apart across the clock change: held as UTC instants
    assert not est.layout_.time_type.get("wall") and str(est.predict().ds.dt.tz) == "Europe/Berlin"
    instants = local.tz_convert("UTC").tz_localize(None).values.astype("datetime64[ns]")
    with pytest.raises(LocalTimeSteps, match=r"step by 'D' on the clock of Europe/Berlin"):
        resolve_freq(instants, tz="Europe/Berlin")  # local days read as instants


def test_an_hour_dropped_at_the_clock_change_is_an_absent_step_not_a_local_time_step(tmp_path):
    hours = pd.date_range("2021-10-30", periods=120, freq="h", tz="Europe/Berlin")
    frame = pd.DataFrame({"ds": hours, "y": np.sin(np.arange(120) / 4)})
    repeated = hours.tz_convert("UTC") == pd.Timestamp("2021-10-31 01:00", tz="UTC")
    frame = frame[~repeated]  # the second 02:00 (CET) dropped, as a local-clock cleaning does
    with pytest.raises(ValueError, match="timestamps are not regular") as refused:
        Forecaster(horizon=6, lookback=24, **TINY_IT).fit(frame)
    assert not isinstance(refused.value, LocalTimeSteps)  # no 23- or 25-hour steps here
    with pytest.warns(UserWarning, match="1 absent step"):
        est = Forecaster(horizon=6, lookback=24, missing="mask", **TINY_IT).fit(frame)
    assert str(est.predict().ds.dt.tz) == "Europe/Berlin"
    quarter_days = pd.date_range("2021-03-20", periods=60, freq="6h").tz_localize("Europe/Berlin")
    instants = quarter_days.tz_convert("UTC").tz_localize(None).values.astype("datetime64[ns]")
    with pytest.raises(LocalTimeSteps, match="'6h' on the clock.*an hour shorter or longer"):
        resolve_freq(instants, tz="Europe/Berlin")  # a 5-hour step at the spring change


def test_a_joint_panels_missing_rows_and_early_ends_are_counted_in_a_warning():
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": DAYS[:n], "y": np.sin(np.arange(n) / 3)})
        for i, n in enumerate((120, 110, 120))
    ]
    panel = pd.concat(frames, ignore_index=True).drop(index=[40, 41, 290, 291])  # s0, s2
    with pytest.warns(UserWarning, match=r"14 \(series, timestamp\)") as caught:
        Forecaster(horizon=5, lookback=20, missing="mask", **TINY_IT).fit(panel)
    message = next(str(w.message) for w in caught if "mode='joint'" in str(w.message))
    assert "'s0': 2, 's1': 10, 's2': 2" in message  # s1 ends 10 days early
    assert "ending before 2022-04-30 00:00:00 (steps after their last row: 's1' (10))" in message
    assert "mode='independent' forecasts each series from its own end" in message


def test_a_freq_finer_than_every_rows_step_is_refused_naming_the_datas_step():
    # freq='15min' on half-hourly rows inserted a masked row between every two rows
    half_hours = pd.date_range("2022-01-01", periods=300, freq="30min")
    gappy = np.delete(half_hours.values.astype("datetime64[ns]"), [40, 41])
    step = r"steps of the frequency '15min' .*the data steps by '30min'.*299 absent"
    with pytest.raises(ValueError, match=rf"the frame: every row lies 2 {step}.*'30min'"):
        insert_absent_steps(_table(half_hours.values), "15min")
    with pytest.raises(ValueError, match="every row lies 2 steps.*'30min'"):
        insert_absent_steps(_table(gappy), "15min")
    with pytest.raises(ValueError, match="every row lies 3 steps.*'3MS'"):
        insert_absent_steps(_table(pd.date_range("2015", periods=20, freq="QS").values), "MS")
    with pytest.raises(ValueError, match="every row lies 2 steps.*steps by '2'"):
        insert_absent_steps(_table(np.arange(0, 40, 2, dtype=np.int64)), 1)
    with pytest.warns(UserWarning, match="2 absent"):  # the data's own step: its gaps filled
        assert len(insert_absent_steps(_table(gappy), "30min")) == 300
    frame = pd.DataFrame({"date": half_hours, "y": np.sin(np.arange(300) / 5)})
    masked = {"missing": "mask", "freq": "15min"}
    with pytest.raises(ValueError, match="df: every row lies 2 steps.*freq=.*'30min'"):
        Forecaster(horizon=8, lookback=24, **masked, **TINY_IT).fit(frame)
    settings = {"seq_len": 24, "pred_len": 8, **masked}
    with pytest.raises(ValueError, match="every row lies 2 steps.*data.freq=.*'30min'"):
        TimeSeriesDataModule(settings, frame=frame).setup()


def test_a_sparse_series_in_a_panel_on_freq_is_masked_and_only_a_panel_all_coarser_refused():
    # a panel's check is the panel's: one series kept every other day among daily ones is
    # what masking is for; refusing it pointed to freq='2D', which the daily series refuse
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    rows = {"a": days, "b": days[::2]}
    frame = pd.concat(
        pd.DataFrame({"unique_id": s, "ds": t, "y": np.cos(np.arange(len(t)) / 3)})
        for s, t in rows.items()
    )
    panel = {"mode": "independent", "freq": "D", "missing": "mask", "verbose": 0}
    with pytest.warns(UserWarning, match="series 'b': 29 absent"):
        fitted = Forecaster(horizon=4, lookback=8, **panel, **TINY_IT).fit(frame)
    assert fitted.predict()["unique_id"].tolist().count("b") == 4
    sparse = frame[frame["unique_id"] == "b"]
    assert len(fitted.predict(sparse)) == 4  # the model's frequency (its gaps warned at fit)
    both = pd.concat([sparse, sparse.assign(unique_id="c")])
    with pytest.raises(ValueError, match="series 'b': every row lies 2 steps.*'2D'"):
        Forecaster(horizon=4, lookback=8, **panel, **TINY_IT).fit(both)
