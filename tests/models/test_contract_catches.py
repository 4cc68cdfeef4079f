"""The model contract has teeth: each check fails for a model that gets its point wrong
(tests/helpers/broken_models.py, registered inside these tests only), and honest test models
(tests/helpers/fixture_models.py) pass every check."""

from __future__ import annotations

import contextlib

import pytest

from tests.models import test_contract, test_model_behaviour
from tsfm.models import REGISTRY

Contract, Behaviour = test_contract.TestContract, test_model_behaviour.TestBehaviour
# broken variant -> the check that must fail for it
BROKEN = {
    "IgnoresMasks": Behaviour.test_masks_reach_the_forecast,
    "IgnoresPast": Behaviour.test_declared_covariates_change_the_forecast,
    "IgnoresFuture": Behaviour.test_declared_covariates_change_the_forecast,
    "IgnoresStatics": Behaviour.test_declared_covariates_change_the_forecast,
    "HidesIndependence": Behaviour.test_variates_meet_unless_declared_channel_independent,
    "ClaimsIndependence": Behaviour.test_variates_meet_unless_declared_channel_independent,
    "BatchStatistics": Behaviour.test_a_window_is_forecast_alone_as_in_a_batch,
    "NeedsCalendar": Behaviour.test_runs_without_calendar_features_or_refuses_them,
    "HorizonSteps": Behaviour.test_a_distribution_head_gets_horizon_times_k_steps,
    "UnsavedWeights": Contract.test_state_dict_round_trip,
    "NotDenormalised": Behaviour.test_the_forecast_follows_the_level_of_the_look_back,
    "PerVariateClaimsAny": Contract.test_other_variate_counts_as_declared,
    "PerVariateTakesAny": Contract.test_other_variate_counts_as_declared,
    "PerVariateWrongError": Contract.test_other_variate_counts_as_declared,
}
HONEST = ("SharedLinear", "PerVariateLinear", "NeedsCalendarRefuses")
CHECKS = [
    *(getattr(Contract, c) for c in dir(Contract) if c.startswith("test_")),
    *(getattr(Behaviour, c) for c in dir(Behaviour) if c.startswith("test_")),
]


@pytest.fixture
def register(monkeypatch):
    """Registers a test model under a name (for this test only)."""

    def register_class(cls: str) -> str:
        name = f"fixture_{cls.lower()}"
        module = "fixture_models" if cls in HONEST else "broken_models"
        monkeypatch.setitem(REGISTRY, name, f"tests.helpers.{module}:{cls}")
        return name

    return register_class


def _run(check, name: str, tmp_path) -> None:
    """``check`` on model ``name``; a check that does not apply (skipped) passes."""
    owner = Contract if check.__qualname__.startswith("TestContract") else Behaviour
    args = (tmp_path,) if "tmp_path" in check.__code__.co_varnames else ()
    with contextlib.suppress(pytest.skip.Exception):
        check(owner(), name, *args)


@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_each_check_fails_for_the_model_it_is_about(variant, register, tmp_path):
    name = register(variant)
    with pytest.raises(AssertionError, match=name):
        _run(BROKEN[variant], name, tmp_path)


@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_a_broken_variant_passes_the_other_checks(variant, register, tmp_path):
    """Each variant gets one thing wrong, so each failure above is that check's doing."""
    name = register(variant)
    for check in CHECKS:
        if check is not BROKEN[variant] and check.__name__ != "test_one_batch_overfits":
            _run(check, name, tmp_path)


@pytest.mark.parametrize("honest", HONEST)
def test_honest_models_pass_every_check(honest, register, tmp_path):
    name = register(honest)
    for check in CHECKS:
        _run(check, name, tmp_path)
