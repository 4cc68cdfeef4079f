"""The data fingerprint (data_sha256) is computed once per fit, though the preflight and the
run's record both ask for the protocol; replaced data is fingerprinted anew."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import tsfm.data.panel as panel
from tests.test_covariates import TINY_IT
from tests.test_panel_time_features import panel_module, stamps
from tsfm import Forecaster
from tsfm.data.frames.table import SeriesTable


def frame(ids: tuple[str, ...] = ("a", "b")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        pd.DataFrame(
            {"unique_id": k, "ds": stamps("2020-01-01", 60, "D"), "y": rng.normal(size=60)}
        )
        for k in ids
    ]
    return pd.concat(rows, ignore_index=True)


def counted(monkeypatch, owner, name: str) -> list:
    calls, original = [], getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *a: calls.append(1) or original(*a))
    return calls


def fit(**settings) -> None:
    est = Forecaster(horizon=5, lookback=10, **{**TINY_IT, "max_epochs": 1, **settings})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(
            frame() if settings.get("mode") == "independent" else frame().query("unique_id == 'a'")
        )


def test_an_independent_fit_fingerprints_its_panel_once(monkeypatch):
    calls = counted(monkeypatch, panel, "data_digest")
    fit(mode="independent")
    assert len(calls) == 1


def test_a_joint_fit_fingerprints_its_table_once(monkeypatch):
    calls = counted(monkeypatch, SeriesTable, "digest")
    fit()
    assert len(calls) == 1


def test_replaced_data_is_fingerprinted_anew():
    times = [stamps("2020-01-01", 30, "D"), stamps("2020-01-05", 20, "D")]
    module = panel_module(times, "D", None)
    first = module.protocol()["data_sha256"]
    assert module.protocol()["data_sha256"] == first
    changed = module.values[1].copy()
    changed[3, 0] += 1.0
    module.values[1] = changed
    again = module.protocol()["data_sha256"]
    fresh = panel_module(times, "D", None)
    fresh.values[1] = changed
    assert again != first
    assert again == fresh.protocol()["data_sha256"]
