"""Models saved before iTransformer's ``future_norm`` existed normalised their future
covariates with the look-back's statistics: they load, predict and refit as before; a
checkpoint of such a run is read the same way, or refused where a run would read it otherwise."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError
from tsfm.training.checkpoints import module_of, refuse_added_settings

TINY_IT = {**TINY["itransformer"], "max_epochs": 1, "batch_size": 16}


def holiday_frame(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    holiday = ((t // 24) % 7 == 6).astype(float)  # one day a week
    load = np.sin(2 * np.pi * t / 24) - holiday + 0.1 * rng.standard_normal(n)
    dates = pd.date_range("2021-01-01", periods=n, freq="h")
    return pd.DataFrame({"date": dates, "holiday": holiday, "load": load})


def as_saved_before(folder) -> None:
    """Edit a save into what tsfm wrote before ``future_norm``: no such setting anywhere."""
    cfg = OmegaConf.load(folder / "config.yaml")
    del cfg.model["future_norm"]
    OmegaConf.save(cfg, folder / "config.yaml")
    meta = json.loads((folder / "forecaster.json").read_text())
    for params in (meta["params"], meta.get("fitted_params") or {}):
        params.pop("future_norm", None)
    (folder / "forecaster.json").write_text(json.dumps(meta))


def fitted(**params) -> Forecaster:
    return Forecaster(horizon=8, lookback=24, **TINY_IT, **params).fit(holiday_frame())


def test_a_save_from_before_future_norm_predicts_as_it_did(tmp_path):
    est = fitted(future_covariates=["holiday"], future_norm="lookback")
    future = est.make_future_dataframe().assign(holiday=1.0)  # flat look-back, holiday ahead
    folder = est.save(tmp_path / "old")
    as_saved_before(folder)
    loaded = Forecaster.load(folder)
    assert loaded.module_.model.future_norm == "lookback"
    pd.testing.assert_frame_equal(loaded.predict(future_df=future), est.predict(future_df=future))
    assert loaded.get_params()["future_norm"] == "lookback"  # a refit (or warm fit) keeps it
    assert loaded.config_.model.future_norm == "lookback"
    new = Forecaster.load(fitted(future_covariates=["holiday"]).save(tmp_path / "new"))
    assert new.module_.model.future_norm == "window"  # saves record it: the default now


def test_such_a_save_after_set_params_loads_with_the_lookback_rule_too(tmp_path):
    est = fitted(future_covariates=["holiday"], future_norm="lookback")
    future = est.make_future_dataframe().assign(holiday=1.0)
    folder = est.set_params(lr=1e-3).save(tmp_path / "changed")  # the fitted settings kept too
    as_saved_before(folder)
    loaded = Forecaster.load(folder)
    pd.testing.assert_frame_equal(loaded.predict(future_df=future), est.predict(future_df=future))
    assert loaded.get_params()["lr"] == 1e-3


def test_a_save_without_future_covariates_gets_no_parameter_it_never_used(tmp_path):
    est = fitted()
    folder = est.save(tmp_path / "old")
    as_saved_before(folder)
    loaded = Forecaster.load(folder)
    assert "future_norm" not in loaded.get_params()
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_a_checkpoint_from_before_future_norm_is_read_with_the_lookback_rule():
    est = fitted(future_covariates=["holiday"], future_norm="lookback")
    hyper = copy.deepcopy(dict(est.module_.hparams))
    del hyper["model"]["future_norm"]
    checkpoint = {"hyper_parameters": hyper, "state_dict": est.module_.state_dict()}
    assert module_of(checkpoint, "memory").model.future_norm == "lookback"
    assert checkpoint["hyper_parameters"]["model"]["future_norm"] == "lookback"  # for callers


def test_a_run_reading_such_a_checkpoint_with_another_rule_is_refused():
    old = fitted(future_covariates=["holiday"], future_norm="lookback").module_
    saved = copy.deepcopy(dict(old.hparams))
    del saved["model"]["future_norm"]
    refuse_added_settings(saved, old, "old.ckpt", "ckpt_path")  # the same rule: read as it is
    now = fitted(future_covariates=["holiday"]).module_
    with pytest.raises(InputError, match=r"ckpt_path: old.ckpt .*run with model.future_norm="):
        refuse_added_settings(saved, now, "old.ckpt", "ckpt_path")
    saved["dims"]["n_future"] = 0  # no future covariate: the rule never computed anything
    refuse_added_settings(saved, now, "old.ckpt", "ckpt_path")
