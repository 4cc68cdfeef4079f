"""Tiny Forecasters for the estimator, cross-validation and tuning tests."""

from __future__ import annotations

import pandas as pd

from tests.helpers.models import TINY
from tsfm import Forecaster

LOOKBACK, HORIZON = 24, 8


def tiny(name: str = "itransformer", **extra) -> Forecaster:
    settings = {**TINY[name], "max_epochs": 1, "batch_size": 32, **extra}
    return Forecaster(model=name, horizon=HORIZON, lookback=LOOKBACK, **settings)


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.melt(id_vars="date", var_name="unique_id", value_name="y")
    return long.rename(columns={"date": "ds"})[["unique_id", "ds", "y"]]
