"""Covariates, panels and missing values: roles, leakage, masks, statics, future frames."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.data import TimeSeriesDataModule
from tsfm.data.batch import model_inputs
from tsfm.data.roles import PYTHON_NAMES, resolve_roles
from tsfm.models import build_model
from tsfm.training.artifacts import module_from_config
from tsfm.training.metrics import ErrorMetrics
from tsfm.training.runtime import MachineWarning

TINY_IT = {**TINY["itransformer"], "max_epochs": 2, "batch_size": 16}


def demand_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Load driven by a temperature known ahead (future) and a lagged price (past)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(n)
    price = np.cos(2 * np.pi * t / 48) + 0.1 * rng.standard_normal(n)
    load = 2 * temp + np.roll(price, 2) + 0.1 * rng.standard_normal(n)
    dates = pd.date_range("2021-01-01", periods=n, freq="h")
    return pd.DataFrame({"date": dates, "temp": temp, "price": price, "load": load})


def panel_frame(lengths=(120, 90, 60), categories=("a", "b", "a")) -> pd.DataFrame:
    rows = []
    for i, (length, cat) in enumerate(zip(lengths, categories, strict=True)):
        start = pd.Timestamp("2021-01-01") + pd.Timedelta(hours=7 * i)  # own dates
        for k in range(length):
            rows.append(
                {
                    "unique_id": f"s{i}",
                    "ds": start + pd.Timedelta(hours=k),
                    "y": np.sin(k / 4 + i) + i,
                    "promo": float(k % 7 == 0),
                    "store": cat,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- roles
def test_roles_are_validated_with_the_argument_names():
    columns = ["a", "b", "c"]
    roles = resolve_roles(columns, features="MS", target="c", future=["a"])
    assert (roles.targets, roles.future, roles.past) == (("c",), ("a",), ("b",))
    with pytest.raises(ValueError, match="data.future_covariates names \\['x'\\]"):
        resolve_roles(columns, future=["x"])
    with pytest.raises(ValueError, match="in both future_covariates and past_covariates"):
        resolve_roles(columns, future=["a"], past=["a"], names=PYTHON_NAMES)
    with pytest.raises(ValueError, match="forecasts one target"):
        resolve_roles(columns, features="S", targets=["a", "b"])
    with pytest.raises(ValueError, match="no target left"):
        resolve_roles(columns, future=["a", "b", "c"])


def test_the_forecaster_refuses_roles_it_cannot_honour():
    panel = panel_frame()
    with pytest.raises(ValueError, match="column\\(s\\) \\['promo'\\] without a role"):
        Forecaster(horizon=6, lookback=24, static_covariates=["store"], mode="independent").fit(
            panel
        )
    with pytest.raises(ValueError, match="static covariates need one value per series"):
        Forecaster(horizon=8, lookback=24, static_covariates=["temp"]).fit(demand_frame())
    with pytest.raises(ValueError, match="cannot use future covariates"):
        Forecaster("timesclip", horizon=8, lookback=24, future_covariates=["temp"], **{
            **TINY["timesclip"], "max_epochs": 1
        }).fit(demand_frame())  # fmt: skip
    with pytest.raises(ValueError, match="mode must be one of"):
        Forecaster(mode="together").fit(demand_frame())


# ---------------------------------------------------------------------- no leakage
def window_forecast(frame: pd.DataFrame, origin: int, missing: str = "refuse") -> torch.Tensor:
    config = {
        "seq_len": 24,
        "pred_len": 8,
        "future_covariates": ["temp"],
        "past_covariates": ["price"],
        "missing": missing,
        "train_ratio": 0.6,
        "test_ratio": 0.3,
    }
    dm = TimeSeriesDataModule(config, frame=frame)
    dm.setup()
    test = dm.datasets["test"]
    first_target = dm.borders.test[0] + test.seq_len
    batch = test.__getitems__([origin - first_target])
    torch.manual_seed(0)
    model = build_model({"name": "itransformer", **TINY["itransformer"]}, dm.dims())
    return model.eval()(**model_inputs(batch))


@pytest.mark.parametrize("poison", [1e15, np.nan])  # 1e15: huge, within the models' range
def test_nothing_observed_after_the_origin_reaches_the_model(poison):
    frame = demand_frame()
    frame.loc[5, "load"] = np.nan  # both frames have missing values, so both carry masks
    origin = 250  # inside the test split, after the rows the scaler is fitted on
    poisoned = frame.copy()
    poisoned.loc[origin:, ["load", "price"]] = poison
    clean = window_forecast(frame, origin, "mask")
    dirty = window_forecast(poisoned, origin, "mask")
    assert torch.isfinite(clean).all()
    torch.testing.assert_close(dirty, clean, rtol=0, atol=0)
    changed = frame.copy()
    changed.loc[origin:, "temp"] += 1.0  # a future covariate of the horizon does matter
    assert not torch.equal(window_forecast(changed, origin, "mask"), clean)


def test_past_covariate_tokens_are_the_official_ms():
    """Past covariates as tokens = the same model given them as extra variates, sliced."""
    torch.manual_seed(0)
    model = build_model(
        {"name": "itransformer", **TINY["itransformer"]}, {"seq_len": 24, "pred_len": 8}
    )
    x, past = torch.randn(4, 24, 1), torch.randn(4, 24, 2)
    marks = torch.rand(4, 24, 4) - 0.5
    tokens = model(x, marks, past_covariates=past)
    everything = model(torch.cat([past, x], -1), marks)[..., -1:]
    torch.testing.assert_close(tokens, everything)
    blind = build_model(
        {"name": "itransformer", **TINY["itransformer"], "covariates": "none"},
        {"seq_len": 24, "pred_len": 8},
    )
    torch.testing.assert_close(blind(x, marks, past_covariates=past), blind(x, marks))


# ---------------------------------------------------------------------- masks
def test_masked_targets_never_enter_the_metrics_or_the_loss():
    prediction, target = torch.zeros(2, 3, 1), torch.ones(2, 3, 1)
    target[0, 0, 0] = 1e6  # a masked value: must not count
    mask = torch.ones_like(target)
    mask[0, 0, 0] = 0
    metric = ErrorMetrics()
    metric.update(prediction, target, mask)
    assert metric.compute()["mse"].item() == pytest.approx(1.0)
    module = module_from_config_tiny()
    loss = module.loss_fn(prediction, target, mask)
    assert loss.item() == pytest.approx(5 / 6)  # zeros where masked, mean over every element


def module_from_config_tiny():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        {"model": {"name": "itransformer", **TINY["itransformer"]}, "optim": {}, "loss": "mse"}
    )
    return module_from_config(cfg, {"seq_len": 24, "pred_len": 8, "n_vars": 1}, None)


def test_a_series_with_missing_values_trains_and_forecasts_finite_values():
    frame = demand_frame()
    rng = np.random.default_rng(1)
    holes = rng.choice(len(frame), size=len(frame) // 10, replace=False)
    frame.loc[holes, "load"] = np.nan
    with pytest.raises(ValueError, match="missing='mask'"):
        Forecaster(horizon=8, lookback=24, **TINY_IT).fit(frame)
    est = Forecaster(horizon=8, lookback=24, missing="mask", val_size=48, **TINY_IT).fit(frame)
    assert est.dims_["masked"] and np.isfinite(est.predict()[["temp", "price", "load"]]).all().all()
    metrics = est.evaluate(frame.tail(80))
    assert all(np.isfinite(v) for v in metrics.values())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a look-back with observed values: no warning
        warnings.simplefilter("ignore", MachineWarning)  # a busy machine's advice is not one
        est.predict(frame)
    frame.loc[len(frame) - 24 :, "load"] = np.nan  # nothing of load in the last look-back
    with pytest.warns(UserWarning, match="'load': no value observed in the look-back") as caught:
        est.predict(frame)
    assert caught[0].filename == __file__ and "'temp'" not in str(caught[0].message)


# ---------------------------------------------------------------------- panels and statics
def test_a_panel_of_series_of_different_lengths_forecasts_each_after_its_own_end():
    panel = panel_frame()
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", past_covariates=["promo"],
        static_covariates=["store"], val_size=12, **TINY_IT,
    ).fit(panel)  # fmt: skip
    forecast = est.predict()
    assert list(forecast.unique_id.unique()) == ["s0", "s1", "s2"]
    for series, group in forecast.groupby("unique_id"):
        last = panel[panel.unique_id == series].ds.max()
        expected = pd.date_range(last, periods=7, freq="h")[1:]
        assert (group.ds.to_numpy() == expected.to_numpy()).all()
    assert np.isfinite(forecast.y).all()
    short = panel_frame(lengths=(120, 6, 60))
    with pytest.raises(ValueError, match="fewer than horizon \\+ 1"):
        Forecaster(horizon=6, lookback=24, mode="independent", **TINY_IT).fit(
            short.drop(columns=["promo", "store"])
        )


def test_an_unseen_static_category_gets_the_reserved_index_with_a_warning():
    panel = panel_frame(lengths=(120, 100, 80), categories=("a", "b", "a"))
    est = Forecaster(
        horizon=6, lookback=24, future_covariates=["promo"], static_covariates=["store"], **TINY_IT
    )
    aligned = panel[panel.ds.isin(panel[panel.unique_id == "s2"].ds)]  # shared timestamps
    est.fit(aligned)
    assert est.static_encoder_.categories == {"store": ["a", "b"]}
    statics = pl.DataFrame({"store": ["a", "c"]})
    with pytest.warns(UserWarning, match="categories \\['c'\\] were not seen"):
        encoded = est.static_encoder_.transform(statics)
    assert encoded["cat"][:, 0].tolist() == [1, 0]


def test_future_df_must_cover_the_horizon_of_every_series():
    frame = demand_frame()
    est = Forecaster(horizon=8, lookback=24, future_covariates=["temp"], **TINY_IT).fit(frame)
    future = est.make_future_dataframe()
    assert list(future.columns) == ["date", "temp"] and len(future) == 8
    assert future.temp.isna().all()
    with pytest.raises(ValueError, match="future_df=..."):
        est.predict()
    future["temp"] = 0.5
    with pytest.raises(ValueError, match="no row for the series at 2021-01-13 19:00:00"):
        est.predict(future_df=future.iloc[:-1])
    with pytest.raises(ValueError, match="also has \\['load'\\]"):
        est.predict(future_df=future.assign(load=1.0))
    holes = future.copy()
    holes.loc[holes.index[[2, 5]], "temp"] = np.nan
    named = "'temp' is missing for the series at 2021-01-13 14:00:00, 2021-01-13 17:00:00 \\(2 of"
    with pytest.raises(ValueError, match=named):
        est.predict(future_df=holes)
    assert np.isfinite(est.predict(future_df=future).load).all()
    with pytest.raises(ValueError, match="\\['temp'\\] are not numeric \\(\\['String'\\]\\)"):
        est.predict(future_df=future.assign(temp="warm"))


def test_future_df_of_a_panel_is_matched_by_series_and_names_an_id_of_another_type():
    panel = panel_frame().drop(columns=["store"]).assign(unique_id=lambda d: d.unique_id.str[1:])
    panel["unique_id"] = panel.unique_id.astype(int)
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"], **TINY_IT
    ).fit(panel)
    future = est.make_future_dataframe()
    future["promo"] = np.where(future.unique_id == 1, 1.0, 0.0)
    shuffled = future.sample(frac=1.0, random_state=0)  # rows found by series and time
    pd.testing.assert_frame_equal(est.predict(future_df=shuffled), est.predict(future_df=future))
    with pytest.raises(
        ValueError,
        match=r"future_df's ids \('unique_id'\) are str \(text\) but the fitted ids are int64 "
        r"\(integer\).*future_df\['unique_id'\].astype\('int64'\)",
    ):
        est.predict(future_df=future.assign(unique_id=future.unique_id.astype(str)))


def test_save_load_predict_is_identical_with_covariates_and_statics(tmp_path):
    frame = demand_frame()
    est = Forecaster(
        horizon=8, lookback=24, future_covariates=["temp"], past_covariates=["price"], **TINY_IT
    ).fit(frame)
    future = est.make_future_dataframe().assign(temp=0.3)
    loaded = Forecaster.load(est.save(tmp_path / "joint"))
    pd.testing.assert_frame_equal(loaded.predict(future_df=future), est.predict(future_df=future))
    assert loaded.roles_ == est.roles_
    panel = panel_frame()
    independent = Forecaster(
        horizon=6, lookback=24, mode="independent", past_covariates=["promo"],
        static_covariates=["store"], **TINY_IT,
    ).fit(panel)  # fmt: skip
    again = Forecaster.load(independent.save(tmp_path / "panel"))
    pd.testing.assert_frame_equal(again.predict(), independent.predict())
    assert again.static_encoder_.categories == independent.static_encoder_.categories
