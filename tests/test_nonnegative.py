"""``nonnegative``: intermittent demand (counts, mostly zeros) forecast by a point model
goes below zero (points, interval bounds, quantiles, sample paths, the forecasts evaluate and
backtest score); the setting floors every one of them at zero on the original scale, keeps the
quantiles' order, leaves other targets bit for bit as they were, is refused for a target with
negative training values, and is saved (tsfm/training/nonnegative.py, estimator/floors.py)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.helpers.estimator import tiny, to_long
from tsfm import Forecaster, InputError
from tsfm.config import RunConfig
from tsfm.training.heads import make_head
from tsfm.training.nonnegative import floor
from tsfm.training.scoring import DEFAULT_QUANTILES

pytestmark = pytest.mark.filterwarnings("ignore:fit. the fitted model.s validation loss")


def demand_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Two intermittent counts and a price around zero (which may be negative), daily."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", periods=n, freq="D")
    rate = np.array([0.1, 0.2, 0.3, 0.3, 0.6, 1.2, 0.4])[days.dayofweek]
    return pd.DataFrame(
        {
            "date": days,
            "demand": rng.poisson(rate).astype(float),
            "spares": rng.poisson(rate / 2).astype(float),
            "price": np.sin(np.arange(n) / 5.0) + 0.3 * rng.standard_normal(n),
        }
    )


FRAME = demand_frame()
TRAIN, VALID, TEST = FRAME.iloc[:200], FRAME.iloc[200:260], FRAME.iloc[228:]
MARKED, OTHER = ["demand", "spares"], "price"
LEVELS, TAUS = [80, 95], [0.1, 0.5, 0.9]


@pytest.fixture(scope="module")
def floored() -> Forecaster:
    return tiny(conformal_windows=20, conformal_step=1, nonnegative=MARKED, verbose=0).fit(
        TRAIN, VALID
    )


@pytest.fixture(scope="module")
def model_own(floored) -> Forecaster:
    """The same weights with the setting off: the model's own forecasts."""
    own = copy.deepcopy(floored)
    own.config_.nonnegative = False
    return own


def _columns(frame: pd.DataFrame, name: str) -> list[str]:
    return [c for c in frame.columns if c == name or c.startswith(f"{name}-")]


def _check_floored(on: pd.DataFrame, off: pd.DataFrame, marked=MARKED, other=(OTHER,)) -> None:
    """``on`` is ``off`` with the marked columns floored at zero, the others identical; and
    ``off`` goes below zero there (else nothing would be shown)."""
    marked_cols = [c for name in marked for c in _columns(off, name)]
    assert (off[marked_cols].to_numpy() < 0).any(), "the model's own never go below zero"
    for name in marked:
        cols = _columns(off, name)
        np.testing.assert_array_equal(on[cols].to_numpy(), np.maximum(off[cols].to_numpy(), 0))
    for name in other:
        cols = _columns(off, name)
        np.testing.assert_array_equal(on[cols].to_numpy(), off[cols].to_numpy())  # bit for bit


def test_predict_floors_points_intervals_and_quantiles_of_the_marked_targets(floored, model_own):
    on = floored.predict(level=LEVELS, quantiles=TAUS)
    off = model_own.predict(level=LEVELS, quantiles=TAUS)
    _check_floored(on, off)
    assert (on[_columns(on, OTHER)].to_numpy() < 0).any()  # a price may go below zero
    for name in MARKED:  # the order of the quantiles and of the bounds stays
        q = on[[f"{name}-q-{t}" for t in TAUS]].to_numpy()
        assert (np.diff(q, axis=1) >= 0).all()
        bounds = [f"{name}-lo-95", f"{name}-lo-80", f"{name}-hi-80", f"{name}-hi-95"]
        assert (np.diff(on[bounds].to_numpy(), axis=1) >= 0).all()


def test_predict_after_a_frame_and_beyond_the_horizon_is_floored(floored, model_own):
    _check_floored(floored.predict(TEST), model_own.predict(TEST))
    rolled = floored.predict(steps=20)
    assert (rolled[MARKED].to_numpy() >= 0).all()


def test_sample_paths_are_floored(floored, model_own):
    on = floored.sample_paths(n_samples=40, seed=3)
    off = model_own.sample_paths(n_samples=40, seed=3)
    marked = on.unique_id.isin(MARKED).to_numpy()
    assert (off.y.to_numpy()[marked] < 0).any()
    expected = np.where(marked, np.maximum(off.y.to_numpy(), 0), off.y.to_numpy())
    np.testing.assert_array_equal(on.y.to_numpy(), expected)


