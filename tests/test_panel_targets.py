"""Long panels whose series have several targets each (``mode="independent"``,
``targets=[...]``): each series one multivariate sample of one global model, scaled per series
and target, forecast as a long frame with the id column and one column per target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT
from tsfm import Forecaster

LOOKBACK, HORIZON = 12, 4
TARGETS = ["sales", "returns"]
SETTINGS = {**TINY_IT, "d_model": 32, "seed": 0}


def two_target_panel(lengths: tuple[int, ...] = (70, 50)) -> pd.DataFrame:
    """Series ``a``, ``b``, ... of their own dates and lengths, each with sales and returns."""
    rng = np.random.default_rng(0)
    frames = []
    for i, n in enumerate(lengths):
        k = np.arange(n)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": "abc"[i],
                    "ds": pd.date_range("2021-01-01", periods=n, freq="D")
                    + pd.Timedelta(days=9 * i),
                    "sales": 100 * (i + 1) + 10 * np.sin(k / 3) + rng.normal(0, 1, n),
                    "returns": np.cos(k / 5 + i) + rng.normal(0, 0.1, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _fit(frame, **kw) -> Forecaster:
    settings = {"horizon": HORIZON, "lookback": LOOKBACK, "mode": "independent", **SETTINGS}
    return Forecaster(**{**settings, "targets": TARGETS, **kw}).fit(frame)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return two_target_panel()


@pytest.fixture(scope="module")
def model(panel) -> Forecaster:
    return _fit(panel, loss="quantile", quantiles=[0.1, 0.5, 0.9])


def test_each_series_is_forecast_after_its_own_end_with_a_column_per_target(model, panel):
    assert model.columns_ == TARGETS and model.series_ == ["a", "b"]
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", *TARGETS]
    assert forecast.unique_id.tolist() == ["a"] * HORIZON + ["b"] * HORIZON
    for series, rows in forecast.groupby("unique_id"):
        end = panel.ds[panel.unique_id == series].max()
        expected = pd.date_range(end, periods=HORIZON + 1, freq="D")[1:]
        assert (rows.ds.to_numpy() == expected.to_numpy()).all()
    # each target on its own series' scale: sales near 100 (a) and 200 (b), returns near 0
    sales = forecast.groupby("unique_id").sales.mean()
    assert 70 < sales["a"] < 130 and 170 < sales["b"] < 230
    assert forecast.returns.abs().max() < 5
    pd.testing.assert_frame_equal(model.predict(panel), forecast)  # the fitted data again
    bands = model.predict(level=[80])
    assert list(bands.columns) == [
        "unique_id", "ds", "sales", "sales-lo-80", "sales-hi-80",
        "returns", "returns-lo-80", "returns-hi-80",
    ]  # fmt: skip
    for target in TARGETS:
        assert (bands[f"{target}-lo-80"] <= bands[f"{target}-hi-80"]).all()
    polars = model.predict(pl.from_pandas(panel))
    assert isinstance(polars, pl.DataFrame) and polars.columns == ["unique_id", "ds", *TARGETS]
    np.testing.assert_allclose(polars["returns"].to_numpy(), forecast.returns.to_numpy())
    # rolled out beyond the horizon, every target fed back: the second block is predict's
    # forecast after the first block's rows appended to each series
    longer = model.predict(steps=2 * HORIZON)
    assert list(longer.columns) == ["unique_id", "ds", *TARGETS] and len(longer) == 4 * HORIZON
    first, second = (
        longer.groupby("unique_id").head(HORIZON),
        longer.groupby("unique_id").tail(HORIZON),
    )
    np.testing.assert_allclose(first[TARGETS], forecast[TARGETS])
    extended = pd.concat([panel, forecast]).sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(second[TARGETS], model.predict(extended)[TARGETS], rtol=1e-5)


def test_evaluate_and_the_folds_forecast_each_target_as_predict_does(model, panel):
    rank = panel.groupby("unique_id").cumcount(ascending=False)
    history, tail = panel[rank >= HORIZON], panel[rank < HORIZON]
    expected = model.predict(history)
    metrics, windows = model.evaluate(panel, return_forecasts=True)
    assert list(windows.columns[:13]) == [
        "unique_id", "ds", "cutoff", "step",
        "sales", "sales-forecast", "sales-snaive", "sales-forecast-lo-80", "sales-forecast-hi-80",
        "returns", "returns-forecast", "returns-snaive", "returns-forecast-lo-80",
    ]  # fmt: skip
    last = windows.groupby("unique_id").tail(HORIZON)
    assert (last.ds.to_numpy() == tail.ds.to_numpy()).all()
    for target in TARGETS:  # the last window of each series, per target, is predict's forecast
        np.testing.assert_allclose(last[f"{target}-forecast"], expected[target], rtol=1e-5)
        np.testing.assert_allclose(last[target], tail[target])
    # the pooled scores pool every target's errors, as a wide frame's pool its variates
    errors = np.concatenate([(windows[f"{t}-forecast"] - windows[t]).abs() for t in TARGETS])
    assert metrics["mae_original"] == pytest.approx(errors.mean())
    folds = model.cross_validate(panel, n_windows=1)  # a fold's model: trained before it
    assert list(folds.forecasts.columns[:7]) == [
        "unique_id", "ds", "cutoff", "step", "sales", "sales-forecast", "sales-snaive",
    ]  # fmt: skip
    np.testing.assert_allclose(folds.forecasts[TARGETS], tail[TARGETS])
    early = _fit(history)  # backtest: the fitted model's forecast of the rows after its fit
    backtest = early.backtest(panel, n_windows=1).forecasts
    np.testing.assert_allclose(backtest[TARGETS], tail[TARGETS])
    for target in TARGETS:
        np.testing.assert_allclose(
            backtest[f"{target}-forecast"], early.predict()[target], rtol=1e-5
        )


def test_each_series_and_target_is_scaled_on_its_own(panel):
    """Series b's returns in other units (x 1000 + 5): its forecast moves with them, and every
    other series' and target's stays, as each (series, target) is standardised on its own."""
    moved = panel.copy()
    b = moved.unique_id == "b"
    moved.loc[b, "returns"] = moved.loc[b, "returns"] * 1000 + 5
    first, second = _fit(panel).predict(), _fit(moved).predict()
    rows = (first.unique_id == "b").to_numpy()
    np.testing.assert_allclose(second.returns[rows], first.returns[rows] * 1000 + 5, rtol=1e-3)
    np.testing.assert_allclose(second.returns[~rows], first.returns[~rows], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(second.sales, first.sales, rtol=1e-4)


def test_one_target_named_in_targets_fits_as_target_col_does():
    frame = two_target_panel().drop(columns=["returns"]).rename(columns={"sales": "y"})
    by_targets, by_column = _fit(frame, targets=["y"]), _fit(frame, targets=None)
    assert by_targets.columns_ == by_column.columns_ == ["y"]
    pd.testing.assert_frame_equal(by_targets.predict(), by_column.predict())


def test_a_saved_model_of_several_targets_forecasts_the_same(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(level=[80]), model.predict(level=[80]))


def test_what_several_targets_cannot_do_is_refused_with_the_fix(model, panel):
    with pytest.raises(ValueError, match=r"target_col='y2' and targets=\['sales', 'returns'\]"):
        _fit(panel, target_col="y2")
    with pytest.raises(ValueError, match=r"targets lists a column twice: \['sales', 'sales'\]"):
        _fit(panel, targets=["sales", "sales"])
    bad = panel.assign(returns=panel.returns.astype(str))
    with pytest.raises(ValueError, match="target column 'returns'"):
        _fit(bad, max_epochs=1)
    with pytest.raises(ValueError, match=r"needs a long frame \(unique_id, ds, sales, returns"):
        model.predict(panel.drop(columns=["returns"]))
    dates = panel.ds[panel.unique_id == "b"]
    joint = panel[panel.ds.between(dates.min(), dates.max())]  # one time index
    with pytest.raises(ValueError, match="on a long frame needs mode='independent'"):
        Forecaster(horizon=HORIZON, target_col="sales", targets=TARGETS, **SETTINGS).fit(joint)


def test_sample_paths_of_several_targets_and_nonnegative_marking_one_target(panel):
    """A calibrated two-target panel draws paths with a column per target; ``nonnegative``
    naming the first target (the layout's target_col, whose name must not mark every column)
    floors and checks that target alone: returns, unmarked, keep their negative values."""
    assert (panel.returns < 0).any()
    fitted = _fit(panel, val_size=12, conformal_windows=3, conformal_step=1, nonnegative=["sales"])
    paths = fitted.sample_paths(n_samples=5, seed=0)
    assert list(paths.columns) == ["unique_id", "ds", "sample", *TARGETS]
    assert len(paths) == 5 * HORIZON * 2 and (paths.sales >= 0).all()
    forecast = fitted.predict(level=[80])
    assert (forecast["returns-lo-80"] < 0).any()  # not floored
    assert forecast[["sales", "sales-lo-80"]].to_numpy().min() >= 0
    with pytest.raises(ValueError, match="sales"):  # the marked target's negatives refused
        _fit(panel.assign(sales=-panel.sales), nonnegative=["sales"], max_epochs=1)


def test_a_list_for_target_col_is_refused_naming_targets(panel):
    with pytest.raises(ValueError, match=r"target_col must be one column name.*targets=\[\.\.\.\]"):
        Forecaster(horizon=HORIZON, target_col=TARGETS, mode="independent").fit(panel)
