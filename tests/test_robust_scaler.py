"""``scaler="robust"`` (``data.scaler=robust``): median and interquartile range / 1.349 of the
training rows, falling back to wider quantile ranges, the std and the constant rule, so that
one huge outlier no longer squashes the rest of a column; ``standard`` stays the default and
computes as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tests.helpers.runs import TINY_ITRANSFORMER
from tsfm.config import compose_config
from tsfm.data.m4.datamodule import as_m4_config
from tsfm.data.panel_scaling import series_statistics
from tsfm.data.robust_scaling import RobustScaler, make_scaler
from tsfm.data.scaler import StandardScaler
from tsfm.errors import InputError
from tsfm.training.preflight import check_run


def columns() -> np.ndarray:
    rng = np.random.default_rng(0)
    n = 200
    normal = rng.normal(10.0, 2.0, n)
    normal[17] = 1e6  # one huge outlier
    counts = np.where(np.arange(n) % 8 == 0, 3.0, 0.0)  # intermittent: quartiles tie at 0
    rare = np.zeros(n)
    rare[[5, 90]] = [4.0, -2.0]  # 1 % of the rows: every quantile range is 0
    constant = np.full(n, -2e-4)
    values = np.column_stack([normal, counts, rare, constant])
    values[[3, 40], 0] = np.nan  # missing values are left out
    return values


def test_the_robust_statistics_are_numpys_median_and_quantile_ranges():
    values = columns()
    scaler = RobustScaler().fit(values, ["normal", "counts", "rare", "constant"])
    x = values[~np.isnan(values[:, 0]), 0]
    q25, q75 = np.quantile(x, [0.25, 0.75])
    assert scaler.mean[0] == np.median(x) and scaler.std[0] == (q75 - q25) / 1.349
    assert scaler.std[0] == pytest.approx(2.0, rel=0.15)  # the outlier's std would be ~7e4
    q10, q90 = np.quantile(values[:, 1], [0.1, 0.9])  # the interquartile range is 0
    assert (q10, q90) == (0.0, 3.0)
    assert scaler.mean[1] == 0.0 and scaler.std[1] == (q90 - q10) / 2.563
    standard = StandardScaler().fit(values)  # the std: the standard scaler's
    assert scaler.mean[2] == 0.0 and scaler.std[2] == standard.std[2]
    assert standard.std[2] == pytest.approx(np.std(values[:, 2]), rel=1e-14)
    assert scaler.mean[3] == -2e-4 and scaler.std[3] == pytest.approx(2e-4, rel=1e-12)  # constant
    assert scaler.mean.dtype == scaler.std.dtype == np.float64
    # a panel's series: the same statistics, per series
    mean, std = series_statistics([values[:100], values], [100, 200], "robust")
    alone = RobustScaler().fit(values[:100])
    assert np.array_equal(mean[0], alone.mean) and np.array_equal(std[0], alone.std)
    assert np.array_equal(mean[1], scaler.mean) and np.array_equal(std[1], scaler.std)


def test_robust_scaling_round_trips_and_loads_exactly():
    values = columns()
    scaler = RobustScaler().fit(values)
    back = scaler.inverse_transform(scaler.transform(values))
    assert np.allclose(back, values, rtol=1e-15, atol=0, equal_nan=True)
    loaded = StandardScaler.from_state_dict(scaler.state_dict())
    assert np.array_equal(loaded.mean, scaler.mean) and np.array_equal(loaded.std, scaler.std)
    assert np.array_equal(loaded.transform(values), scaler.transform(values), equal_nan=True)


def test_the_standard_choice_is_the_standard_scaler_as_before():
    values = columns()
    fitted, before = make_scaler("standard").fit(values), StandardScaler().fit(values)
    assert type(fitted) is StandardScaler
    assert np.array_equal(fitted.mean, before.mean) and np.array_equal(fitted.std, before.std)
    from tsfm.pipeline import build_datamodule

    cfg = compose_config("data=etth1")  # make run's data: scaled as before
    assert (
        cfg.data.scaler == "standard" and type(build_datamodule(cfg).input_scaler) is StandardScaler
    )
    mean, std = series_statistics([values], [200])
    assert np.array_equal(std, series_statistics([values], [200], "standard")[1])


def test_a_bad_scaler_is_refused_naming_the_choices():
    with pytest.raises(InputError, match=r"scaler must be one of \('standard', 'robust'\)"):
        tiny(scaler="minmax").fit(synthetic_frame(200))
    with pytest.raises(InputError, match=r"data__scaler must be one of .*got 'Robust'"):
        tiny(data__scaler="Robust").fit(synthetic_frame(200))
    with pytest.raises(InputError, match="data.scaler must be one of"):
        make_scaler("iqr")


def test_the_command_line_takes_data_scaler_and_refuses_others():
    check_run(compose_config(*TINY_ITRANSFORMER, "data.scaler=robust"))
    with pytest.raises(InputError, match=r"data.scaler must be one of .*got 'median'"):
        check_run(compose_config(*TINY_ITRANSFORMER, "data.scaler=median"))
    with pytest.raises(InputError, match="data.scale=false scales nothing"):
        check_run(compose_config(*TINY_ITRANSFORMER, "data.scaler=robust", "data.scale=false"))
    with pytest.raises(InputError, match="data.scaler: not available for M4"):
        as_m4_config({"name": "m4_hourly", "scaler": "robust"})


def test_neuralforecasts_scaler_type_is_refused_naming_scaler():
    from tsfm import Forecaster

    with pytest.raises(InputError, match=r"scaler_type' is neuralforecast's name; in tsfm: "
                       r"scaler='robust'"):  # fmt: skip
        Forecaster(horizon=8, scaler_type="robust")


@pytest.mark.slow
def test_a_forecaster_fitted_with_the_robust_scaler_saves_and_predicts_the_same(tmp_path):
    from tsfm import Forecaster

    frame = synthetic_frame(300)
    frame.loc[50, "OT"] = 1e5  # an outlier in the training rows
    with pytest.warns(UserWarning, match="extreme value"):
        f = tiny(scaler="robust", seed=0).fit(frame)
    assert f.config_.data.scaler == "robust"
    ot = frame["OT"].to_numpy()[: len(frame)]
    assert f.scaler_.mean[-1] == np.median(ot)  # the median of its training rows
    loaded = Forecaster.load(f.save(tmp_path / "m"))
    assert loaded.config_.data.scaler == "robust" and loaded.get_params()["scaler"] == "robust"
    assert np.array_equal(loaded.scaler_.mean, f.scaler_.mean)
    assert np.array_equal(loaded.scaler_.std, f.scaler_.std)
    pd.testing.assert_frame_equal(loaded.predict(frame), f.predict(frame))


@pytest.mark.slow
def test_independent_series_and_new_ones_are_scaled_by_their_own_medians(monkeypatch):
    import tsfm.estimator.panel_history as panel_history

    long = to_long(synthetic_frame(200))
    long.loc[long.index[30], "y"] = 1e5  # an outlier in series v0's training rows
    with pytest.warns(UserWarning, match="extreme value"):
        f = tiny(mode="independent", scaler="robust", seed=0).fit(long)
    for j, series in enumerate(f.series_):
        y = long.loc[long["unique_id"] == series, "y"].to_numpy()
        assert f.series_mean_[j, 0] == np.median(y)
    asked = []

    def spy(values, rows, scaler="standard"):
        asked.append(scaler)
        return series_statistics(values, rows, scaler)

    monkeypatch.setattr(panel_history, "series_statistics", spy)
    forecast = f.predict(long[long["unique_id"] == "OT"].assign(unique_id="new"))
    assert asked == ["robust"] and len(forecast) == 8  # a new series: its own median and IQR


def test_a_search_over_the_scaler_is_refused_before_any_trial(tmp_path):
    space = {"data.scaler": ["standard", "robust"]}
    with pytest.raises(InputError, match="holds data.scaler, which changes the units"):
        tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space=space)
