"""MASE's and MSIS's scale on short series: ``mase_scale="history"`` (the series' rows before
each window's origin, as M4, neuralforecast and darts) beside the default look-back scale, a
warning when a look-back scale rests on too few pairs, and a look-back of exactly one season,
which keeps its season (the seasonal naive forecast repeats the look-back)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers.estimator import to_long
from tests.test_covariates import TINY_IT
from tsfm import Forecaster
from tsfm.training.series_metrics import SeriesMetrics
from tsfm.training.undefined_metrics import defined

SEASON = 4


def quarterly(n: int = 64, seed: int = 0) -> pd.DataFrame:
    """Two noisy quarterly series with a Q4 peak (no flat stretch: every scale is positive)."""
    g = np.random.default_rng(seed)
    pattern = np.tile([1.0, 5.0, 2.0, 8.0], n // 4 + 1)[:n]
    return pd.DataFrame(
        {
            "date": pd.date_range("1990-01-01", periods=n, freq="QS"),
            "beer": 100 + 10 * pattern + g.normal(0, 3, n),
            "wine": 20 + pattern + g.normal(0, 1, n) + np.arange(n) * 0.2,
        }
    )


def hand_scale(values: np.ndarray, end: int, lag: int = SEASON) -> float:
    """The mean absolute difference of the observed values ``lag`` apart in ``values[:end]``."""
    rows = values[:end]
    steps = np.abs(rows[lag:] - rows[:-lag])
    return float(np.nanmean(steps)) if np.isfinite(steps).any() else 0.0


def hand_history_mase(frame: pd.DataFrame, windows: pd.DataFrame, time: str = "date") -> tuple:
    """Pooled and per-series MASE of ``windows`` (evaluate's forecasts) with the scale of each
    window's series over the rows of ``frame`` before its origin; and the pooled MSIS."""
    totals, msis, count = {}, [], 0
    for (series, cutoff), rows in windows.groupby(["unique_id", "cutoff"]):
        origin = int(np.flatnonzero(frame[time].to_numpy() == np.datetime64(cutoff))[0]) + 1
        scale = hand_scale(frame[series].to_numpy(), origin)
        error = np.abs(rows.y - rows.forecast).to_numpy()
        done = totals.setdefault(series, [0.0, 0])
        done[0], done[1] = done[0] + (error / scale).sum(), done[1] + len(error)
        count += len(error)
        if "forecast-lo-95" in rows:
            lo, hi, y = rows["forecast-lo-95"], rows["forecast-hi-95"], rows.y
            winkler = hi - lo + 40.0 * ((lo - y).clip(lower=0) + (y - hi).clip(lower=0))
            msis.extend((winkler / scale).tolist())
    pooled = sum(t for t, _ in totals.values()) / count
    return pooled, {s: t / n for s, (t, n) in totals.items()}, np.mean(msis) if msis else None


def test_the_history_scale_equals_the_hand_computation_and_shares_the_lookback_terms():
    from tsfm.data.seasonal_scales import history_scale, seasonal_prefix, seasonal_scale
    from tsfm.estimator.accuracy import history_scales

    g = np.random.default_rng(1)
    values = g.normal(0, 1, (40, 2)).cumsum(0)
    values[[3, 17, 18], 0] = np.nan  # missing: no pair through them
    origins = np.array([2, 4, 5, 9, 23, 40])
    scales = history_scales(values, origins, SEASON)
    for w, origin in enumerate(origins):
        for j in range(2):
            assert scales[w, j] == pytest.approx(hand_scale(values[:, j], origin))
    # the look-back scale is the same terms over the look-back's rows only
    tensor = torch.from_numpy(values)
    seen = ~tensor.isnan()
    prefix = seasonal_prefix(tensor, SEASON, seen)
    start = torch.tensor([20 - 12 + SEASON])  # pairs whose later row is in the look-back
    inside, _ = history_scale(prefix, torch.tensor([20]), start)
    lookback = seasonal_scale(tensor[None, 8:20].nan_to_num(), SEASON, seen[None, 8:20])
    torch.testing.assert_close(inside, lookback)


def test_evaluate_with_the_history_scale_equals_the_hand_computation_msis_too():
    frame = quarterly()
    est = Forecaster(
        horizon=4, lookback=8, loss="quantile", quantiles=[0.025, 0.5, 0.975], **TINY_IT
    ).fit(frame[:40])
    metrics, windows = est.evaluate(frame, return_forecasts=True, mase_scale="history")
    pooled, per_series, msis = hand_history_mase(frame, windows)
    assert metrics["mase"] == pytest.approx(pooled, rel=1e-9)
    assert metrics["msis"] == pytest.approx(msis, rel=1e-9)
    table = est.evaluate(frame, per_series=True, mase_scale="history")
    for series, value in per_series.items():
        assert table.set_index("unique_id").loc[series, "mase"] == pytest.approx(value, rel=1e-9)
    lookback = est.evaluate(frame)  # the default is unchanged: each window's look-back
    assert lookback["mase"] != pytest.approx(pooled, rel=1e-3)


def test_backtest_and_cross_validate_take_the_history_before_each_cutoff():
    frame = quarterly(72)
    est = Forecaster(horizon=4, lookback=8, **TINY_IT).fit(frame[:40])
    for cv in (
        est.backtest(frame, n_windows=3, mase_scale="history"),
        est.cross_validate(frame, n_windows=2, refit=False, mase_scale="history"),
    ):
        for fold, rows in cv.forecasts.groupby("cutoff"):
            expected, per_series, _ = hand_history_mase(frame, rows)
            got = cv.metrics.set_index("cutoff").loc[fold, "mase"]
            assert got == pytest.approx(expected, rel=1e-9)
            mine = cv.per_series[cv.per_series.cutoff == fold].set_index("unique_id")["mase"]
            for series, value in per_series.items():
                assert mine[series] == pytest.approx(value, rel=1e-9)


def test_a_panels_history_scale_is_each_series_own():
    long = to_long(quarterly(64))
    long = long[~((long.unique_id == "wine") & (long.ds < "1994-01-01"))]  # shorter
    est = Forecaster(horizon=4, lookback=8, mode="independent", **TINY_IT).fit(long)
    table, windows = est.evaluate(
        long, per_series=True, return_forecasts=True, mase_scale="history"
    )
    wide = long.pivot(index="ds", columns="unique_id", values="y").reset_index()
    for series, rows in windows.groupby("unique_id"):
        own = wide[["ds", series]].dropna().reset_index(drop=True)
        _, expected, _ = hand_history_mase(own, rows.assign(unique_id=series), time="ds")
        got = table.set_index("unique_id").loc[series, "mase"]
        assert got == pytest.approx(expected[series], rel=1e-9)


def test_a_lookback_scale_on_fewer_pairs_than_the_season_is_warned_about():
    frame = quarterly()
    est = Forecaster(horizon=4, lookback=5, **TINY_IT).fit(frame[:40])  # 1 pair per window
    with pytest.warns(UserWarning, match="fewer than season_length=4 observed pairs") as records:
        est.evaluate(frame[30:])
    message = next(str(r.message) for r in records if "observed pairs" in str(r.message))
    assert "'beer' (26 windows)" in message and "'wine' (26 windows)" in message
    assert "mase_scale='history'" in message and "lookback of at least 8 (it is 5)" in message
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        est.evaluate(frame[30:], mase_scale="history")
        Forecaster(horizon=4, lookback=8, **TINY_IT).fit(frame[:40]).evaluate(frame[30:])
    assert not [r for r in records if "observed pairs" in str(r.message)]


def test_with_a_lookback_of_two_seasons_the_few_pairs_advice_names_the_missing_values():
    frame = quarterly()
    est = Forecaster(horizon=4, lookback=8, missing="mask", **TINY_IT).fit(frame[:40])
    holes = frame[30:].copy()
    holes.iloc[::4, 1:] = np.nan  # one masked value in every look-back: 3 pairs of 4 left
    with pytest.warns(UserWarning, match="observed pairs") as records:
        est.evaluate(holes)
    message = next(str(r.message) for r in records if "observed pairs" in str(r.message))
    assert "lookback of 8 rows holds 4 pairs when complete, so missing values" in message
    assert "mase_scale='history'" in message and "lookback of at least" not in message


def test_a_lookback_of_one_season_keeps_the_seasonal_naive_and_leaves_mase_to_the_history():
    frame = quarterly()
    est = Forecaster(horizon=4, lookback=4, **TINY_IT).fit(frame[:40])
    with pytest.warns(UserWarning, match="mase left out: .*pass mase_scale='history'"):
        metrics, windows = est.evaluate(frame[30:], return_forecasts=True)
    assert metrics["season_length"] == 4 and "mase" not in metrics
    beer = frame.set_index("date")["beer"]
    year_before = beer.reindex(windows.date - pd.DateOffset(years=1)).to_numpy()
    rows = windows.unique_id == "beer"
    np.testing.assert_allclose(windows.snaive[rows], year_before[rows], rtol=1e-12)
    history = est.evaluate(frame[30:], mase_scale="history")
    assert np.isfinite(history["mase"]) and history["season_length"] == 4


def test_one_season_of_lookback_in_the_metric_itself():
    g = np.random.default_rng(2)
    lookback, actual = g.normal(5, 1, (3, 4, 1)), g.normal(5, 1, (3, 6, 1))
    forecast = actual + 1.0
    metric = SeriesMetrics(1, season_length=4)  # the look-back is one season: no pair
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    snaive = lookback[:, [0, 1, 2, 3, 0, 1]]
    assert values["snaive_mae"] == pytest.approx(np.abs(snaive - actual).mean())
    _, left_out = defined(values)
    assert "mase" in left_out and "mase_scale='history'" in left_out["mase"]
    metric.reset()
    scale = torch.tensor([[2.0], [4.0], [0.5]], dtype=torch.float64)
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)), scale=scale)
    assert float(metric.per_series()["mase"][0]) == pytest.approx(np.mean(1.0 / scale.numpy()))


@pytest.mark.parametrize("call", ["evaluate", "backtest", "cross_validate"])
def test_an_unknown_mase_scale_is_refused_with_the_choices(call):
    frame = quarterly()
    est = Forecaster(horizon=4, lookback=8, **TINY_IT).fit(frame[:40])
    with pytest.raises(ValueError, match="mase_scale='in-sample': use 'lookback'.*'history'"):
        getattr(est, call)(frame, mase_scale="in-sample")