def _wide(forecasts: pd.DataFrame, time_col: str = "date") -> pd.DataFrame:
    """evaluate's/backtest's long forecasts, one column per (series, value)."""
    values = [c for c in forecasts.columns if c == "forecast" or c.startswith("forecast-")]
    keys = [time_col, "cutoff", "step"]
    out = forecasts.pivot_table(index=keys, columns="unique_id", values=values)
    out.columns = [f"{s}{'' if v == 'forecast' else v[8:]}" for v, s in out.columns]
    return out.reset_index(drop=True)


def test_evaluate_scores_the_floored_forecasts(floored, model_own):
    on, on_rows = floored.evaluate(TEST, return_forecasts=True, per_series=True)
    off, off_rows = model_own.evaluate(TEST, return_forecasts=True, per_series=True)
    _check_floored(_wide(on_rows), _wide(off_rows))
    demand = on_rows[on_rows.unique_id == "demand"]
    mae = float((demand.forecast - demand.y).abs().mean())
    scores = on.set_index("unique_id")
    assert scores.loc["demand", "mae"] == pytest.approx(mae, rel=1e-12)  # its own units
    # flooring moves each forecast towards non-negative actuals: no worse, and here better
    own = off.set_index("unique_id")
    for name in MARKED:
        assert scores.loc[name, "mae"] < own.loc[name, "mae"]
        assert scores.loc[name, "coverage_80"] >= own.loc[name, "coverage_80"]
        assert scores.loc[name, "width_80"] < own.loc[name, "width_80"]
    assert scores.loc[OTHER, "mae"] == own.loc[OTHER, "mae"]
    pooled_on, pooled_off = floored.evaluate(TEST), model_own.evaluate(TEST)
    assert pooled_on["mae"] < pooled_off["mae"]  # the scaled scores read the floored ones too


def test_backtest_and_cross_validate_score_the_floored_forecasts(floored, model_own):
    on, _ = floored.backtest(TEST, n_windows=3, step=8)
    off, _ = model_own.backtest(TEST, n_windows=3, step=8)
    _check_floored(_wide(on), _wide(off))
    folds, _ = (
        tiny(nonnegative=True, verbose=0)
        .fit(TRAIN[MARKED + ["date"]])
        .cross_validate(FRAME[MARKED + ["date"]], n_windows=2, step=8, refit=False)
    )
    assert (folds.forecast >= 0).all()


def test_off_is_the_default_and_changes_nothing(floored, model_own):
    assert Forecaster().get_params().get("nonnegative") is None  # not a parameter unless given
    assert OmegaConf.structured(RunConfig).nonnegative is False
    values = np.array([[-1.0, 2.0], [0.5, -0.0]])
    assert floor(values, np.zeros(2, dtype=bool)) is values  # nothing marked: the same array
    assert floor(values, np.array([True, False])).tolist() == [[0.0, 2.0], [0.5, -0.0]]


def test_flooring_keeps_quantiles_in_order_and_never_loses_coverage():
    rng = np.random.default_rng(0)
    quantiles = np.sort(rng.normal(size=(500, 3, 5)), axis=-1)  # [H, N, Q] in order
    mask = np.array([True, True, False])
    out = floor(quantiles, mask, quantiles=True)
    assert (np.diff(out, axis=-1) >= 0).all()
    assert (out[:, :2] >= 0).all() and (out[:, 2] == quantiles[:, 2]).all()
    actual = np.maximum(rng.normal(size=(500, 3)), 0)  # non-negative outcomes
    inside = (quantiles[..., 0] <= actual) & (actual <= quantiles[..., -1])
    inside_floored = (out[..., 0] <= actual) & (actual <= out[..., -1])
    assert (inside_floored >= inside).all()  # what was covered stays covered
    assert (out[..., -1] - out[..., 0] <= quantiles[..., -1] - quantiles[..., 0]).all()


def test_a_marked_target_with_negative_training_values_is_refused():
    with pytest.raises(InputError) as err:
        tiny(nonnegative=True, verbose=0).fit(TRAIN)
    below = int((TRAIN.price < 0).sum())
    first = TRAIN.date[TRAIN.price < 0].iloc[0].strftime("%Y-%m-%d")
    message = str(err.value)
    assert "'price'" in message and f"{below} of its training values" in message
    assert first in message and "nonnegative=[...]" in message
    with pytest.raises(InputError, match=r"nonnegative names \['sale'\], which are not targets"):
        tiny(nonnegative=["sale"], verbose=0).fit(TRAIN)
    with pytest.raises(InputError, match="must be True, False or a list of target columns"):
        tiny(nonnegative="demand", verbose=0).fit(TRAIN)
    panel = to_long(TRAIN.drop(columns=MARKED))  # one series, price: a panel's target
    with pytest.raises(InputError, match="target 'y' of series 'price' is marked nonnegative"):
        tiny(nonnegative=["y"], mode="independent", verbose=0).fit(panel)


