"""Shared fixtures (helpers live in tests/helpers/)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tsfm.config import register_configs

register_configs()


@pytest.fixture
def frame() -> pd.DataFrame:
    return synthetic_frame()


@pytest.fixture
def no_training(monkeypatch):
    """Fail a test whose fit reaches training (a refusal must come before it)."""
    import tsfm.pipeline

    def trains(*args, **kwargs):
        raise AssertionError("a model was trained")

    monkeypatch.setattr(tsfm.pipeline, "fit_and_test", trains)
