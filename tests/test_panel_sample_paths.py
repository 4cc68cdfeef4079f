"""Forecaster.sample_paths of mode="independent" panels (tsfm/estimator/panel_paths.py): the
long frame of every series' paths after its own end, the seed, marginals that agree with
predict's pooled conformal intervals, whole calibration windows per path, future
covariates, several targets per series (a column each, one window for all of a series'
targets), and the refusals that still apply."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tests.test_sample_paths import _inside
from tsfm import Forecaster, InputError

LENGTHS = (160, 140, 120)  # series of different lengths, each with its own dates
PANEL = panel_frame(lengths=LENGTHS).drop(columns=["store"])
SERIES = ("s0", "s1", "s2")
CALIBRATION = {"val_size": 40, "conformal_windows": 8, "conformal_step": 4}  # 24 pooled
pytestmark = [  # the series end apart, so their validation rows do too (said at each fit)
    pytest.mark.filterwarnings("ignore:fit. the fitted model.s validation loss"),
    pytest.mark.filterwarnings("ignore::tsfm.CalendarOverlapWarning"),
]


TARGETS = ["y", "returns"]
_k = PANEL.groupby("unique_id").cumcount().to_numpy()
_i = PANEL.unique_id.str[1].astype(int).to_numpy()
TWO = PANEL.drop(columns=["promo"]).assign(returns=100 * (_i + 1) + 20 * np.cos(_k / 5 + _i))


def _panel(**extra) -> Forecaster:
    return Forecaster(horizon=6, lookback=24, mode="independent", **TINY_IT, **extra)


@pytest.fixture(scope="module")
def plain() -> Forecaster:
    return _panel(**CALIBRATION).fit(PANEL.drop(columns=["promo"]))


@pytest.fixture(scope="module")
def promoted() -> Forecaster:  # a future covariate, scores normalised by the look-back spread
    return _panel(future_covariates=["promo"], conformal_normalize=True, **CALIBRATION).fit(PANEL)


@pytest.fixture(scope="module")
def two_targets() -> Forecaster:  # 24 pooled windows: an interval per target
    return _panel(targets=TARGETS, **CALIBRATION).fit(TWO)


@pytest.fixture(scope="module")
def two_pooled() -> Forecaster:  # 12 pooled windows: the targets' scores pooled too (24)
    return _panel(targets=TARGETS, **{**CALIBRATION, "conformal_windows": 4}).fit(TWO)


def _future(est: Forecaster, df: pd.DataFrame | None = None) -> pd.DataFrame:
    future = est.make_future_dataframe(df)
    return future.assign(promo=np.where(future.ds.dt.hour % 5 == 0, 1.0, 0.0))


def _matrix(paths: pd.DataFrame, series: str, target: str = "y") -> np.ndarray:
    """``[samples, H]`` paths of one series (and target)."""
    mine = paths[paths.unique_id == series]
    return mine.pivot(index="sample", columns="ds", values=target).to_numpy()


def _targets(est: Forecaster) -> list[str]:
    return [str(t) for t in est.columns_]


def _pools(est: Forecaster, scores: np.ndarray) -> list[np.ndarray]:
    """Each target's scores ``[n, H]`` its interval reads: its own, or every target's."""
    n, horizon, targets = scores.shape
    if est.module_.conformal.per_series:
        return [scores[..., j] for j in range(targets)]
    return [np.moveaxis(scores, 2, 1).reshape(-1, horizon)] * targets


def test_paths_are_the_long_frame_of_every_series_sample_and_step_after_its_own_end(plain):
    paths, forecast = plain.sample_paths(n_samples=4, seed=0), plain.predict()
    assert isinstance(paths, pd.DataFrame)
    assert list(paths.columns) == ["unique_id", "ds", "sample", "y"]
    assert len(paths) == 4 * 6 * 3 and paths.unique_id.unique().tolist() == list(SERIES)
    for series, rows in forecast.groupby("unique_id"):
        mine = paths[paths.unique_id == series]
        assert mine["sample"].tolist() == [s for s in range(4) for _ in range(6)]
        for sample in range(4):  # each path: predict's timestamps, in time order
            one = mine[mine["sample"] == sample]
            assert one.ds.tolist() == rows.ds.tolist()
    ends = PANEL.groupby("unique_id").ds.max()
    firsts = paths.groupby("unique_id").ds.min()
    assert (firsts - ends == pd.Timedelta(hours=1)).all()  # each series' own end
    long = pl.from_pandas(PANEL.drop(columns=["promo"]))
    out = plain.sample_paths(long, n_samples=2, seed=0)
    assert isinstance(out, pl.DataFrame) and out.columns == ["unique_id", "ds", "sample", "y"]
    assert out["ds"].dtype == long["ds"].dtype and len(out) == 2 * 6 * 3


def test_a_new_series_comes_back_as_predict_gives_it(plain):
    new = PANEL[PANEL.unique_id == "s1"].drop(columns=["promo"]).assign(unique_id="new")
    paths, forecast = plain.sample_paths(new, n_samples=3, seed=1), plain.predict(new)
    assert paths.unique_id.dtype == forecast.unique_id.dtype
    assert set(paths.unique_id) == {"new"} and len(paths) == 3 * 6
    assert paths[paths["sample"] == 0].ds.tolist() == forecast.ds.tolist()


def test_the_same_seed_gives_the_same_paths_another_seed_others(plain):
    first = plain.sample_paths(n_samples=50, seed=7)
    pd.testing.assert_frame_equal(first, plain.sample_paths(n_samples=50, seed=7))
    assert not np.allclose(first.y, plain.sample_paths(n_samples=50, seed=8).y)


@pytest.mark.parametrize("which", ["plain", "promoted", "two_targets", "two_pooled"])
def test_each_steps_spread_is_the_pooled_conformal_interval(which, request):
    """24 pooled scores: an 80 % interval reads the 20th smallest, so the paths within it
    (bounds included) are the share of scores up to it, 20 / 24 but for ties, and those
    strictly inside the share below it, for every series and target; the sign splits the
    rest. Two targets: each target's paths on its own interval (its own 24 scores, or with
    12 windows the 24 of both targets, as predict pools them)."""
    est, samples, slack = request.getfixturevalue(which), 4000, 1e-4
    future = _future(est) if which == "promoted" else None
    paths = est.sample_paths(n_samples=samples, seed=0, future_df=future)
    forecast = est.predict(future_df=future, level=[80], quantiles=[0.1, 0.5, 0.9])
    scores = _pools(est, est.module_.conformal.scores.double().numpy())  # [24, H] each
    radii = est.module_.conformal.radius(80.0).double().numpy()  # [H, N] or [H, 1] pooled
    error = 4.5 * np.sqrt(0.25 / samples)  # 4.5 standard errors of a share
    for j, target in enumerate(_targets(est)):
        assert len(scores[j]) == 24
        radius = radii[:, min(j, radii.shape[1] - 1)]
        within = (scores[j] <= radius * (1 + 2 * slack)).mean(axis=0)  # slack x width
        inside = (scores[j] < radius * (1 - 2 * slack)).mean(axis=0)
        for series in SERIES:
            rows = forecast[forecast.unique_id == series]
            lo, hi = rows[f"{target}-lo-80"].to_numpy(), rows[f"{target}-hi-80"].to_numpy()
            matrix = _matrix(paths, series, target)
            assert np.abs(_inside(matrix, lo, hi, slack) - within).max() < error, series
            assert np.abs(_inside(matrix, lo, hi, -slack) - inside).max() < error, series
            above = (matrix > rows[f"{target}-q-0.9"].to_numpy() + slack * (hi - lo)).mean(0)
            assert np.abs(above - (1 - within) / 2).max() < error, series  # one sign in two
            centre = rows[f"{target}-q-0.5"].to_numpy()
            assert np.abs(np.median(matrix, axis=0) - centre).max() < 0.5 * (hi - lo).max()


@pytest.mark.parametrize("which", ["plain", "promoted", "two_targets", "two_pooled"])
def test_each_path_is_the_forecast_plus_one_whole_pooled_window_in_the_series_units(which, request):
    """Every step and target of a path: one window's residuals, one sign, each target on its
    series' own scale (with the targets' scores pooled, the targets shifted cyclically)."""
    est = request.getfixturevalue(which)
    future = _future(est) if which == "promoted" else None
    paths = est.sample_paths(n_samples=100, seed=3, future_df=future)
    forecast = est.predict(future_df=future, level=[80])
    residuals = est.module_.conformal.residuals.double().numpy()  # [24 or 12, H, N]
    radii = est.module_.conformal.radius(80.0).double().numpy()  # [H, N] or [H, 1]
    targets = _targets(est)
    shifts = 1 if est.module_.conformal.per_series else len(targets)
    windows = np.concatenate([np.roll(residuals, -c, axis=2) for c in range(shifts)])
    for series in SERIES:
        rows = forecast[forecast.unique_id == series]
        deviation = []
        for j, target in enumerate(targets):
            radius = radii[:, min(j, radii.shape[1] - 1)]
            unit = (rows[f"{target}-hi-80"] - rows[target]).to_numpy() / radius  # std (x spread)
            deviation.append((_matrix(paths, series, target) - rows[target].to_numpy()) / unit)
        for path in np.stack(deviation, axis=-1):  # [H, N]: every step and target, one window
            gaps = np.minimum(
                np.abs(path[None] - windows).max(axis=(1, 2)),
                np.abs(path[None] + windows).max(axis=(1, 2)),
            )
            assert gaps.min() < 1e-3, series


def test_several_targets_give_a_column_each_in_predicts_names(two_targets):
    paths = two_targets.sample_paths(n_samples=3, seed=0)
    assert list(paths.columns) == ["unique_id", "ds", "sample", *TARGETS]
    assert len(paths) == 3 * 6 * 3 and paths[TARGETS].notna().all().all()
    forecast = two_targets.predict()
    for series in SERIES:  # each target near its own series' level (returns ~100 (i + 1))
        for target in TARGETS:
            mean = _matrix(paths, series, target).mean()
            level = forecast[forecast.unique_id == series][target].mean()
            assert abs(mean - level) < 5 + 0.2 * abs(level), (series, target)
    polars = two_targets.sample_paths(pl.from_pandas(TWO), n_samples=2, seed=0)
    assert polars.columns == ["unique_id", "ds", "sample", *TARGETS]
    np.testing.assert_allclose(
        polars["returns"].to_numpy(), two_targets.sample_paths(n_samples=2, seed=0).returns
    )


def test_nonnegative_floors_the_marked_target_of_the_paths_alone():
    """Paths floor after drawing: the marked target's never below zero, the other's keep
    their negative values (both targets centred on zero here, so paths go below it)."""
    centred = TWO.assign(y=TWO.y - TWO.groupby("unique_id").y.transform("mean"),
                         returns=TWO.returns - TWO.groupby("unique_id").returns.transform("mean"))  # fmt: skip
    centred = centred.assign(y=centred.y.clip(lower=0))
    est = _panel(targets=TARGETS, nonnegative=["y"], **CALIBRATION).fit(centred)
    paths = est.sample_paths(n_samples=200, seed=0)
    assert (paths.y >= 0).all() and (paths.y == 0).any()
    assert (paths.returns < 0).any()


def test_future_covariates_are_read_as_predict_reads_them(promoted):
    future = _future(promoted)
    shifted = future.assign(promo=1.0 - future.promo)
    first = promoted.sample_paths(n_samples=20, seed=0, future_df=future)
    second = promoted.sample_paths(n_samples=20, seed=0, future_df=shifted)
    assert not np.allclose(first.y, second.y)  # the horizon's covariate moves the paths
    with pytest.raises(InputError, match=r"future covariates \['promo'\]: pass future_df"):
        promoted.sample_paths(n_samples=5)
    short = PANEL[PANEL.unique_id != "s0"]  # a frame of two series: its own future rows
    paths = promoted.sample_paths(short, n_samples=5, seed=0, future_df=_future(promoted, short))
    assert paths.unique_id.unique().tolist() == ["s1", "s2"]


def test_panels_without_calibration_residuals_are_refused_naming_the_panel_fix():
    bare = PANEL.drop(columns=["promo"])
    with pytest.raises(InputError, match=r"fitted without calibration windows .* "
                       r"mode='independent', val_size=\.\.\., conformal_windows=k\)"):  # fmt: skip
        _panel().fit(bare).sample_paths()
    with pytest.raises(InputError, match=r"loss='normal'\), which says nothing of how the steps"):
        _panel(loss="normal").fit(bare).sample_paths()


def test_too_many_panel_paths_are_refused_before_forecasting(plain):
    with pytest.raises(InputError, match=r"of 6 steps of 3 series would hold .* fewer n_samples"):
        plain.sample_paths(n_samples=10**7)


def test_a_target_missing_in_a_calibration_window_is_drawn_from_its_steps_observed_ones():
    panel = PANEL.drop(columns=["promo"])
    for series in ("s0", "s1"):  # gaps in two series' last validation windows
        panel.loc[panel.index[panel.unique_id == series][-22:-2], "y"] = np.nan
    est = _panel(missing="mask", **CALIBRATION).fit(panel)
    residuals = est.module_.conformal.residuals.numpy()
    assert np.isnan(residuals).any()  # scores missing in the pool
    paths = est.sample_paths(panel, n_samples=200, seed=0)
    assert np.isfinite(paths.y).all() and len(paths) == 200 * 6 * 3


def test_panel_paths_survive_save_and_load(plain, tmp_path):
    loaded = Forecaster.load(plain.save(tmp_path / "panel"))
    pd.testing.assert_frame_equal(
        loaded.sample_paths(n_samples=20, seed=2), plain.sample_paths(n_samples=20, seed=2)
    )
