"""``evaluate`` and the folds of a panel forecast and score their windows a chunk at a time
(:mod:`tsfm.estimator.window_chunks`): the results are those of every window in one go, and
memory does not grow with the number of windows."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from tests.helpers.data import synthetic_frame
from tests.helpers.models import TINY
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.estimator import panel_evaluate, panel_folds, window_chunks

LOOKBACK, HORIZON, BATCH = 24, 6, 4
ONE_GO, TINY_CHUNKS = 1 << 40, 1  # every window in one chunk; one batch per chunk


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    frame = panel_frame(lengths=(120, 90, 20))  # the last one shorter than a window
    frame.loc[[5, 50, 130], "y"] = np.nan  # gaps: masked in training and in the scores
    frame.loc[60:90, "y"] = np.nan  # look-backs without an observed target: left out
    return frame


@pytest.fixture(scope="module")
def panel_model(panel) -> Forecaster:
    return Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", future_covariates=["promo"],
        static_covariates=["store"], missing="mask", loss="quantile", quantiles=[0.025, 0.1, 0.5, 0.9, 0.975],
        levels=[80, 95], season_length=2, eval_batch_size=BATCH, **TINY_IT,
    ).fit(panel)  # fmt: skip


def chunked_and_whole(monkeypatch, call, counted) -> list[tuple]:
    """``call()`` with every window in one chunk and with one batch per chunk: its result,
    the warnings it gave and how often ``counted`` ((module, name) of the function that
    forecasts a chunk) ran, each time."""
    runs = []
    module, name = counted
    original = getattr(module, name)
    for values in (ONE_GO, TINY_CHUNKS):
        monkeypatch.setattr(window_chunks, "CHUNK_VALUES", values)
        calls = []
        monkeypatch.setattr(module, name, _counting(original, calls))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = call()
        runs.append((out, [str(w.message) for w in seen], len(calls)))
    return runs


def _counting(function, calls: list):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def assert_pooled_equal(whole: dict, chunked: dict) -> None:
    """Pooled sums add chunk totals: equal to float64 rounding."""
    assert list(whole) == list(chunked)
    for key, value in whole.items():
        assert math.isclose(chunked[key], value, rel_tol=1e-12, abs_tol=1e-300), key


@pytest.mark.parametrize("mase_scale", ["lookback", "history"])
def test_a_panel_scored_in_chunks_scores_as_in_one_go(panel_model, panel, monkeypatch, mase_scale):
    new = panel[panel.unique_id == "s1"].assign(unique_id="new")  # scaled by its own rows
    frame = pd.concat([panel, new], ignore_index=True)
    counted = (panel_evaluate, "panel_forecasts")

    def pooled():
        return panel_model.evaluate(frame, return_forecasts=True, mase_scale=mase_scale)

    (whole, said, once), (chunked, told, often) = chunked_and_whole(monkeypatch, pooled, counted)
    assert told == said and any("left out of that series' scores" in m for m in said)
    assert once == 1 and often == math.ceil(len(whole[1]) / HORIZON / BATCH) > 4
    assert_pooled_equal(whole[0], chunked[0])
    assert {"crps", "coverage_80", "msis", "mase", "skill_mae"} <= set(whole[0])
    assert_frame_equal(chunked[1], whole[1], check_exact=True)  # every forecast, in order

    def per_series():
        return panel_model.evaluate(frame, per_series=True, mase_scale=mase_scale)

    (whole, said, _), (chunked, told, _) = chunked_and_whole(monkeypatch, per_series, counted)
    assert told == said
    assert_frame_equal(chunked, whole, check_exact=True)  # each series' metrics: identical
    assert whole.windows.sum() > 4 * BATCH


def test_a_panel_backtest_in_chunks_of_series_scores_as_in_one_go(panel_model, panel, monkeypatch):
    two = panel[panel.unique_id != "s2"]
    wider = pd.concat(  # more series than a batch: each fold takes several chunks
        [two.assign(unique_id=two.unique_id + f"_{k}") for k in range(4)], ignore_index=True
    )
    rank = wider.groupby("unique_id").cumcount(ascending=False)
    model = Forecaster(**{**panel_model.get_params(), "max_epochs": 1}).fit(wider[rank >= 12])
    counted = (panel_folds, "panel_forecasts")
    runs = chunked_and_whole(
        monkeypatch, lambda: model.backtest(wider, n_windows=2, step=3), counted
    )
    (whole, said, once), (chunked, told, often) = runs
    assert told == said and (once, often) == (2, 4)  # per fold: 8 series, 4 a batch
    assert_frame_equal(chunked.forecasts, whole.forecasts, check_exact=True)
    assert_frame_equal(chunked.per_series, whole.per_series, check_exact=True)
    numbers = whole.metrics.select_dtypes("number").columns
    assert_frame_equal(chunked.metrics.drop(columns=numbers), whole.metrics.drop(columns=numbers))
    np.testing.assert_allclose(chunked.metrics[numbers], whole.metrics[numbers], rtol=1e-12)


def test_a_wide_frame_scored_in_chunks_scores_as_in_one_go(monkeypatch):
    frame = synthetic_frame(160)
    frame.loc[40:70, "v0"] = np.nan  # left-out look-backs of one variate
    frame.loc[[10, 100], "OT"] = np.nan
    model = Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, missing="mask", loss="quantile",
        quantiles=[0.025, 0.1, 0.5, 0.9, 0.975], levels=[80, 95], eval_batch_size=BATCH,
        **TINY["itransformer"], max_epochs=1, batch_size=32,
    ).fit(frame)  # fmt: skip
    from tsfm.estimator import rolling

    counted = (rolling, "_forecasts")
    for per_series in (False, True):
        (whole, said, once), (chunked, told, often) = chunked_and_whole(
            monkeypatch,
            lambda per_series=per_series: model.evaluate(
                frame, per_series=per_series, return_forecasts=True, mase_scale="history"
            ),
            counted,
        )
        assert told == said and any("left out of that series' scores" in m for m in said)
        assert once == 1 and often == math.ceil((len(frame) - LOOKBACK - HORIZON + 1) / BATCH)
        if per_series:
            assert_frame_equal(chunked[0], whole[0], check_exact=True)
        else:
            assert_pooled_equal(whole[0], chunked[0])
        assert_frame_equal(chunked[1], whole[1], check_exact=True)


def _peak_bytes(call) -> int:
    """The peak of the memory numpy (and Python) allocates during ``call()``."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("mode", ["independent", "joint"])
def test_evaluate_memory_does_not_grow_with_the_number_of_windows(mode):
    # one long series, many windows: 96 + 24 values each, default chunks of 2048 windows
    lookback, horizon, rows = 96, 24, (6_000, 24_000)
    values = np.sin(np.arange(rows[1]) / 5.0) + 0.01 * np.arange(rows[1]) % 3
    if mode == "independent":
        frame = pd.DataFrame({"unique_id": "a", "ds": np.arange(rows[1]), "y": values})
    else:
        dates = pd.date_range("2020-01-01", periods=rows[1], freq="h")
        frame = pd.DataFrame({"date": dates, "OT": values})
    model = Forecaster(
        horizon=horizon, lookback=lookback, mode=mode, max_epochs=1,
        trainer__limit_train_batches=2, **TINY["itransformer"],
    ).fit(frame.iloc[: rows[0]])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small, large = (_peak_bytes(lambda n=n: model.evaluate(frame.iloc[:n])) for n in rows)
    # all windows at once held hundreds of bytes per forecast value: 4x the windows, ~4x
    # the memory; in chunks the peak is one chunk's, whatever the number of windows
    assert large < 1.5 * small, (small, large)
