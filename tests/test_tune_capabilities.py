"""``Forecaster.tune`` refuses data its model cannot use (covariates of a kind the model's
capabilities lack) before the study opens, with the message ``fit`` gives, instead of failing
every trial with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.estimator import to_long
from tests.helpers.models import TINY
from tsfm import Forecaster
from tsfm.errors import InputError

SETTINGS = {"max_epochs": 1, "verbose": 0, "threads": 1, "val_size": 0.2}


def _wide(n: int = 300) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=n, freq="h"),
            "cov": np.cos(t / 7.0),
            "v0": np.sin(2 * np.pi * t / 24),
            "v1": np.cos(2 * np.pi * t / 12),
        }
    )


def _s2ip(**roles) -> Forecaster:
    return Forecaster("s2ip_llm", horizon=12, lookback=48, **roles, **TINY["s2ip_llm"], **SETTINGS)


def _refusals(est_of, df, tmp_path, **data) -> tuple[str, str]:
    with pytest.raises(InputError) as fitting:
        est_of().fit(df, **data)
    with pytest.raises(InputError) as tuning:
        est_of().tune(
            df, n_trials=2, search_space={"lr": [1e-3, 1e-2]}, output_dir=tmp_path, **data
        )
    assert not (tmp_path / "study.db").exists()  # refused before the study opened
    return str(fitting.value), str(tuning.value)


@pytest.mark.parametrize(
    "roles",
    [{"targets": ["v0"], "past_covariates": ["cov"]}, {"targets": ["v0"], "data__features": "MS"}],
)
def test_past_covariates_of_a_channel_independent_model_are_refused_before_the_study(
    tmp_path, roles
):
    fitting, tuning = _refusals(lambda: _s2ip(**roles), _wide(), tmp_path)
    assert "cannot use past covariates (" in tuning and "it is channel-independent" in tuning
    assert tuning == fitting
    # a wide table's fixes: name none, or no features=MS
    assert "Drop them: past_covariates=None (data.past_covariates=null" in tuning
    assert "where features=MS made them (every column but the target one) use S" in tuning


def test_past_covariates_of_a_panel_are_refused_with_a_panels_fix(tmp_path):
    """R19: a panel was told to use features=S, which mode='independent' refuses."""
    panel = to_long(_wide()[["date", "v0", "v1"]]).assign(cov=np.tile(_wide()["cov"], 2))

    def est_of(**changed):
        return _s2ip(**{"mode": "independent", "past_covariates": ["cov"], **changed})

    fitting, tuning = _refusals(est_of, panel, tmp_path)
    assert tuning == fitting and "cannot use past covariates (1 given)" in tuning
    assert "Drop them: past_covariates=None, and their columns from the frame" in tuning
    assert "features=MS" not in tuning and "use S" not in tuning
    est_of(past_covariates=None).fit(panel.drop(columns="cov"))  # the advice


def test_future_covariates_a_model_cannot_use_are_refused_before_the_study(tmp_path):
    roles = {"targets": ["v0", "v1"], "future_covariates": ["cov"]}
    fitting, tuning = _refusals(lambda: _s2ip(**roles), _wide(), tmp_path)
    assert "cannot use future covariates" in tuning and tuning == fitting


def test_static_covariates_a_model_cannot_use_are_refused_before_the_study(tmp_path):
    long = to_long(_wide()[["date", "v0", "v1"]])
    static = pd.DataFrame({"unique_id": ["v0", "v1"], "size": [1.0, 2.0]})

    def est_of():
        return _s2ip(static_covariates=["size"], mode="independent")

    fitting, tuning = _refusals(est_of, long, tmp_path, static_df=static)
    assert "cannot use static covariates" in tuning and tuning == fitting


def test_a_warm_tune_of_a_model_saved_with_them_is_refused_as_its_warm_fit(tmp_path, monkeypatch):
    from tests.models.s2ip_llm.test_covariate_refusals import _frame, _saved_with_past_covariates

    est = _saved_with_past_covariates(tmp_path, monkeypatch, past_covariates=["cov"])
    est.set_params(warm_start=True)
    with pytest.raises(InputError) as fitting:
        est.fit(_frame())
    with pytest.raises(InputError) as tuning:
        est.tune(_frame(), n_trials=2, search_space={"lr": [1e-3]}, output_dir=tmp_path / "s")
    assert not (tmp_path / "s" / "study.db").exists()
    assert str(tuning.value) == str(fitting.value)
    assert "set_params(warm_start=False" in str(tuning.value)


@pytest.mark.parametrize("mode", ["joint", "independent"])
def test_a_column_named_like_a_generated_one_is_refused_before_the_study(tmp_path, mode):
    """A column ``fit`` refuses before training for clashing with the forecasts' generated
    names (``v0-lo-80`` beside the target ``v0``) is refused by tune before any trial."""
    wide = _wide().rename(columns={"cov": "v0-lo-80"})
    if mode == "independent":  # two series, each with the targets v0 and v0-lo-80
        frame = pd.concat([wide.assign(unique_id=u) for u in ("a", "b")]).drop(columns="v1")
        roles = {"mode": "independent", "targets": ["v0", "v0-lo-80"], "time_col": "date"}
    else:
        frame, roles = wide, {}

    def est_of() -> Forecaster:
        return Forecaster(horizon=12, lookback=48, **roles, **TINY["itransformer"], **SETTINGS)

    fitting, tuning = _refusals(est_of, frame, tmp_path)
    assert "v0-lo-80" in fitting and tuning == fitting
