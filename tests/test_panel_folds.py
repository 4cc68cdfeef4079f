"""Cross-validation and backtests of independent panels: per-series folds counted back from
each series' end, no fold trained on its own future, the same forecasts as evaluate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster

LOOKBACK, HORIZON = 24, 6
LENGTHS = (120, 90, 60)


def _forecaster(**extra) -> Forecaster:
    return Forecaster(
        horizon=HORIZON, lookback=LOOKBACK, mode="independent", future_covariates=["promo"],
        **TINY_IT, **extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return panel_frame(lengths=LENGTHS).drop(columns=["store"])


def _ends(panel: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The last ``rows`` rows of every series."""
    return panel[panel.groupby("unique_id").cumcount(ascending=False) < rows]


def test_folds_count_back_from_each_series_end_and_never_train_on_their_future(panel):
    # a day of look-back is one season: MASE from each series' history
    forecasts, metrics = cv = _forecaster().cross_validate(panel, n_windows=2, mase_scale="history")
    assert len(forecasts) == 2 * len(LENGTHS) * HORIZON and len(cv.per_series) == 6
    assert metrics.fold.tolist() == [0, 1] and metrics.refitted.all()
    assert metrics.train_rows.tolist() == [sum(LENGTHS) - 6 * 2 * 3, sum(LENGTHS) - 6 * 3]
    last = forecasts[forecasts.cutoff == forecasts.groupby("unique_id").cutoff.transform("max")]
    expected = _ends(panel, HORIZON)
    assert (last.ds.to_numpy() == expected.ds.to_numpy()).all()  # the last fold: each end
    assert np.isfinite(metrics[["mae", "smape", "mase", "skill_mae"]].to_numpy()).all()
    first = forecasts[forecasts.cutoff < forecasts.groupby("unique_id").cutoff.transform("max")]
    poisoned = panel.copy()  # every target from fold 0's first forecast step on
    after = poisoned.ds.to_numpy() > poisoned.unique_id.map(first.groupby("unique_id").cutoff.min())
    poisoned.loc[after.to_numpy(), "y"] = 1e6
    again, _ = _forecaster().cross_validate(poisoned, n_windows=2)
    fold0 = again[again.cutoff < again.groupby("unique_id").cutoff.transform("max")]
    np.testing.assert_array_equal(fold0.forecast.to_numpy(), first.forecast.to_numpy())


def test_a_fitted_model_backtests_the_folds_after_its_rows_as_evaluate_forecasts_them(panel):
    fitted_rows = panel[panel.groupby("unique_id").cumcount(ascending=False) >= 2 * HORIZON]
    model = _forecaster(loss="quantile", quantiles=[0.1, 0.5, 0.9]).fit(fitted_rows)
    forecasts, metrics = cv = model.backtest(panel, n_windows=2)
    assert not metrics.refitted.any() and {"coverage_80", "crps"} <= set(metrics.columns)
    for fold, rows in cv.per_series.groupby("fold"):  # each series' share of its fold's
        assert rows.coverage_80.mean() == pytest.approx(metrics.coverage_80[fold], rel=1e-9)
        assert np.isfinite(rows[["crps", "width_80"]].to_numpy()).all()
    assert {"forecast-lo-80", "forecast-hi-80"} <= set(forecasts.columns)
    _, windows = model.evaluate(panel, return_forecasts=True)
    assert list(windows.columns) == list(forecasts.columns)  # unique_id, ds, cutoff, step, ...
    merged = forecasts.merge(windows, on=["unique_id", "cutoff", "ds"], suffixes=("", "_eval"))
    assert len(merged) == len(forecasts)  # every fold window is one of evaluate's windows
    np.testing.assert_allclose(merged.forecast, merged.forecast_eval, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="series 's0': the first fold forecasts from .* fitted on"):
        model.backtest(panel, n_windows=3)
    with pytest.raises(ValueError, match="Use n_windows=2 .*, step=3 \\(the largest with which 3"):
        model.backtest(panel, n_windows=3)  # each series fitted up to 12 rows before its end
    model.backtest(panel, n_windows=3, step=3)
    with pytest.raises(ValueError, match=r"series \['s2'\] are too short for the folds"):
        model.cross_validate(panel, n_windows=9)


def test_val_df_with_independent_panels_is_refused_with_the_fix():
    panel = panel_frame(lengths=(60, 50), categories=("a", "b"))[["unique_id", "ds", "y"]]
    est = Forecaster(horizon=4, lookback=12, mode="independent", **TINY_IT)
    with pytest.raises(ValueError, match="val_df is not taken.*append the validation rows"):
        est.fit(panel, val_df=panel)
