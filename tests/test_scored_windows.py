"""The windows scores count: a window whose look-back observes nothing of a series is left out
of that series' scores with one warning (predict warns of such a forecast), and a series'
``windows`` counts the windows its scores rest on, in the wide and the panel (long) paths."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny, to_long

N_ROWS, FIRST_SEEN, START = 160, 70, 30  # v0 starts at row 70; evaluate from row 30 on
WINDOWS = N_ROWS - START - LOOKBACK - HORIZON + 1
LEFT_OUT = FIRST_SEEN - START - LOOKBACK + 1  # look-backs [30 + w, 53 + w] before row 70
UNSEEN_END = 12  # OT's last 12 rows are missing: its last 5 windows have no observed target


def late_series() -> pd.DataFrame:
    frame = synthetic_frame(N_ROWS, 3)
    frame.loc[: FIRST_SEEN - 1, "v0"] = np.nan
    frame.loc[N_ROWS - UNSEEN_END :, "OT"] = np.nan
    return frame


@pytest.fixture(scope="module")
def fitted():
    return tiny(verbose=0, missing="mask").fit(late_series()[:100])


@pytest.fixture(scope="module")
def panel():
    long = to_long(late_series()[:100])
    return tiny(verbose=0, missing="mask", mode="independent").fit(long)


def messages(records) -> list[str]:
    return [str(r.message) for r in records]


def left_out_warning(records, what: str) -> str:
    found = [m for m in messages(records) if m.startswith(f"{what}: windows whose look-back")]
    assert len(found) == 1, messages(records)
    return found[0]


def check_counts(table: pd.DataFrame, windows: pd.DataFrame, time_col: str) -> None:
    table = table.set_index("unique_id")
    assert table.windows.to_dict() == {
        "v0": WINDOWS - LEFT_OUT,
        "v1": WINDOWS,
        "OT": WINDOWS - (UNSEEN_END - HORIZON + 1),
    }
    frame = late_series()
    scored = windows[(windows.unique_id == "v0") & (windows.cutoff >= frame.date[FIRST_SEEN])]
    scored = scored.dropna(subset=["y"])
    np.testing.assert_allclose(table.mae["v0"], (scored.forecast - scored.y).abs().mean())
    has_baseline = scored.dropna(subset=["snaive"])
    skill = 1 - (has_baseline.forecast - has_baseline.y).abs().sum() / (
        (has_baseline.snaive - has_baseline.y).abs().sum()
    )
    np.testing.assert_allclose(table.skill_mae["v0"], skill)
    assert windows.cutoff.nunique() == WINDOWS  # the forecasts keep every window
    assert time_col in windows.columns


def test_evaluate_leaves_out_windows_without_an_observed_look_back(fitted):
    frame = late_series()[START:]
    with pytest.warns(UserWarning, match="left out of that series' scores") as records:
        table, windows = fitted.evaluate(frame, per_series=True, return_forecasts=True)
    message = left_out_warning(records, "evaluate")
    assert f"'v0' ({LEFT_OUT} windows)" in message and "'v1'" not in message
    assert not [m for m in messages(records) if "every metric is missing" in m]
    check_counts(table, windows, "date")
    with pytest.warns(UserWarning, match="left out of that series' scores"):
        pooled = fitted.evaluate(frame)
    assert pooled["windows"] == WINDOWS  # each has an observed, scored target


def test_evaluate_refuses_a_frame_with_nothing_to_score(fitted):
    frame = late_series()[["date", "v0"]].iloc[: FIRST_SEEN + HORIZON]
    frame = frame.assign(v1=np.nan, OT=np.nan)
    with (
        pytest.raises(ValueError, match="no window of the frame has an observed target"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        fitted.evaluate(frame)


def test_panel_evaluate_leaves_out_the_same_windows_and_predict_warns(panel):
    long = to_long(late_series()[START:])
    with pytest.warns(UserWarning, match="left out of that series' scores") as records:
        table, windows = panel.evaluate(long, per_series=True, return_forecasts=True)
    assert f"'v0' ({LEFT_OUT} windows)" in left_out_warning(records, "evaluate")
    check_counts(table, windows.rename(columns={"ds": "date"}), "date")
    before = to_long(late_series()[START:FIRST_SEEN])
    with pytest.warns(UserWarning, match="'v0': no value observed in the look-back"):
        panel.predict(before)


def test_backtest_folds_leave_out_a_series_without_an_observed_look_back(fitted, panel):
    frame = late_series()
    frame.loc[N_ROWS - UNSEEN_END :, "OT"] = 1.0  # every fold's targets observed
    frame.loc[104:135, "v0"] = np.nan  # fold 0 (cutoff row 136) sees nothing of v0
    for model, data in ((fitted, frame), (panel, to_long(frame))):
        with pytest.warns(UserWarning, match="left out of that series' scores") as records:
            forecasts, metrics = cv = model.backtest(data, n_windows=3)
        assert "'v0' (fold 0)" in left_out_warning(records, "folds")
        assert not [m for m in messages(records) if "'v0' (fold 0)" in m and "is missing" in m]
        folds = cv.per_series.set_index(["fold", "unique_id"])
        assert folds.loc[(0, "v0")].drop("cutoff").isna().all()
        assert folds.drop(index=(0, "v0")).mae.notna().all()
        first = forecasts[forecasts.cutoff == forecasts.cutoff.min()]
        assert set(first.unique_id) == {"v0", "v1", "OT"}  # the forecasts keep v0's
        others = first[first.unique_id != "v0"]
        mae = (others.forecast - others.y).abs().mean()
        assert metrics.mae_original.iloc[0] == pytest.approx(mae, rel=1e-9)


@pytest.mark.parametrize("layout", ["wide", "panel"])
def test_windows_counts_the_windows_with_an_observed_target(fitted, panel, layout):
    frame = late_series()[FIRST_SEEN:]  # every look-back observes every series
    windows = len(frame) - LOOKBACK - HORIZON + 1
    model, data = (fitted, frame) if layout == "wide" else (panel, to_long(frame))
    table = model.evaluate(data, per_series=True).set_index("unique_id")
    without_target = UNSEEN_END - HORIZON + 1  # OT's windows whose targets are all missing
    assert table.windows.to_dict() == {"v0": windows, "v1": windows, "OT": windows - without_target}
    pooled = model.evaluate(data)["windows"]  # a panel's windows are each of one series
    assert pooled == (windows if layout == "wide" else table.windows.sum())


@pytest.mark.parametrize("layout", ["wide", "panel"])
def test_folds_warn_once_for_a_series_and_fold_without_an_observed_target(fitted, panel, layout):
    frame = late_series()  # OT's last 12 rows are missing: the last fold's 8 targets too
    model, data = (fitted, frame) if layout == "wide" else (panel, to_long(frame))
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        cv = model.backtest(data, n_windows=3)
    about = [m for m in messages(records) if "'OT' (fold 2)" in m]
    assert about == [
        "folds: every metric is missing for 'OT' (fold 2): no observed target in these windows"
    ]
    assert cv.per_series.set_index(["fold", "unique_id"]).loc[(1, "OT")].mae > 0


@pytest.mark.parametrize("layout", ["wide", "panel"])
def test_folds_refuse_a_frame_with_nothing_to_score(fitted, panel, layout):
    frame = late_series()
    frame.loc[N_ROWS - 2 * HORIZON :, ["v0", "v1", "OT"]] = np.nan  # as future rows appended
    model, data = (fitted, frame) if layout == "wide" else (panel, to_long(frame))
    with (
        pytest.raises(ValueError, match="folds: no fold has an observed target.*future rows"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        model.backtest(data, n_windows=2)
    if layout == "wide":  # cross-validation's folds too (the fitted model reused)
        with pytest.raises(ValueError, match="no fold has an observed target"):
            model.cross_validate(frame, n_windows=2, refit=False)
