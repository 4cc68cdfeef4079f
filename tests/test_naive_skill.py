"""skill_mae compares with the seasonal naive forecast only; skill_mae_naive compares with the
naive one, and evaluate, backtest and cross_validate warn when the naive forecast beats the
model by more than 10 % (tsfm/estimator/naive_check.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from tests.helpers.estimator import tiny
from tsfm.training.series_logging import SeriesScores
from tsfm.training.series_metrics import SeriesMetrics
from tsfm.training.undefined_metrics import defined

BEATS = "the naive forecast (the last observed value repeated) beats the model"


def test_skill_mae_naive_pairs_the_windows_that_have_a_naive_forecast():
    rng = np.random.default_rng(0)
    forecast, actual = rng.standard_normal((2, 3, 6, 1))
    lookback = rng.standard_normal((3, 12, 1))
    seen = np.ones_like(lookback, dtype=bool)
    seen[2] = False  # nothing observed in window 2's look-back: no naive forecast
    metric = SeriesMetrics(1, season_length=4)
    tensors = (torch.from_numpy(a) for a in (forecast, actual, lookback))
    metric.update(*tensors, lookback_observed=torch.from_numpy(seen))
    values = {k: float(v[0]) for k, v in metric.per_series().items()}
    error, naive = np.abs(forecast - actual), np.abs(lookback[:, -1:] - actual)
    assert values["skill_mae_naive"] == pytest.approx(1 - error[:2].mean() / naive[:2].mean())
    assert values["mae"] == pytest.approx(error.mean())  # the model: every window


def test_skill_mae_naive_of_an_exact_naive_forecast_is_left_out_saying_why():
    lookback = np.full((1, 8, 1), 3.0)  # a constant series: the naive forecast is exact
    actual, forecast = np.full((1, 4, 1), 3.0), np.full((1, 4, 1), 3.5)
    metric = SeriesMetrics(1, season_length=4)
    metric.update(*(torch.from_numpy(a) for a in (forecast, actual, lookback)))
    _, left_out = defined({k: float(v[0]) for k, v in metric.per_series().items()})
    assert "the naive forecast is exact" in left_out["skill_mae_naive"]
    assert "seasonal-naive forecast is exact" in left_out["skill_mae"]


def test_the_command_lines_metrics_have_it_pooled_and_per_target():
    rng = np.random.default_rng(1)
    scores = SeriesScores(2, season_length=4)
    x = torch.tensor(rng.standard_normal((4, 8, 2)))
    y, prediction = (torch.tensor(rng.standard_normal((4, 4, 2))) for _ in range(2))
    scores.update(prediction, prediction, {"x": x, "y": y}, y, x)
    values = scores.compute(["a", "b"])
    naive = (x[:, -1:] - y).abs().mean()
    assert values["skill_mae_naive"] == pytest.approx(
        1 - float((prediction - y).abs().mean() / naive)
    )
    assert {"a/skill_mae_naive", "b/skill_mae_naive"} <= set(values)


def _walk(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Random walks: the last value is the best forecast there is."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(np.cumsum(rng.standard_normal((n, 2)), axis=0), columns=["a", "b"])
    frame.insert(0, "date", pd.date_range("2020-01-01", periods=n, freq="D"))
    return frame


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def walk_model():
    frame = _walk()
    return frame, tiny(verbose=0).fit(frame[:140])


def test_evaluate_warns_when_the_naive_forecast_beats_the_model_naming_both(walk_model):
    frame, model = walk_model
    metrics, messages = _caught(lambda: model.evaluate(frame[116:]))
    assert metrics["skill_mae_naive"] == pytest.approx(1 - metrics["mae"] / metrics["naive_mae"])
    assert metrics["skill_mae_naive"] < -0.1  # the audit's case: a clear loss to the naive one
    beaten = [m for m in messages if BEATS in m]
    assert len(beaten) == 1 and beaten[0].startswith("evaluate: ")
    assert f"MAE {metrics['mae']:.4g} against the naive forecast's " \
        f"{metrics['naive_mae']:.4g}" in beaten[0]  # fmt: skip
    assert f"skill_mae_naive {metrics['skill_mae_naive']:+.2f}" in beaten[0]
    assert f"skill_mae {metrics['skill_mae']:+.2f} compares with seasonal naive" in beaten[0]
    table, _ = _caught(lambda: model.evaluate(frame[116:], per_series=True))
    assert list(table.columns[-2:]) == ["skill_mae_naive", "windows"]
    np.testing.assert_allclose(table.skill_mae_naive, 1 - table.mae / table.naive_mae)
    assert "'a' " in beaten[0] and "'b' " in beaten[0]  # the series it loses on
    # training longer keeps the schedule's shape, as the fit's notes advise (more max_epochs
    # alone would undo a data-sized model's stretch of it: validation_notes.train_longer)
    assert "twice the max_epochs the fit ran (fit_metrics_" in beaten[0]
    assert "more max_epochs" not in beaten[0]


def test_backtest_and_cross_validate_warn_once_over_their_folds(walk_model):
    frame, model = walk_model
    cv, messages = _caught(lambda: model.backtest(frame[116:], n_windows=2, step=8))
    assert "skill_mae_naive" in cv.metrics.columns and "skill_mae_naive" in cv.per_series
    assert [m[:7] for m in messages if BEATS in m] == ["folds: "]
    cv, messages = _caught(lambda: tiny(verbose=0).cross_validate(frame, n_windows=4, step=8))
    assert [m[:7] for m in messages if BEATS in m] == ["folds: "]


def test_no_warning_where_the_model_beats_the_naive_forecast():
    rng = np.random.default_rng(2)  # white noise: the last value is a poor forecast
    frame = pd.DataFrame(rng.standard_normal((200, 2)), columns=["a", "b"])
    frame.insert(0, "date", pd.date_range("2020-01-01", periods=200, freq="D"))
    model = tiny(verbose=0).fit(frame[:140])
    metrics, messages = _caught(lambda: model.evaluate(frame[116:]))
    assert metrics["skill_mae_naive"] > -0.1
    assert not [m for m in messages if BEATS in m]


def test_the_command_lines_table_shows_the_skill_against_both_baselines():
    from tsfm.report import baseline_lines

    metrics = {"test/snaive_mse": 0.5, "test/snaive_mae": 0.4, "test/skill_mae": 0.1}
    metrics["test/skill_mse"] = 0.2
    assert baseline_lines(metrics)[1] == "skill vs seasonal naive: MSE +20.0%, MAE +10.0%"
    metrics["test/skill_mae_naive"] = -2.737
    assert baseline_lines(metrics)[1].endswith("MAE +10.0%; vs naive: MAE -273.7%")


CAUSE = "a likely cause: extreme values in"


def test_the_warning_names_extreme_training_values_as_a_likely_cause(walk_model):
    frame, clean = walk_model
    _, messages = _caught(lambda: clean.evaluate(frame[116:]))
    assert not [m for m in messages if CAUSE in m]  # none flagged: no such clause
    sentinel = frame.copy()
    sentinel.loc[50, "a"] = -9999.0  # a sentinel in the training rows (weather's)
    model, _ = _caught(lambda: tiny(verbose=0).fit(sentinel[:140]))
    assert model.fit_metrics_["extreme_values"][0]["column"] == "a"
    _, messages = _caught(lambda: model.evaluate(sentinel[116:]))
    beaten = [m for m in messages if BEATS in m]
    assert len(beaten) == 1
    assert f"{CAUSE} the training rows of column 'a' (" in beaten[0]
    assert "column 'b'" not in beaten[0].split(CAUSE)[1]


def test_the_warning_names_extreme_values_of_the_frame_scored(walk_model):
    frame, model = walk_model
    scored = frame[116:].copy()
    scored.loc[150, "b"] = -9999.0  # in the look-backs and targets scored, not in training
    _, messages = _caught(lambda: model.backtest(scored, n_windows=2, step=8))
    beaten = [m for m in messages if BEATS in m]
    assert len(beaten) == 1 and f"{CAUSE} the frame scored of column 'b' (" in beaten[0]


def test_the_clause_names_series_and_merges_the_rows_that_share_columns():
    from tsfm.estimator.naive_check import extremes_clause

    a = {"column": "y", "series": "A"}
    assert extremes_clause([("the training rows", []), ("the frame scored", [])]) == ""
    both = extremes_clause([("the training rows", [a]), ("the frame scored", [a, a])])
    assert both.startswith(f"; {CAUSE} the training rows and the frame scored of series 'A' ")


def test_a_panels_warning_names_the_series_holding_them():
    from tests.helpers.estimator import to_long

    frame = _walk()
    frame.loc[50, "a"] = -9999.0
    long = to_long(frame)
    model, _ = _caught(
        lambda: tiny(verbose=0, mode="independent").fit(long[long.ds < frame.date[140]])
    )
    _, messages = _caught(lambda: model.evaluate(long[long.ds >= frame.date[30]]))
    beaten = [m for m in messages if BEATS in m]
    assert len(beaten) == 1
    assert f"{CAUSE} the training rows and the frame scored of series 'a' column 'y' (" in beaten[0]


def test_the_frame_scored_is_scanned_for_extreme_values_only_when_the_warning_fires(
    walk_model, monkeypatch
):
    import tsfm.data.extreme_values as extreme_values
    import tsfm.estimator.naive_check as naive_check

    frame, model = walk_model
    scans, scan = [], extreme_values.table_extreme_values
    monkeypatch.setattr(
        extreme_values, "table_extreme_values", lambda *a: scans.append(1) or scan(*a)
    )
    monkeypatch.setattr(naive_check, "MARGIN", 1e9)  # the naive forecast never beats it by that
    _, messages = _caught(lambda: model.evaluate(frame[116:]))
    _, more = _caught(lambda: model.backtest(frame[116:], n_windows=2, step=8))
    assert not [m for m in messages + more if BEATS in m] and not scans  # no warning: no scan
    monkeypatch.setattr(naive_check, "MARGIN", 0.10)
    _, messages = _caught(lambda: model.evaluate(frame[116:]))
    assert [m for m in messages if BEATS in m] and len(scans) == 1  # scanned for its clause
