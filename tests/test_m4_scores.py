"""``tsfm.m4_scores``: long frames of forecasts scored as the M4 competition does (sMAPE, MASE
at the group's seasonal period, OWA against Naive2), checked against the formulas computed by
hand, the published Naive2 scores and a Forecaster's own backtest."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.helpers.data import REPO, SHARED_DATA, needs_shared
from tsfm import Forecaster, m4_scores
from tsfm.data.m4.files import read_m4_file
from tsfm.data.m4.metrics import naive2


def long(ids: list, values: list[np.ndarray], starts: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, [len(v) for v in values]),
            "ds": np.concatenate(
                [np.arange(s, s + len(v)) for v, s in zip(values, starts, strict=True)]
            ),
            "y": np.concatenate(values),
        }
    )


def by_hand(forecasts: list, actuals: list, histories: list, m: int) -> tuple[float, float]:
    """Mean sMAPE and MASE over the series, each written out from M4's definitions."""
    smapes, mases = [], []
    for f, y, x in zip(forecasts, actuals, histories, strict=True):
        f, y, x = (np.asarray(v, float) for v in (f, y, x))
        smapes.append(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))
        mases.append(np.mean(np.abs(y - f)) / np.mean(np.abs(x[m:] - x[:-m])))
    return float(np.mean(smapes)), float(np.mean(mases))


def m4_group(group: str) -> tuple[list, list, list]:
    ids, train = read_m4_file(SHARED_DATA / "m4" / f"{group}-train.csv")
    _, test = read_m4_file(SHARED_DATA / "m4" / f"{group}-test.csv")
    return ids, train, test


def test_scores_of_hand_made_series_in_any_row_order_and_library():
    ids = ["a", "b", "c"]
    histories = [np.array([3.0, 5, 4, 6, 7]), np.array([10.0, 12, 9, 11, 10]), np.arange(1.0, 6)]
    actuals = [np.array([8.0, 6]), np.array([11.0, 13]), np.array([6.0, 8])]
    forecasts = [np.array([7.0, 7]), np.array([10.0, 10]), np.array([6.0, 7])]
    train = long(ids, histories, [1, 1, 1])
    test = long(ids, actuals, [6, 6, 6])
    given = long(ids, forecasts, [6, 6, 6]).rename(columns={"y": "pred"})
    shuffled = given.sample(frac=1, random_state=1)
    for m in (1, 2):  # 5 points < 3m: never seasonal, so Naive2 repeats the last value
        smape, mase = by_hand(forecasts, actuals, histories, m)
        benchmark = [np.full(2, x[-1]) for x in histories]
        naive_smape, naive_mase = by_hand(benchmark, actuals, histories, m)
        for frames in ((shuffled, test, train), tuple(map(pl.from_pandas, (given, test, train)))):
            scores = m4_scores(*frames, season_length=m, forecast_col="pred")
            assert scores["n_series"] == 3
            assert scores["smape"] == pytest.approx(smape, rel=1e-12)
            assert scores["mase"] == pytest.approx(mase, rel=1e-12)
            assert scores["naive2_smape"] == pytest.approx(naive_smape, rel=1e-12)
            assert scores["naive2_mase"] == pytest.approx(naive_mase, rel=1e-12)
            owa = (mase / naive_mase + smape / naive_smape) / 2
            assert scores["owa"] == pytest.approx(owa, rel=1e-12)


@needs_shared("m4/Hourly-train.csv", "m4/Hourly-test.csv")
def test_a_few_hourly_series_against_the_formulas_by_hand():
    ids, train, test = m4_group("Hourly")
    pick = [0, 7, 100, 250, 413]
    ids, train, test = [ids[i] for i in pick], [train[i] for i in pick], [test[i] for i in pick]
    forecasts = [np.tile(x[-24:], 2) for x in train]  # the seasonal naive at lag 24
    after = [len(x) + 1 for x in train]
    scores = m4_scores(
        long(ids, forecasts, after), long(ids, test, after), long(ids, train, [1] * 5), 24
    )
    smape, mase = by_hand(forecasts, test, train, 24)
    naive_smape, naive_mase = by_hand([naive2(x, 48, 24) for x in train], test, train, 24)
    assert (scores["smape"], scores["mase"]) == pytest.approx((smape, mase), rel=1e-12)
    owa = (mase / naive_mase + smape / naive_smape) / 2
    assert scores["owa"] == pytest.approx(owa, rel=1e-12)


