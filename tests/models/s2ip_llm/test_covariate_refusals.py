"""S²IP-LLM is channel-independent: past covariates (extra input variates to it) never reach a
target's forecast, so both front doors refuse them, ``features=MS`` included, instead of
training on them silently (issue: a covariate replaced by noise x 1e3 moved the forecast by
exactly 0.0); and its refusals of future and static covariates no longer advise giving them
as past covariates. The paper presets (``features=M``) are untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN, run_cli
from tsfm import Forecaster
from tsfm.cli_errors import INPUT_ERROR_STATUS
from tsfm.config import CONF_DIR, compose_config
from tsfm.errors import InputError
from tsfm.models import capabilities
from tsfm.models.common import restoring_saved_weights
from tsfm.pipeline import build_datamodule, build_module
from tsfm.training.inputs import check_capabilities

S2IP = capabilities("s2ip_llm")
DIMS = {"n_vars": 1, "seq_len": 48, "pred_len": 12}


def _frame(n: int = 300) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=n, freq="h"),
            "cov": np.cos(t / 7.0),
            "v0": np.sin(2 * np.pi * t / 24),
        }
    )


def _refusal(**dims) -> str:
    with pytest.raises(InputError) as refused:
        check_capabilities("s2ip_llm", S2IP, {**DIMS, **dims})
    return str(refused.value)


def test_past_covariates_are_refused_naming_why_and_the_models_that_use_them():
    message = _refusal(n_past=2)
    assert "cannot use past covariates (2 given): it is channel-independent" in message
    assert "never reach a target's forecast" in message and "features=MS" in message
    assert "Drop them: past_covariates=None (data.past_covariates=null" in message
    assert message.endswith("use a model that takes past covariates: 'itransformer' or 'timesclip'")


@pytest.mark.parametrize("dims", [{"n_future": 1}, {"n_static_real": 1}])
def test_future_and_static_refusals_advise_no_past_covariates(dims):
    message = _refusal(**dims)
    assert "it takes no covariates (it is channel-independent" in message
    assert "past covariate" not in message
    assert "or use a model that takes" in message and "'itransformer'" in message


def test_a_model_saved_with_them_still_loads():
    """They never reached its forecasts: a save from before the refusal forecasts as it did."""
    with restoring_saved_weights({}):
        check_capabilities("s2ip_llm", S2IP, {**DIMS, "n_past": 1})


@pytest.mark.parametrize("roles", [{"past_covariates": ["cov"]}, {"data__features": "MS"}])
def test_the_forecaster_refuses_them_before_training(roles):
    settings = {**TINY["s2ip_llm"], "max_epochs": 1, "verbose": 0}
    est = Forecaster("s2ip_llm", horizon=12, lookback=48, targets=["v0"], **roles, **settings)
    with pytest.raises(InputError, match="cannot use past covariates \\(1 given\\)"):
        est.fit(_frame())
    assert not hasattr(est, "module_")


def _cli_settings(path) -> list[str]:
    return [
        "model=s2ip_llm",
        *[f"model.{k}={v}" for k, v in TINY["s2ip_llm"].items()],
        "data=custom",
        f"data.path={path}",
        "data.features=MS",
        "data.target=v0",
        "data.seq_len=48",
        "data.pred_len=12",
        *TINY_RUN,
    ]


def test_a_run_config_with_features_ms_is_refused_before_its_model_is_built(tmp_path):
    path = tmp_path / "data.csv"
    _frame().to_csv(path, index=False)
    cfg = compose_config(*_cli_settings(path))
    datamodule = build_datamodule(cfg)
    with pytest.raises(InputError, match="cannot use past covariates \\(1 given\\)"):
        build_module(cfg, datamodule)


def test_a_panel_run_config_is_refused_with_a_panels_fix(tmp_path):
    """R19: a panel (data.mode=independent) was told to use features=S, which it refuses."""
    long = pd.concat([_frame().assign(unique_id=name) for name in ("a", "b")])
    long.to_csv(tmp_path / "long.csv", index=False)
    settings = [s for s in _cli_settings(tmp_path / "long.csv") if "data.features" not in s]
    panel = ["data.id_col=unique_id", "data.mode=independent", "data.past_covariates=[cov]"]
    cfg = compose_config(*settings, *panel)
    with pytest.raises(InputError, match="cannot use past covariates \\(1 given\\)") as refused:
        build_module(cfg, build_datamodule(cfg))
    message = str(refused.value)
    assert "data.past_covariates=null, and the columns from the file" in message
    assert "features=MS" not in message and "use S" not in message


@pytest.mark.slow
def test_the_command_line_refuses_features_ms(tmp_path):
    path = tmp_path / "data.csv"
    _frame().to_csv(path, index=False)
    run = f"hydra.run.dir={tmp_path / 'run'}"
    proc = run_cli(*_cli_settings(path), run, cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == INPUT_ERROR_STATUS, out[-3000:]
    assert "cannot use past covariates (1 given): it is channel-independent" in out


def test_the_paper_presets_forecast_every_variate_as_a_target():
    presets = sorted(p.stem for p in (CONF_DIR / "experiment").glob("s2ip_llm_*.yaml"))
    assert len(presets) >= 30
    presets = [p for p in presets if p.endswith("_96") or "_m4_" in p]  # one per dataset
    for preset in presets:
        data = compose_config(f"experiment={preset}").data
        assert data.features == "M" and not data.past_covariates, preset


def _saved_with_past_covariates(tmp_path, monkeypatch, **roles) -> Forecaster:
    """An S²IP-LLM saved with past covariates, as tsfm fitted them before refusing them."""
    import tsfm.pipeline as pipeline
    import tsfm.training.forecasting_core as core

    settings = {**TINY["s2ip_llm"], "max_epochs": 1, "verbose": 0}
    est = Forecaster("s2ip_llm", horizon=12, lookback=48, targets=["v0"], **roles, **settings)
    with monkeypatch.context() as before:
        for checking in (core, pipeline):
            before.setattr(checking, "check_capabilities", lambda *args: None)
        est.fit(_frame())
    est.save(tmp_path / "old")
    return Forecaster.load(tmp_path / "old")


@pytest.mark.parametrize(
    ("roles", "drop"),
    [({"past_covariates": ["cov"]}, "past_covariates=None"), ({"data__features": "MS"}, "'S'")],
)
def test_a_warm_fit_of_a_model_saved_with_them_advises_a_fresh_fit(
    tmp_path, monkeypatch, roles, drop
):
    """A warm fit keeps the fitted inputs, so features=MS (or dropping them) is no advice
    there: the saved model still forecasts, and a fresh fit without them trains."""
    est = _saved_with_past_covariates(tmp_path, monkeypatch, **roles)
    assert est.predict(_frame()).shape[0] == 12  # it forecasts as saved
    with pytest.raises(InputError) as refused:
        est.set_params(warm_start=True).fit(_frame())
    message = str(refused.value)
    assert "cannot use past covariates (1 given)" in message
    assert "features=MS makes" not in message and "warm_start=True" in message
    assert "set_params(warm_start=False" in message and drop in message
    assert "predict" in message
