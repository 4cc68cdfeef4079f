"""Independent panels whose series end on different dates: per-series folds (the default)
train a fold's model on one series' rows after another's cutoff, which a
CalendarOverlapWarning says once per call; cutoffs="shared" gives every fold one calendar
cutoff, so no series' forecast depends on any row after it; the metrics never report one
cutoff for series that had several."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsfm
from tests.test_covariates import TINY_IT
from tsfm import Forecaster

HORIZON, LOOKBACK = 7, 14
pytestmark = pytest.mark.filterwarnings("ignore:folds. :UserWarning")  # metric notes


def series(name: str, rows: int, start: str = "2020-01-01", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    values = 10 + np.sin(2 * np.pi * t / 7) + 0.3 * rng.standard_normal(rows) + 0.01 * t
    return pd.DataFrame(
        {"unique_id": name, "ds": pd.date_range(start, periods=rows, freq="D"), "y": values}
    )


def panel(y_rows: int = 115, x_rows: int = 120) -> pd.DataFrame:
    """'x' ends on 2020-04-29, 'y' (same start) ``x_rows - y_rows`` days earlier."""
    return pd.concat([series("x", x_rows), series("y", y_rows, seed=5)], ignore_index=True)


def model(**extra) -> Forecaster:
    settings = {"max_epochs": 1, "seed": 0, "verbose": 0, **extra}
    return Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", **{**TINY_IT, **settings}
    )


def calendar(records) -> list[str]:
    return [str(r.message) for r in records if issubclass(r.category, tsfm.CalendarOverlapWarning)]


def recorded(call):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = call()
    return result, records


def fold_forecast(cv, name: str, fold: int) -> np.ndarray:
    rows = cv.forecasts[cv.forecasts.unique_id == name]
    cutoff = sorted(rows.cutoff.unique())[fold]
    return rows[rows.cutoff == cutoff].forecast.to_numpy()


def test_shared_cutoffs_keep_every_forecast_blind_to_rows_after_its_cutoff():
    df = panel()
    per_series, _ = recorded(lambda: model().cross_validate(df, n_windows=2, step=7, refit=False))
    cy = per_series.forecasts.query("unique_id == 'y'").cutoff.min()  # y's own fold 0
    poisoned = df.copy()
    after = (poisoned.unique_id == "x") & (poisoned.ds > cy)  # x's rows after y's cutoff
    poisoned.loc[after, "y"] = poisoned.loc[after, "y"] * 3 + 50
    again, _ = recorded(lambda: model().cross_validate(poisoned, n_windows=2, step=7, refit=False))
    # per series, x's fold 0 trained on its rows up to x's own cutoff, after y's: it leaks
    assert not np.array_equal(fold_forecast(per_series, "y", 0), fold_forecast(again, "y", 0))

    kwargs = {"n_windows": 2, "step": 7, "refit": True, "cutoffs": "shared"}
    shared = model().cross_validate(df, **kwargs)
    cutoff = shared.metrics.cutoff[0]
    assert cutoff == df.ds[120 - HORIZON - 7 - 1]  # x's (it ends last) fold 0, as per series
    assert (shared.forecasts.query("unique_id == 'y'").cutoff == cutoff).all()  # y: fold 0 only
    poisoned = df.copy()
    after = poisoned.ds > cutoff  # every series' rows after the shared cutoff, y's targets too
    poisoned.loc[after, "y"] = poisoned.loc[after, "y"] * 3 + 50
    again = model().cross_validate(poisoned, **kwargs)
    for name in ("x", "y"):  # bit for bit: no row after the cutoff reached the forecast
        np.testing.assert_array_equal(fold_forecast(shared, name, 0), fold_forecast(again, name, 0))
    assert not np.array_equal(fold_forecast(shared, "x", 1), fold_forecast(again, "x", 1))


def test_per_series_folds_warn_once_of_series_ending_apart_and_label_each_cutoff():
    cv, records = recorded(lambda: model().cross_validate(panel(), n_windows=2, step=7))
    (message,) = calendar(records)  # two folds, two fits: one warning
    assert "'y' ends first, on 2020-04-24 00:00:00, 'x' last, on 2020-04-29" in message
    assert "fold 0 of series 'y' (ds after 2020-04-10 00:00:00) is forecast by a model " in message
    assert "trained on rows of series 'x' up to 2020-04-15 00:00:00" in message
    assert "cutoffs='shared' gives every fold one calendar cutoff" in message
    assert records[[str(r.message) for r in records].index(message)].filename == __file__
    metrics, own = cv.metrics, cv.per_series.groupby("fold").cutoff
    assert list(metrics.columns[:4]) == ["fold", "cutoff", "first_cutoff", "last_cutoff"]
    assert metrics.cutoff.isna().all()  # no one cutoff: x's and y's differ by five days
    assert (metrics.first_cutoff == own.min()).all() and (metrics.last_cutoff == own.max()).all()
    assert (metrics.last_cutoff - metrics.first_cutoff == pd.Timedelta(days=5)).all()

    together = panel(120)  # the same end (and then one cutoff per fold): no warning
    together = together[~((together.unique_id == "y") & (together.ds < "2020-01-20"))]
    cv, records = recorded(lambda: model().cross_validate(pl.from_pandas(together), n_windows=2))
    assert calendar(records) == []
    assert cv.metrics["cutoff"].to_list() == cv.metrics["last_cutoff"].to_list()
    assert cv.metrics["cutoff"].null_count() == 0

    steps = panel().assign(ds=lambda d: d.groupby("unique_id").cumcount())  # no calendar
    cv, records = recorded(lambda: model().cross_validate(steps, n_windows=1))
    assert calendar(records) == []
    assert cv.metrics.cutoff.isna().all() and str(cv.metrics.cutoff.dtype) == "Int64"
    assert cv.metrics[["first_cutoff", "last_cutoff"]].values.tolist() == [[107, 112]]


def test_shared_folds_score_the_series_holding_their_horizon_and_warn_of_none():
    shared, records = recorded(
        lambda: model().cross_validate(panel(), n_windows=2, step=7, cutoffs="shared")
    )
    assert calendar(records) == []  # one cutoff per fold: nothing to warn of
    assert shared.per_series[["fold", "unique_id"]].values.tolist() == [
        [0, "x"],
        [0, "y"],
        [1, "x"],
    ]
    assert (shared.metrics.cutoff == shared.metrics.first_cutoff).all()
    assert shared.metrics.cutoff.tolist() == list(pd.to_datetime(["2020-04-15", "2020-04-22"]))
    _, records = recorded(lambda: model().cross_validate(panel(100), n_windows=2, cutoffs="shared"))
    (never,) = [str(r.message) for r in records if "no fold scores them" in str(r.message)]
    assert never.startswith("cutoffs='shared': series ['y'] end before a whole horizon after")
    assert "pass df without the rows after their end (ds <= 2020-04-09 00:00:00)" in never


def test_a_series_short_at_the_shared_cutoff_is_refused_with_fixes_that_fit():
    late = series("z", 20, start="2020-04-10", seed=3)  # 6 rows up to fold 0's cutoff
    df = pd.concat([panel(), late], ignore_index=True)
    with pytest.raises(tsfm.InputError) as refused:
        model().cross_validate(df, n_windows=2, step=7, refit=False, cutoffs="shared")
    message = str(refused.value)
    assert message.startswith("cutoffs='shared': fold 0 (the first of 2, 7 steps apart) has its ")
    assert "cutoff at ds=2020-04-15 00:00:00, that of series 'x', which ends last" in message
    assert "series 'z' has 6 of its 20 rows there, and a series needs 8 to train on" in message
    assert "Use n_windows=1 (the most that fit 7 steps apart), step=5 (the largest " in message
    assert "or df without the series ['z']" in message
    cv = model().cross_validate(df, n_windows=2, step=5, refit=False, cutoffs="shared")
    assert set(cv.per_series.unique_id) == {"x", "y", "z"}
    for wrong in ("both", ["2020-04-01"]):
        with pytest.raises(tsfm.InputError, match="use 'per_series' .* or 'shared'"):
            model().cross_validate(df, cutoffs=wrong)
    with pytest.raises(tsfm.InputError, match="not given as dates, as Prophet's"):
        model().cross_validate(df, cutoffs=["2020-04-01"])


def test_a_series_starting_after_the_shared_cutoff_is_told_fixes_that_fit():
    """A series with no row up to fold 0's cutoff gains rows only once a later cutoff passes
    its own start: the step and n_windows offered must count that gap."""
    df = pd.concat([panel(), series("z", 14, start="2020-04-12", seed=3)], ignore_index=True)
    with pytest.raises(tsfm.InputError) as refused:
        model().cross_validate(df, n_windows=3, step=6, refit=False, cutoffs="shared")
    message = str(refused.value)
    assert "series 'z' has 0 of its 14 rows there" in message
    offered = dict(re.findall(r"\b(n_windows|step)=(\d+) \(", message.split("Use ")[-1]))
    assert offered, message
    for key, value in offered.items():
        folds = {"n_windows": 3, "step": 6, key: int(value)}
        cv = model().cross_validate(df, refit=False, cutoffs="shared", **folds)
        assert len(cv.metrics) == folds["n_windows"]


def test_backtests_warn_per_series_and_refuse_shared_folds_before_the_fitted_rows():
    df = panel()
    until = np.where(df.unique_id == "x", pd.Timestamp("2020-04-15"), pd.Timestamp("2020-04-10"))
    fitted = model().fit(df[df.ds <= until])  # up to fold 0's cutoffs: x's (shared), y's own
    cv, records = recorded(lambda: fitted.backtest(df, n_windows=2, step=7))
    (message,) = calendar(records)
    assert message.startswith("backtest: the model was fitted on rows of series ")
    assert "up to 2020-04-15 00:00:00, after the cutoff of fold 0 of series 'y'" in message
    shared, records = recorded(lambda: fitted.backtest(df, n_windows=2, step=7, cutoffs="shared"))
    assert calendar(records) == [] and shared.metrics.cutoff[0] == pd.Timestamp("2020-04-15")
    with pytest.raises(tsfm.InputError, match="cutoffs='shared': the model was fitted on rows"):
        fitted.backtest(df, n_windows=3, step=7, cutoffs="shared")


def test_validation_rows_that_do_not_begin_together_are_warned_of_once():
    _, records = recorded(lambda: model(val_size=14).fit(panel()))
    (message,) = calendar(records)
    assert message.startswith("fit: val_size=14 holds out the last rows of every series from")
    assert "series 'y' validates from 2020-04-11 00:00:00 while the model trains on rows of " in (
        message
    )
    assert "'x' up to 2020-04-15 00:00:00" in message
    _, records = recorded(lambda: model(val_size=14).fit(panel(120)))
    assert calendar(records) == []  # the same end, as many rows: one validation period
    _, records = recorded(  # a share of series of different lengths: not together
        lambda: model(val_size=0.2).fit(panel(120).iloc[10:])
    )
    assert len(calendar(records)) == 1
    kwargs = {"n_windows": 2, "step": 7, "cutoffs": "shared"}
    _, records = recorded(lambda: model(val_size=14).cross_validate(panel(100), **kwargs))
    (message,) = calendar(records)  # two folds' fits, one warning
    assert message.startswith("cross_validate (the folds' fits): val_size=14 holds out the last")
