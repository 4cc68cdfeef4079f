"""A fitted Forecaster forecasts with the parameters it was fitted with: changing one that
shapes the model refuses every forecast until the next fit; numbers of any NumPy type are
parameters like Python's; sizes that build no model are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster
from tsfm.data.timefeatures import freq_unit
from tsfm.models import build_model


def test_parameters_changed_after_fit_refuse_forecasts_until_the_next_fit(tmp_path):
    frame = synthetic_frame(160, 2)
    est = tiny().fit(frame)
    before = est.predict()
    est.set_params(horizon=4, d_model=32)
    for call in (
        est.predict,
        lambda: est.evaluate(frame),
        lambda: est.backtest(frame, n_windows=1),
        est.make_future_dataframe,
        lambda: est.save(tmp_path / "m"),
    ):
        with pytest.raises(
            ValueError, match=r"changed since fit \(d_model=16 -> 32, horizon=8 -> 4\)"
        ):
            call()
    est.set_params(horizon=8, d_model=16, verbose=0)  # back; verbose shapes nothing
    est.set_params(max_epochs=3, lr=1e-2, threads=1, eval_batch_size=7, val_size=0.3)
    pd.testing.assert_frame_equal(est.predict(), before)  # training settings: for the next fit
    est.set_params(horizon=4)
    assert len(est.fit(frame).predict()) == 4
    loaded = Forecaster.load(est.save(tmp_path / "m"))
    assert len(loaded.predict()) == 4


def test_numpy_numbers_are_parameters(tmp_path):
    est = Forecaster(horizon=np.int64(4), lookback=np.int32(12), d_model=np.int64(8), n_heads=2)
    est.set_params(lr=np.float32(1e-3), max_epochs=np.int64(1), dropout=np.float64(0.1))
    est.fit(synthetic_frame(120, 2))
    assert est.config_.model.d_model == 8 and est.config_.optim.lr == pytest.approx(1e-3)
    assert len(Forecaster.load(est.save(tmp_path / "m")).predict()) == 4


def test_arrays_and_indexes_of_names_and_levels_are_parameters(tmp_path):
    frame = synthetic_frame(160, 4)  # date, v0, v1, v2, OT
    targets, past = np.array(["v2", "OT"]), frame.columns[1:3]  # a NumPy array, a pandas Index
    quantiles = np.array([0.1, 0.5, 0.9])
    est = tiny(targets=targets, past_covariates=past, loss="quantile", quantiles=quantiles)
    assert est.get_params()["targets"] is targets and clone(est).get_params()["targets"] is not None
    est.fit(frame)
    assert est.get_params()["targets"] is targets  # untouched, as clone requires
    assert list(est.predict().columns) == ["date", "v2", "OT"]
    assert est.roles_.past == ("v0", "v1") and list(est.config_.quantiles) == [0.1, 0.5, 0.9]
    loaded = Forecaster.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.predict(level=[80]), est.predict(level=[80]))
    for bad in ("OT", {"OT": 1}, {"v2", "OT"}):
        with pytest.raises(ValueError, match="targets must be a list of column names"):
            tiny(targets=bad).fit(frame)


@pytest.mark.parametrize(
    "setting", [{"d_model": 0}, {"d_ff": 0}, {"n_heads": 0}, {"d_model": -4}, {"n_layers": -1}]
)
def test_itransformer_sizes_that_build_no_model_are_refused(setting):
    dims = {"seq_len": 24, "pred_len": 8, "n_vars": 2}
    with pytest.raises(ValueError, match=rf"{list(setting)[0]}.*must be at least"):
        build_model({"name": "itransformer", "d_model": 8, "n_heads": 2, **setting}, dims)
    assert build_model({"name": "itransformer", "d_model": 8, "n_heads": 2, "n_layers": 0}, dims)


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("BME", "2006-09-29"), ("BMS", "2006-10-02"), ("BQE", "2020-03-31"), ("SME", None)],
)
def test_business_and_semi_month_frequencies(freq, expected):
    assert freq_unit(freq) in ("month", "quarter", "day")
    stamps = pd.date_range("2000-01-31", periods=80, freq=freq)
    frame = pd.DataFrame({"date": stamps, "a": np.sin(np.arange(80.0))})
    est = tiny(freq=freq if expected is None else None).set_params(horizon=4, lookback=12)
    est.fit(frame)
    dates = est.predict().date
    assert (dates.values == pd.date_range(stamps[-1], periods=5, freq=freq)[1:].values).all()
    if expected is not None:
        assert dates.iloc[0] == pd.Timestamp(expected)


def test_integer_column_names_come_back_as_integers(tmp_path):
    frame = synthetic_frame(120, 2)
    frame.columns = ["date", 0, 1]  # as pd.DataFrame(array) names them
    est = tiny().fit(frame)
    forecast = est.predict()
    assert list(forecast.columns) == ["date", 0, 1] and len(forecast[0]) == 8
    again = Forecaster.load(est.save(tmp_path / "m")).predict()
    pd.testing.assert_frame_equal(again, forecast)
    table, windows = est.evaluate(frame, per_series=True, return_forecasts=True)
    assert list(table.unique_id) == [0, 1] and set(windows.unique_id) == {0, 1}  # as named
    cv = tiny().fit(frame.iloc[:100]).backtest(frame, n_windows=1)
    assert list(cv.per_series.unique_id) == [0, 1] and set(cv.forecasts.unique_id) == {0, 1}
    mixed = frame.rename(columns={1: "OT"})  # some names integers, some text
    cv = tiny().cross_validate(mixed, n_windows=1)
    assert list(cv.per_series.unique_id) == [0, "OT"]
    named = tiny(targets=[1]).fit(frame)  # integer names as targets are kept and saved too
    again = Forecaster.load(named.save(tmp_path / "named")).predict()
    pd.testing.assert_frame_equal(again, named.predict())
    assert list(again.columns) == ["date", 1]


def test_too_many_folds_say_so_whatever_the_validation_share():
    frame = synthetic_frame(120, 2)
    # rows before the first cutoff: 32 (lookback + horizon), 40 (0.2 of them at least one
    # horizon, 8), 48 (16 validation rows); then 99 steps of 8 and a horizon
    for val_size, first, most in ((None, 32, 11), (0.2, 40, 10), (16, 48, 9)):
        with pytest.raises(
            ValueError,
            match=rf"100 fold\(s\) 8 steps apart need {first + 800} rows: {first} before the "
            rf"first cutoff .* Use n_windows={most} .*or a frame of at least {first + 800} rows",
        ):
            tiny(val_size=val_size).cross_validate(frame, n_windows=100)


def test_weekly_data_named_7D_at_fit_takes_frames_inferred_as_weekly_on_that_day():
    stamps = pd.date_range("2002-01-01", periods=120, freq="W-TUE")  # Tuesdays, as ILI's
    frame = pd.DataFrame({"date": stamps, "a": np.sin(np.arange(120.0))})
    est = tiny(freq="7D").fit(frame)  # a benchmark's registered name for the same steps
    assert est.freq_ == "7D" and len(est.predict(frame)) == 8
    tuesdays = tiny().fit(frame)  # inferred: W-TUE; Wednesdays are another frequency
    with pytest.raises(ValueError, match="frequency is 'W-WED' but the model was fitted on"):
        tuesdays.predict(frame.assign(date=stamps + pd.Timedelta("1D")))


def test_fold_arguments_must_be_whole_numbers():
    est = tiny().fit(synthetic_frame(160, 2))
    frame = synthetic_frame(160, 2)
    with pytest.raises(ValueError, match=r"n_windows \(2\) and step \(2.5\) must be whole"):
        est.cross_validate(frame, n_windows=2, step=2.5)
    with pytest.raises(ValueError, match=r"n_windows \(2.0\) and step \(8\) must be whole"):
        est.backtest(frame, n_windows=2.0)
    assert len(est.cross_validate(frame, n_windows=2, refit=np.int64(2)).forecasts) == 32


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"overrides": "optim=adamw_cosine"}, "overrides must be a list of 'key=value' strings"),
        ({"overrides": ["optim=adamw_cosine", 3]}, "overrides must be a list of 'key=value'"),
        ({"seed": -1}, r"seed must be a whole number from 0 to 2\*\*32 - 1, got -1"),
        ({"seed": 2**40}, r"seed must be a whole number from 0 to 2\*\*32 - 1, got 1099"),
        ({"overrides": ["seed=-5"]}, "seed must be a whole number from 0"),
    ],
)
def test_overrides_and_seed_of_the_wrong_kind_are_refused_naming_them(params, message):
    with pytest.raises(ValueError, match=message):
        tiny(**params).fit(synthetic_frame(120, 2))


def test_two_names_of_one_setting_are_refused_and_set_params_replaces_the_other():
    frame = synthetic_frame(200)
    with pytest.raises(ValueError, match="'d_model' and 'model__d_model' both set model.d_model"):
        tiny(d_model=16, model__d_model=32).fit(frame)
    est = tiny(trainer__max_epochs=2).set_params(max_epochs=1)  # e.g. from a ParameterGrid
    assert "trainer__max_epochs" not in est.get_params()
    assert est.fit(frame).config_.trainer.max_epochs == 1
    again = clone(est).set_params(optim__lr=0.01)
    assert again.set_params(lr=0.002).get_params()["lr"] == 0.002
    assert "optim__lr" not in again.get_params()
