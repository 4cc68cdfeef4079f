"""Warm starts (``Forecaster(warm_start=True)``): a fitted Forecaster's next fit starts from its
weights (also after ``load``), keeps the fitted scaling, and refuses what would not be the
fitted model; ``warm_start=False`` stays a fresh fit."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

SCALER_BUFFERS = ("scale_mean", "scale_std")  # the data's scaling, not learnt weights
TINY_LR = 1e-30  # Adam moves each weight by about lr: the weights stay those it started from


def _weights(f: Forecaster) -> dict[str, torch.Tensor]:
    state = f.module_.state_dict()
    return {k: v.clone() for k, v in state.items() if k not in SCALER_BUFFERS}


def _close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-12) for k in a)


def _val_losses(work_dir) -> list[float]:
    return pd.read_csv(work_dir / "logs" / "metrics.csv")["val/loss"].dropna().tolist()


def test_a_warm_fit_starts_at_the_fitted_models_loss_and_a_cold_one_does_not(tmp_path):
    df = synthetic_frame(n_rows=500)
    kw = {"val_size": 0.2, "threads": 1, "verbose": 0, "lr": 5e-3, "overrides": ["logger=csv"]}
    f = tiny(max_epochs=4, work_dir=tmp_path / "first", warm_start=True, **kw).fit(df)
    first = _val_losses(tmp_path / "first")
    scaler = f.scaler_.mean.copy()
    f.set_params(work_dir=tmp_path / "warm", max_epochs=2).fit(df)
    warm = _val_losses(tmp_path / "warm")
    fresh = tiny(max_epochs=2, work_dir=tmp_path / "fresh", **kw).fit(df)
    cold = _val_losses(tmp_path / "fresh")
    assert warm[0] < 1.5 * first[-1]  # where the first fit ended (one more epoch on)
    assert warm[0] < cold[0] / 4 and cold[0] == pytest.approx(first[0])  # not from scratch
    assert f.fit_metrics_["epochs"] == 2  # counted from zero, as in a fresh fit
    assert (f.scaler_.mean == scaler).all()
    assert not _close(_weights(f), _weights(fresh))


def test_warm_start_false_refits_bitwise_as_a_fresh_forecaster():
    df = synthetic_frame(n_rows=300)
    a, b = df.iloc[:200], df.iloc[100:]
    f = tiny(threads=1, verbose=0).fit(a)
    before = _weights(f)
    f.fit(b)
    fresh = tiny(threads=1, verbose=0).fit(b)
    assert all(torch.equal(v, fresh.module_.state_dict()[k]) for k, v in _weights(f).items())
    assert not _close(before, _weights(f))


def test_joint_warm_start_keeps_the_fitted_scaler_and_weights_on_shifted_data():
    df = synthetic_frame(n_rows=300)
    f = tiny(threads=1, verbose=0, warm_start=True).fit(df.iloc[:200])
    weights, mean = _weights(f), f.scaler_.mean.copy()
    shifted = df.iloc[100:].copy()
    shifted[["v0", "v1", "OT"]] += 10.0  # the level moved: a refit scaler would differ
    f.set_params(lr=TINY_LR).fit(shifted)
    assert _close(weights, _weights(f))
    assert (f.scaler_.mean == mean).all() and (f.input_scaler_.mean == mean).all()
    assert f.predict().shape == (8, 4)


def test_a_loaded_forecaster_is_fine_tuned_from_its_saved_weights(tmp_path):
    df = synthetic_frame(n_rows=300)
    tiny(threads=1, verbose=0).fit(df.iloc[:200]).save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    weights, mean = _weights(loaded), loaded.scaler_.mean.copy()
    loaded.set_params(warm_start=True, lr=TINY_LR).fit(df.iloc[100:])
    assert _close(weights, _weights(loaded)) and (loaded.scaler_.mean == mean).all()
    loaded.set_params(lr=1e-2).fit(df.iloc[100:])  # and it trains
    assert not _close(weights, _weights(loaded))


def _refused_and_kept(f: Forecaster, df, match: str) -> None:
    """The warm fit is refused with ``match`` and ``f`` keeps its fitted model."""
    weights, forecast = _weights(f), f.predict()
    with pytest.raises(ValueError, match=match):
        f.fit(df)
    assert _close(weights, _weights(f))
    pd.testing.assert_frame_equal(f.predict(), forecast)


def test_warm_start_refuses_changed_model_settings_naming_them():
    f = tiny(threads=1, verbose=0, warm_start=True).fit(synthetic_frame(n_rows=200))
    f.set_params(d_model=32, lr=1e-3)  # lr is a training setting: free to change
    with pytest.raises(ValueError, match="warm_start=True .* changed since its fit \\(d_model="):
        f.fit(synthetic_frame(n_rows=200))
    f.set_params(d_model=TINY_IT["d_model"])  # set back: the same model
    _refused_and_kept(f, synthetic_frame(n_rows=200).drop(columns="v0"), "missing \\['v0'\\]")


def test_joint_warm_start_refuses_other_columns_or_order_naming_them():
    df = synthetic_frame(n_rows=200)
    f = tiny(threads=1, verbose=0, warm_start=True).fit(df)
    _refused_and_kept(f, df.rename(columns={"v0": "x"}), "missing \\['v0'\\], new \\['x'\\]")
    _refused_and_kept(f, df[["date", "v1", "v0", "OT"]], "in another order")


def test_warm_start_refuses_data_that_builds_another_model():
    f = tiny(threads=1, verbose=0, warm_start=True, missing="mask").fit(synthetic_frame(200))
    gappy = synthetic_frame(n_rows=200)
    gappy.loc[50, "v0"] = float("nan")  # masks: an input the fitted model did not have
    _refused_and_kept(f, gappy, "missing values given as masks .*: False -> True")


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_warm_start_refuses_data_of_another_frequency_naming_both(mode):
    hourly = synthetic_frame(n_rows=200)
    f = tiny(threads=1, verbose=0, warm_start=True, mode=mode)
    f.fit(hourly if mode == "joint" else to_long(hourly))
    for freq in ("2h", "D"):  # other steps, and other calendar features too
        other = synthetic_frame(n_rows=200, freq=freq)
        other = other if mode == "joint" else to_long(other)
        match = f"fitted on 'h' data, but this frame's frequency is '{freq}'"
        _refused_and_kept(f, other, match)


def test_a_warm_fit_takes_the_fitted_frequency_by_another_name():
    quarterly = synthetic_frame(n_rows=120, freq="QS")
    f = tiny(threads=1, verbose=0, warm_start=True).fit(quarterly)
    assert f.freq_ == "QS-JAN"
    f.set_params(freq="QS").fit(quarterly)  # the same offset: the same model
    with pytest.raises(ValueError, match="freq='QS' -> 'MS'"):
        f.set_params(freq="MS").fit(quarterly)


def test_independent_warm_start_fits_any_series_from_the_fitted_weights():
    settings = {**TINY_IT, "max_epochs": 1, "verbose": 0, "threads": 1}
    kw = {"horizon": 6, "lookback": 24, "mode": "independent", "future_covariates": ["promo"]}
    panel = panel_frame().drop(columns=["store"])
    f = Forecaster(**kw, **settings, warm_start=True).fit(panel)
    weights = _weights(f)
    others = panel_frame(lengths=(80, 100), categories=("a", "b")).drop(columns=["store"])
    others["unique_id"] = others["unique_id"].map({"s0": "new0", "s1": "new1"})
    f.set_params(lr=TINY_LR).fit(others)
    assert _close(weights, _weights(f)) and f.series_ == ["new0", "new1"]
    assert f.module_.scale_mean.shape[0] == 2  # each new series scaled by its own rows
    fresh = Forecaster(**kw, **settings).fit(others)
    assert not _close(weights, _weights(fresh))


def test_warm_start_must_be_a_boolean():
    f = tiny(threads=1, verbose=0).fit(synthetic_frame(n_rows=200))
    with pytest.raises(ValueError, match="warm_start must be True or False, got 'yes'"):
        f.set_params(warm_start="yes").fit(synthetic_frame(n_rows=200))


def test_a_command_line_runs_model_is_fine_tuned_from_its_checkpoint(tmp_path):
    from tests.test_from_run import ETTH1, cli_run

    forecaster = Forecaster.from_run(cli_run(tmp_path))
    weights, mean = _weights(forecaster), forecaster.scaler_.mean.copy()
    run_rows = forecaster.fitted_rows_
    frame = pd.read_csv(ETTH1, parse_dates=["date"]).iloc[:1500]
    forecaster.set_params(warm_start=True, lr=TINY_LR, verbose=0).fit(frame)
    assert _close(weights, _weights(forecaster))  # the run's weights, trained further
    assert (forecaster.scaler_.mean == mean).all()  # and the run's scaling
    for model in (forecaster, Forecaster.load(forecaster.save(tmp_path / "tuned"))):
        fits = model.fitted_rows_.fits()  # the run's fitted rows, and this fit's
        assert len(fits) == 2 and fits[1].end == run_rows.end and fits[1].start == run_rows.start


def test_a_freq_spelt_in_other_units_is_named_as_the_cause_of_other_calendar_features():
    hourly = synthetic_frame(n_rows=200)
    f = tiny(threads=1, verbose=0, warm_start=True).fit(hourly)
    assert f.freq_ == "h"
    f.set_params(freq="1h").fit(hourly)  # the same units: the same calendar features
    match = "freq='60min' names the fitted frequency 'h' in other units.*give freq='h'"
    with pytest.raises(ValueError, match=match):
        f.set_params(freq="60min").fit(hourly)  # minutes add a minute-of-hour feature
