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
