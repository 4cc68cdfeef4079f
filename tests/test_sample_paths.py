"""Forecaster.sample_paths: joint paths drawn from the conformal calibration residuals
(tsfm/estimator/sample_paths.py): the frame, the seed, marginals that agree with the
conformal intervals, the residuals' dependence across steps kept, and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny, to_long
from tsfm import Forecaster, InputError
from tsfm.estimator.sample_paths import draw
from tsfm.training.conformal import ConformalScores

FRAME = synthetic_frame(300, 3)
TRAIN, VALID = FRAME.iloc[:220], FRAME.iloc[220:]
SERIES = ("v0", "v1", "OT")
pytestmark = pytest.mark.filterwarnings("ignore:fit. the fitted model.s validation loss")


@pytest.fixture(scope="module")
def per_series() -> Forecaster:  # 20 windows: each series' own scores
    return tiny(conformal_windows=20, conformal_step=2, verbose=0).fit(TRAIN, VALID)


@pytest.fixture(scope="module")
def pooled() -> Forecaster:  # 6 windows of 3 series, normalised: one pool of 18 scores
    return tiny(conformal_windows=6, conformal_step=2, conformal_normalize=True, verbose=0).fit(
        TRAIN
    )


def _matrix(paths: pd.DataFrame, series: str, time_col: str = "date") -> np.ndarray:
    """``[samples, H]`` paths of one series."""
    rows = paths[paths.unique_id == series]
    return rows.pivot(index="sample", columns=time_col, values="y").to_numpy()


def test_paths_are_a_tidy_frame_of_every_series_sample_and_step(per_series):
    paths = per_series.sample_paths(n_samples=5, seed=0)
    forecast = per_series.predict()
    assert list(paths.columns) == ["unique_id", "date", "sample", "y"]
    assert len(paths) == 5 * HORIZON * 3 and isinstance(paths, pd.DataFrame)
    assert paths.unique_id.unique().tolist() == list(SERIES)
    assert sorted(paths["sample"].unique()) == list(range(5))
    one = paths[(paths.unique_id == "OT") & (paths["sample"] == 3)]
    assert one.date.tolist() == forecast.date.tolist()  # each path in time order
    long = pl.from_pandas(to_long(FRAME))
    out = per_series.sample_paths(long, n_samples=2, seed=0)
    assert isinstance(out, pl.DataFrame) and out.columns == ["unique_id", "ds", "sample", "y"]
    assert out["ds"].dtype == long["ds"].dtype and len(out) == 2 * HORIZON * 3


def test_the_same_seed_gives_the_same_paths_another_seed_others(per_series):
    first = per_series.sample_paths(n_samples=50, seed=7)
    pd.testing.assert_frame_equal(first, per_series.sample_paths(n_samples=50, seed=7))
    assert not np.allclose(first.y, per_series.sample_paths(n_samples=50, seed=8).y)


def _inside(paths: np.ndarray, lo: np.ndarray, hi: np.ndarray, slack: float) -> np.ndarray:
    """The share of paths within ``[lo - slack w, hi + slack w]`` per step (``w``: width)."""
    width = hi - lo
    return ((paths >= lo - slack * width) & (paths <= hi + slack * width)).mean(axis=0)


@pytest.mark.parametrize(
    "which, time_col, n, frame",
    [("per_series", "date", 20, None), ("pooled", "ds", 18, to_long(FRAME.iloc[:250]))],
)
def test_each_steps_spread_is_its_conformal_interval(which, time_col, n, frame, request):
    """An L % interval reads the ceil((n + 1) L / 100)-th smallest of n scores; a path's
    deviation is one of the n residuals (either sign), so exactly rank / n of the paths lie
    within the interval, its bounds included, and (rank - 1) / n strictly inside."""
    est, samples = request.getfixturevalue(which), 4000
    paths = est.sample_paths(frame, n_samples=samples, seed=0)
    forecast = est.predict(frame, level=[80])
    rank = int(np.ceil((n + 1) * 0.8))
    error = 4.5 * np.sqrt(0.25 / samples)  # 4.5 standard errors of a share
    for series in SERIES:
        rows = forecast[forecast.unique_id == series] if frame is not None else forecast
        name = "y" if frame is not None else series
        lo, hi = rows[f"{name}-lo-80"].to_numpy(), rows[f"{name}-hi-80"].to_numpy()
        matrix = _matrix(paths, series, time_col)
        assert np.abs(_inside(matrix, lo, hi, 1e-4) - rank / n).max() < error, series
        assert np.abs(_inside(matrix, lo, hi, -1e-4) - (rank - 1) / n).max() < error, series
        centre = rows[name].to_numpy()
        assert np.abs(np.median(matrix, axis=0) - centre).max() < 0.5 * (hi - lo).max()


def test_each_path_is_the_forecast_plus_one_whole_calibration_window(per_series):
    paths = per_series.sample_paths(n_samples=200, seed=3)
    forecast = per_series.predict()
    residuals = per_series.module_.conformal.residuals.double().numpy()  # [k, H, N], scaled
    std = per_series.scaler_.std[:3]
    deviation = np.stack(
        [_matrix(paths, s) - forecast[s].to_numpy() for s in SERIES], axis=-1
    )  # [samples, H, N]
    scaled = deviation / std
    for path in scaled:  # all steps and series of one window, one sign
        gaps = np.minimum(
            np.abs(path[None] - residuals).max(axis=(1, 2)),
            np.abs(path[None] + residuals).max(axis=(1, 2)),
        )
        assert gaps.min() < 1e-4


def test_residuals_that_persist_over_the_horizon_widen_the_totals_spread(per_series):
    """Calibration errors constant over the horizon (perfectly correlated steps): a path's
    total deviates by H times one error, not by sqrt(H) times it as independent steps would."""
    est = tiny(conformal_windows=20, conformal_step=2, verbose=0).fit(TRAIN, VALID)
    errors = torch.from_numpy(np.random.default_rng(0).standard_normal((20, 1, 3)))
    est.module_.conformal = ConformalScores.from_residuals(errors.expand(20, HORIZON, 3))
    paths = est.sample_paths(n_samples=3000, seed=1)
    forecast = est.predict()
    for j, series in enumerate(SERIES):
        total = (_matrix(paths, series) - forecast[series].to_numpy()).sum(axis=1)
        rms = np.sqrt(np.mean(errors[:, 0, j].numpy() ** 2)) * est.scaler_.std[j]
        assert total.std() == pytest.approx(HORIZON * rms, rel=0.08)  # not sqrt(H) * rms
        steps = _matrix(paths, series) - forecast[series].to_numpy()
        assert np.allclose(steps, steps[:, :1], atol=1e-5 * rms)  # every step moves together


def test_paths_survive_save_and_load(per_series, tmp_path):
    loaded = Forecaster.load(per_series.save(tmp_path / "f"))
    pd.testing.assert_frame_equal(
        loaded.sample_paths(n_samples=20, seed=2), per_series.sample_paths(n_samples=20, seed=2)
    )


def test_models_without_calibration_residuals_are_refused_naming_how_to_get_them(per_series):
    with pytest.raises(InputError, match=r"fitted without calibration windows .* "
                       r"Forecaster\(\.\.\., conformal_windows=k\)"):  # fmt: skip
        tiny(verbose=0).fit(TRAIN).sample_paths()
    with pytest.raises(InputError, match=r"loss='normal'\), which says nothing of how the steps"):
        tiny(loss="normal", verbose=0).fit(TRAIN).sample_paths()
    old = tiny(conformal_windows=20, conformal_step=2, verbose=0).fit(TRAIN, VALID)
    old.module_.conformal.signs = None  # scores saved before the signs were kept
    with pytest.raises(InputError, match=r"without the residuals' signs .* fit it again"):
        old.sample_paths()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 0}, r"n_samples takes a whole number >= 1, e.g. n_samples=200; got 0"),
        ({"n_samples": 2.5}, r"n_samples takes a whole number >= 1"),
        ({"n_samples": True}, r"n_samples takes a whole number >= 1"),
        ({"seed": -1}, r"seed takes a whole number >= 0"),
        ({"seed": "a"}, r"seed takes a whole number >= 0"),
        ({"n_samples": 10**8}, r"would hold .* values .* ask for fewer n_samples"),
    ],
)
def test_bad_requests_are_refused_with_the_fix(per_series, kwargs, message):
    with pytest.raises(InputError, match=message):
        per_series.sample_paths(**kwargs)


def test_darts_num_samples_points_to_sample_paths(per_series):
    with pytest.raises(InputError, match=r"f.sample_paths\(df, n_samples=200, seed=\.\.\.\)"):
        per_series.predict(num_samples=200)
    with pytest.raises(InputError, match=r"in tsfm: n_samples=200$"):
        per_series.sample_paths(num_samples=200)


def test_pooled_paths_shift_whole_windows_across_series():
    """Pooled scores (fewer than 19 windows): series j takes series j + c (cyclically) of the
    drawn window, so each series draws from the whole pool and a window stays together."""
    residuals = np.arange(1.0, 1 + 4 * 3 * 2).reshape(4, 3, 2)  # [k, H, C]: all distinct
    paths = draw(residuals, False, 2, 2000, np.random.default_rng(0))
    assert paths.shape == (2000, 3, 2)
    assert set(np.abs(paths[:, 0, 0])) == set(residuals[:, 0, :].ravel())  # the pool's
    shifted = [residuals[:, :, [c, (c + 1) % 2]] for c in (0, 1)]
    candidates = np.concatenate(shifted)  # [2k, H, 2]: every window, every shift
    for path in np.abs(paths):
        assert (np.abs(candidates - path[None]) < 1e-12).all(axis=(1, 2)).any()
    assert (np.sign(paths[:, 0, 0]) == np.sign(paths[:, 2, 1])).all()  # one sign per path


def test_a_missing_residual_is_drawn_from_its_steps_observed_ones():
    residuals = np.arange(1.0, 1 + 5 * 3 * 2).reshape(5, 3, 2)
    residuals[1, 2, 0] = np.nan  # a missing target of series 0, step 2, window 1
    paths = draw(residuals, True, 2, 2000, np.random.default_rng(0))
    assert not np.isnan(paths).any()
    from_window_1 = np.abs(paths[:, 0, 0]) == residuals[1, 0, 0]
    assert from_window_1.any()
    filled = np.abs(paths[from_window_1, 2, 0])
    assert set(filled) <= set(residuals[[0, 2, 3, 4], 2, 0])  # series 0's observed at step 2
    assert len(set(filled)) > 1


def test_scores_pickled_before_the_signs_were_kept_still_give_intervals_and_save(per_series):
    import pickle

    scores = per_series.module_.conformal
    state = {k: v for k, v in vars(scores).items() if k != "signs"}  # an older pickle's state
    old = ConformalScores.__new__(ConformalScores)
    old.__dict__.update(pickle.loads(pickle.dumps(state)))
    assert old.residuals is None and "signs" not in old.state_dict()
    assert torch.equal(old.radius(80.0), scores.radius(80.0))


def test_a_number_of_steps_is_refused_naming_sample_paths(per_series):
    with pytest.raises(
        TypeError, match=r"^sample_paths takes the frame .* \(horizon=8\); for 4 steps"
    ):
        per_series.sample_paths(4)
