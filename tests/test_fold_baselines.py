"""The forecasts of ``cross_validate`` and ``backtest`` carry ``step`` and the seasonal-naive
``snaive`` of each window, as ``evaluate(return_forecasts=True)``'s do: each series' baseline
and skill in ``per_series`` can be recomputed from them (joint frames and independent panels;
``snaive`` missing where a window has no baseline)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny
from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

N_ROWS, N_WINDOWS, STEP = 160, 3, 10  # joint folds' cutoffs: rows 132, 142, 152


def recomputed(forecasts: pd.DataFrame, id_col: str = "unique_id") -> pd.DataFrame:
    """Each (cutoff, series)'s snaive_mae and skill_mae from the forecast rows alone."""
    rows = forecasts[forecasts.y.notna() & forecasts.snaive.notna()]
    sums = (
        rows.assign(
            model=(rows.y - rows.forecast).abs(), baseline=(rows.y - rows.snaive).abs(), n=1
        )
        .groupby(["cutoff", id_col])[["model", "baseline", "n"]]
        .sum()
    )
    keys = forecasts[["cutoff", id_col]].drop_duplicates().set_index(["cutoff", id_col])
    sums = keys.join(sums).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "snaive_mae": sums.baseline / sums.n.where(sums.n > 0),
                "skill_mae": 1 - sums.model / sums.baseline.where(sums.baseline > 0),
            }
        )


def check_recomputable(cv, time_col: str, id_col: str = "unique_id") -> None:
    forecasts = cv.forecasts
    columns = [id_col, time_col, "cutoff", "step", "y", "forecast", "snaive"]
    assert list(forecasts.columns) == columns
    assert sorted(forecasts.step.unique()) == list(range(1, forecasts.step.max() + 1))
    table = cv.per_series.set_index(["cutoff", id_col])[["snaive_mae", "skill_mae"]]
    again = recomputed(forecasts, id_col).reindex(table.index)
    np.testing.assert_allclose(again.to_numpy(float), table.to_numpy(float), rtol=1e-9)


def same_windows_as_evaluate(model: Forecaster, frame, forecasts, unscored: int = 0) -> None:
    """The folds' snaive and forecast are evaluate's for the windows with the same cutoff
    (all but ``unscored`` rows: evaluate scores a short panel series' last window only)."""
    _, windows = model.evaluate(frame, return_forecasts=True)
    keys = ["unique_id", "cutoff", "step"]
    both = forecasts.merge(windows, on=keys, suffixes=("", "_evaluate"))
    assert len(both) == len(forecasts) - unscored
    np.testing.assert_allclose(both.snaive, both.snaive_evaluate, rtol=1e-9)
    np.testing.assert_allclose(both.forecast, both.forecast_evaluate, rtol=1e-6)


def test_joint_folds_carry_the_baseline_their_per_series_scores_come_from():
    frame = synthetic_frame(N_ROWS, 3)
    frame.loc[108:127, "v0"] = np.nan  # fold 0's look-back of v0 has no value a season back
    settings = {"season_length": 6, "missing": "mask"}
    with pytest.warns(UserWarning, match="snaive_mae is missing for 'v0' \\(fold 0\\)"):
        cv = tiny(**settings).cross_validate(frame, n_windows=N_WINDOWS, step=STEP, refit=False)
    check_recomputable(cv, "date")
    first = cv.forecasts[cv.forecasts.cutoff == cv.forecasts.cutoff.min()]
    assert first[first.unique_id == "v0"].snaive.isna().all()
    assert first[first.unique_id != "v0"].snaive.notna().all()
    assert cv.forecasts.step.tolist()[:HORIZON] == list(range(1, HORIZON + 1))

    model = tiny(**settings).fit(frame.iloc[:120])
    with pytest.warns(UserWarning, match="missing for 'v0'"):
        backtest = model.backtest(frame, n_windows=N_WINDOWS, step=STEP)
    check_recomputable(backtest, "date")
    same_windows_as_evaluate(model, frame, backtest.forecasts)


def _panel_forecaster() -> Forecaster:
    return Forecaster(
        horizon=6, lookback=24, mode="independent", future_covariates=["promo"],
        season_length=12, **TINY_IT,
    )  # fmt: skip


def test_panel_folds_carry_the_baseline_their_per_series_scores_come_from():
    panel = panel_frame(lengths=(120, 90, 20)).drop(columns=["store"])
    with pytest.warns(UserWarning, match="snaive_mae is missing for 's2' \\(fold 0\\)"):
        cv = _panel_forecaster().cross_validate(panel, n_windows=2, step=6, refit=False)
    check_recomputable(cv, "ds")
    short = cv.forecasts[cv.forecasts.unique_id == "s2"]  # 8 rows before fold 0: no season
    assert short[short.cutoff == short.cutoff.min()].snaive.isna().all()
    assert cv.forecasts[cv.forecasts.unique_id != "s2"].snaive.notna().all()

    fitted_rows = panel[panel.groupby("unique_id").cumcount(ascending=False) >= 12]
    model = _panel_forecaster().fit(fitted_rows)
    with pytest.warns(UserWarning, match="missing for 's2'"):
        backtest = model.backtest(panel, n_windows=2, step=6)
    check_recomputable(backtest, "ds")
    same_windows_as_evaluate(model, panel, backtest.forecasts, unscored=6)  # s2's fold 0
