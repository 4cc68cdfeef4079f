"""``static_df`` and ``targets`` on long frames: fit reads them as predict does, in both modes
(a static_df the model would drop, a static covariate given twice, ids matching no series)."""

from __future__ import annotations

import warnings

import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

MODES = ("independent", "joint")


def _frame(mode: str) -> pd.DataFrame:
    """A long frame with its static column ``store``; joint: shared timestamps."""
    if mode == "independent":
        return panel_frame(lengths=(80, 70), categories=("a", "b")).drop(columns=["promo"])
    frame = panel_frame(lengths=(80, 80), categories=("a", "b")).drop(columns=["promo"])
    frame["ds"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        frame.groupby("unique_id").cumcount(), "h"
    )
    return frame


def _statics(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby("unique_id", as_index=False).store.first()


def _est(mode: str, **kw) -> Forecaster:
    return Forecaster(horizon=4, lookback=16, mode=mode, **{**TINY_IT, "max_epochs": 1, **kw})


def _unmatched(caught: list) -> list:
    return [w for w in caught if "static_df has rows for series" in str(w.message)]


@pytest.mark.parametrize("mode", MODES)
def test_a_static_df_without_static_covariates_is_refused_in_both_modes(mode):
    frame = _frame(mode)
    with pytest.raises(ValueError, match="static_df was given but static_covariates names no"):
        _est(mode).fit(frame.drop(columns=["store"]), static_df=_statics(frame))


@pytest.mark.parametrize("mode", MODES)
def test_a_static_covariate_in_df_and_in_static_df_is_refused_at_fit(mode):
    frame = _frame(mode)
    flipped = _statics(frame).assign(store=["b", "a"])  # would be silently overridden
    with pytest.raises(ValueError, match=r"both df and static_df hold \['store'\]"):
        _est(mode, static_covariates=["store"]).fit(frame, static_df=flipped)


def test_targets_on_a_joint_long_frame_is_refused_naming_mode_independent():
    # several targets per series are a mode="independent" panel's (tests/test_panel_targets.py)
    frame = _frame("joint").drop(columns=["store"])
    with pytest.raises(ValueError, match=r"needs mode='independent'.*target_col \('y'\)"):
        _est("joint", targets=["y"]).fit(frame)


@pytest.mark.parametrize("mode", MODES)
def test_static_df_rows_of_no_series_are_named_at_fit_and_predict(mode):
    frame = _frame(mode)
    bare, statics = frame.drop(columns=["store"]), _statics(frame)
    typo = pd.concat([statics, pd.DataFrame({"unique_id": ["S1"], "store": ["a"]})])
    est = _est(mode, static_covariates=["store"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(bare, static_df=typo)
    (named,) = _unmatched(caught)
    assert "['S1']" in str(named.message) and "not series of df" in str(named.message)
    assert named.filename == __file__  # the caller's line
    s0 = bare[bare.unique_id == "s0"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.predict(s0, static_df=statics)  # s1: fitted, not in df: a table of every series
        est.predict(pl.from_pandas(s0), static_df=statics)
    assert _unmatched(caught) == []
    misspelt = pd.DataFrame({"unique_id": ["S0"], "store": ["b"]})  # meant s0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.predict(s0, static_df=misspelt)
    (named,) = _unmatched(caught)
    assert "['S0']" in str(named.message) and "neither series of df" in str(named.message)


@pytest.mark.parametrize("mode", MODES)
def test_a_static_covariate_missing_for_a_series_is_named_where_it_was_to_come_from(mode):
    frame = _frame(mode)
    series = frame.unique_id.iloc[-1]
    blank = frame.assign(store=frame.store.where(frame.unique_id != series))
    with pytest.raises(
        ValueError, match="no value .* static covariate 'store' for 1 series"
    ) as refused:
        _est(mode, static_covariates=["store"]).fit(blank)
    assert f"the first {series!r}" in str(refused.value) and "static_df" not in str(refused.value)
    bare, statics = frame.drop(columns=["store"]), _statics(frame)
    with pytest.raises(ValueError, match=f"static_df has no row for series {series!r} of df"):
        _est(mode, static_covariates=["store"]).fit(bare, static_df=statics.iloc[:-1])