def test_a_saved_forecaster_keeps_the_setting_and_an_older_save_loads_off(floored, tmp_path):
    path = floored.save(tmp_path / "model")
    loaded = Forecaster.load(path)
    assert list(loaded.config_.nonnegative) == MARKED
    on = loaded.predict(level=LEVELS)
    pd.testing.assert_frame_equal(on, floored.predict(level=LEVELS), check_exact=True)
    assert (on[_columns(on, "demand")].to_numpy() >= 0).all()
    config = OmegaConf.load(path / "config.yaml")  # as saved before the setting existed
    del config["nonnegative"]
    OmegaConf.save(config, path / "config.yaml")
    meta = json.loads((path / "forecaster.json").read_text())
    del meta["params"]["nonnegative"]
    (path / "forecaster.json").write_text(json.dumps(meta))
    old = Forecaster.load(path)
    assert old.config_.nonnegative is False
    own = copy.deepcopy(floored)
    own.config_.nonnegative = False
    expected = own.predict(level=LEVELS)
    pd.testing.assert_frame_equal(old.predict(level=LEVELS), expected, check_exact=True)
    assert (expected[_columns(expected, "demand")].to_numpy() < 0).any()


def test_panels_floor_their_forecasts_and_scores():
    long = to_long(FRAME[["date", *MARKED]])
    fitted = tiny(nonnegative=True, mode="independent", loss="quantile", verbose=0)
    fitted.fit(long[long.ds < FRAME.date[200]])
    own = copy.deepcopy(fitted)
    own.config_.nonnegative = False
    on, off = fitted.predict(level=[80]), own.predict(level=[80])
    cols = ["y", "y-lo-80", "y-hi-80"]
    assert (off[cols].to_numpy() < 0).any()
    np.testing.assert_array_equal(on[cols].to_numpy(), np.maximum(off[cols].to_numpy(), 0))
    _, rows = fitted.evaluate(long, return_forecasts=True)
    assert (rows.forecast >= 0).all()


def test_count_likelihoods_of_other_libraries_point_to_nonnegative():
    with pytest.raises(InputError, match=r"darts' name.*nonnegative=True"):
        Forecaster(horizon=8, likelihood="poisson")
    with pytest.raises(InputError, match=r"Count distributions are not offered.*nonnegative"):
        make_head("negative_binomial", DEFAULT_QUANTILES, None)
    with pytest.raises(InputError) as err:
        make_head("hinge", DEFAULT_QUANTILES, None)
    assert "nonnegative" not in str(err.value)


def test_panel_sample_paths_are_the_model_own_paths_floored():
    """Paths of an independent panel: drawn around the model's own forecast, then floored
    (flooring the point first would shift every path up)."""
    long = to_long(FRAME[["date", *MARKED]])
    fitted = tiny(
        nonnegative=True, mode="independent", val_size=40, conformal_windows=10, conformal_step=1
    )
    fitted.set_params(verbose=0).fit(long[long.ds < FRAME.date[200]])
    own = copy.deepcopy(fitted)
    own.config_.nonnegative = False
    on, off = fitted.sample_paths(n_samples=30, seed=1), own.sample_paths(n_samples=30, seed=1)
    assert (off.y.to_numpy() < 0).any()
    np.testing.assert_array_equal(on.y.to_numpy(), np.maximum(off.y.to_numpy(), 0))


def test_a_joint_long_frame_s_target_marks_every_series_even_one_named_as_it():
    """The target column's name marks every series of a joint long frame, decided by the
    fit's mode: a series whose id is the target column's name ('y') changes nothing."""
    long = to_long(FRAME[["date", *MARKED]]).replace({"unique_id": {"spares": "y"}})
    assert sorted(long.unique_id.unique()) == ["demand", "y"]
    fitted = tiny(nonnegative=["y"], loss="quantile", verbose=0).fit(
        long[long.ds < FRAME.date[200]]
    )
    own = copy.deepcopy(fitted)
    own.config_.nonnegative = False
    on, off = fitted.predict(level=[80]), own.predict(level=[80])
    cols = ["y", "y-lo-80", "y-hi-80"]
    assert (off.loc[off.unique_id == "demand", cols].to_numpy() < 0).any()
    np.testing.assert_array_equal(on[cols].to_numpy(), np.maximum(off[cols].to_numpy(), 0))
    bad = long.assign(
        y=np.where((long.unique_id == "demand") & (long.ds == FRAME.date[5]), -1.0, long.y)
    )
    with pytest.raises(InputError, match=r"target 'demand' is marked nonnegative, but 1 of"):
        tiny(nonnegative=["y"], max_epochs=1, verbose=0).fit(bad)