@needs_shared("m4/Hourly-train.csv", "m4/Weekly-train.csv", "m4/Hourly-test.csv")
@pytest.mark.parametrize(
    ("group", "m", "published"), [("Hourly", 24, (18.383, 2.395)), ("Weekly", 1, (9.161, 2.777))]
)
def test_naive2_forecasts_score_the_published_naive2_and_an_owa_of_one(group, m, published):
    ids, train, test = m4_group(group)
    after = [len(x) + 1 for x in train]
    forecasts = long(ids, [naive2(x, len(y), m) for x, y in zip(train, test, strict=True)], after)
    scores = m4_scores(forecasts, long(ids, test, after), long(ids, train, [1] * len(ids)), m)
    assert scores["n_series"] == len(ids)
    assert (round(scores["smape"], 3), round(scores["mase"], 3)) == published
    assert scores["owa"] == pytest.approx(1.0, abs=1e-12)


def test_frames_that_do_not_match_are_refused_with_the_row():
    train = long(["a", "b"], [np.arange(1.0, 9), np.arange(2.0, 10)], [1, 1])
    test = long(["a", "b"], [np.ones(2), np.ones(2)], [9, 9])
    cases = [
        (
            test.iloc[:3],
            test,
            train,
            r"1 actuals without a forecast \(first: series 'b' at ds=10\)",
        ),
        (
            test,
            test.iloc[:3],
            train,
            r"1 forecasts without an actual \(first: series 'b' at ds=10\)",
        ),
        (
            test,
            test,
            pd.concat([train, test]),
            r"history of series 'a' reaches ds=10.*not it with the test rows appended",
        ),
        (
            test,
            test,
            train[train.unique_id == "a"],
            r"series \['b'\] \(1 in all\) have actuals but no history",
        ),
        (
            test.rename(columns={"y": "yhat"}),
            test,
            train,
            r"forecasts has no column \['y'\].*forecast_col=",
        ),
        (
            test.assign(y=np.nan),
            test,
            train,
            r"forecasts has 4 missing value\(s\) in 'y' \(first: series 'a' at ds=9\)",
        ),
        (test.assign(ds=test.ds.astype(str)), test, train, r"cannot be matched"),
        (pd.concat([test, test]), test, train, r"forecasts has 8 rows sharing a series and time"),
    ]
    for forecasts, actuals, history, message in cases:
        with pytest.raises(ValueError, match=message):
            m4_scores(forecasts, actuals, history, 1)
    with pytest.raises(
        ValueError, match=r"'a' has 8 history rows; MASE's scale needs more than season_length = 8"
    ):
        m4_scores(test, test, train, 8)
    with pytest.raises(ValueError, match="season_length must be a whole number >= 1, got 0"):
        m4_scores(test, test, train, 0)


@needs_shared("m4/Weekly-train.csv", "m4/Weekly-test.csv")
def test_a_forecasters_m4_scores_match_its_history_scaled_backtest():
    ids, train, test = m4_group("Weekly")
    ids, train, test = ids[:6], train[:6], test[:6]
    history = long(ids, train, [1] * 6)
    after = long(ids, test, [len(x) + 1 for x in train])
    f = Forecaster(
        horizon=13, lookback=26, mode="independent", season_length=1, d_model=8, d_ff=8,
        n_layers=1, n_heads=2, max_epochs=1, verbose=0,
    ).fit(history)  # fmt: skip
    scores = m4_scores(f.predict(), after, history, season_length=1)
    forecasts = f.predict().set_index("unique_id").y
    smape, mase = by_hand([forecasts[i].to_numpy() for i in ids], test, train, 1)
    assert (scores["smape"], scores["mase"]) == pytest.approx((smape, mase), rel=1e-9)
    full = pd.concat([history, after]).sort_values(["unique_id", "ds"])
    folds = f.backtest(full, n_windows=1, mase_scale="history").metrics
    assert (scores["smape"], scores["mase"]) == pytest.approx(
        (folds.smape.iloc[0], folds.mase.iloc[0]), rel=1e-5
    )


def test_empty_actuals_and_histories_of_another_time_type_are_refused():
    train = long(["a"], [np.arange(1.0, 9)], [1])
    test = long(["a"], [np.ones(2)], [9])
    with pytest.raises(ValueError, match="actuals has no rows: nothing to score"):
        m4_scores(test, test.iloc[:0], train, 1)
    with pytest.raises(ValueError, match=r"series 'a': the history's ds .* different types"):
        m4_scores(test, test, train.assign(ds=train.ds.astype(str)), 1)


def test_importing_m4_scores_loads_no_torch():
    probe = "import sys; from tsfm import m4_scores; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert out.stdout.strip() == "False", out.stdout + out.stderr
