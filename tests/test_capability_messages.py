"""Refusals of covariates a model cannot use say in words what it takes and what to do, per
kind (issue: one text for future and static covariates printed the raw ``Capabilities(...)``
and advised giving a categorical static as a past covariate)."""

from __future__ import annotations

import pytest
from torch import nn

from tsfm.models import REGISTRY, Capabilities
from tsfm.training.inputs import check_capabilities

S2IP = Capabilities()  # TimesCLIP's: past covariates as extra variates only
DIMS = {"n_vars": 3, "n_future": 0, "n_static_real": 0, "static_cardinalities": []}


def _refusal(**dims) -> str:
    with pytest.raises(ValueError) as refused:
        check_capabilities("s2ip_llm", S2IP, {**DIMS, **dims})
    message = str(refused.value)
    assert "Capabilities(" not in message  # words, not the dataclass
    assert "'itransformer'" in message  # the registered model that takes them
    return message


def test_a_categorical_static_is_not_advised_as_a_past_covariate():
    message = _refusal(static_cardinalities=[3])
    assert "cannot use static covariates (one value per series; 1 categorical given)" in message
    assert "categorical one has no numeric form" in message
    assert "as past covariates" not in message and "past covariate (" not in message


def test_a_numeric_static_can_become_a_constant_past_covariate():
    message = _refusal(n_static_real=2)
    assert "2 numeric given" in message
    assert "repeated over time as a column of each series" in message
    assert "categorical" not in message


def test_future_covariates_are_refused_with_their_own_advice():
    message = _refusal(n_future=1)
    assert "cannot use future covariates (values known over the horizon; 1 given)" in message
    assert "past covariates only (as extra input variates" in message
    assert "their horizon values go unused" in message


def test_what_a_model_takes_is_accepted():
    full = Capabilities(past_covariates=True, future_covariates=True, static_covariates=True)
    check_capabilities("itransformer", full, {**DIMS, "n_future": 2, "n_static_real": 1})


class FutureOnly(nn.Module):
    """A test model that takes future covariates but no static ones."""

    CAPABILITIES = Capabilities(future_covariates=True)


def test_the_models_offered_instead_are_those_the_capability_table_says_take_them(monkeypatch):
    monkeypatch.setitem(REGISTRY, "future_only", f"{__name__}:FutureOnly")
    future = _refusal(n_future=1)
    assert "or use a model that takes future covariates: 'itransformer' or 'future_only'" in future
    static = _refusal(n_static_real=1)
    assert static.endswith("use a model that takes static covariates: 'itransformer'")
    monkeypatch.delitem(REGISTRY, "itransformer")
    with pytest.raises(ValueError) as refused:
        check_capabilities("s2ip_llm", S2IP, {**DIMS, "n_static_real": 1})
    assert str(refused.value).endswith("drop them (no registered model takes static covariates)")
