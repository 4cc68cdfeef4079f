"""future_df rows for series the model does not know: left unread with a warning naming
them, and named in the refusal where a misspelt id leaves the series it meant without rows."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.errors import InputError


def _panel() -> pd.DataFrame:
    panel = panel_frame(lengths=(60, 60), categories=("a", "b")).drop(columns=["store"])
    panel["ds"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        panel.groupby("unique_id").cumcount(), unit="h"
    )  # shared timestamps, for a joint model too
    return panel


@pytest.fixture(scope="module", params=["joint", "independent"])
def model(request) -> Forecaster:
    return Forecaster(
        horizon=4, lookback=16, mode=request.param, future_covariates=["promo"], **TINY_IT
    ).fit(_panel())


def _unmatched(caught: list) -> list[str]:
    return [str(w.message) for w in caught if "future_df has rows for series" in str(w.message)]


def test_future_df_rows_of_an_unknown_series_are_warned_about(model):
    future = model.make_future_dataframe().assign(promo=0.0)
    extra = future[future.unique_id == "s0"].assign(unique_id="S0", promo=1e9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = model.predict(future_df=future)
        assert _unmatched(caught) == []
        got = model.predict(future_df=pd.concat([future, extra]))
    pd.testing.assert_frame_equal(got, expected)  # left unread
    (named,) = _unmatched(caught)
    assert "['S0']" in named and "misspelt" in named


def test_a_misspelt_id_is_named_where_the_series_it_meant_has_no_rows(model):
    future = model.make_future_dataframe().assign(promo=0.0)
    future.loc[future.unique_id == "s1", "unique_id"] = "S1"
    with pytest.raises(InputError, match=r"no row for series 's1'.*rows for series \['S1'\]"):
        model.predict(future_df=future)
