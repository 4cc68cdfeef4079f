"""Static covariates at forecast time: the frame's values are used, new series are forecast
from theirs, and tsfm's warnings point at the caller's line."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tests.test_covariates import TINY_IT, panel_frame
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.pipeline import build_datamodule


@pytest.fixture(scope="module")
def panel_model() -> Forecaster:
    panel = panel_frame(lengths=(120, 90, 60), categories=("a", "b", "a"))
    return Forecaster(
        horizon=6, lookback=24, mode="independent", static_covariates=["store"], **TINY_IT
    ).fit(panel.drop(columns=["promo"]))


def _panel() -> pd.DataFrame:
    return panel_frame(lengths=(120, 90, 60), categories=("a", "b", "a")).drop(columns=["promo"])


def test_a_new_series_is_forecast_from_the_static_values_the_frame_gives(panel_model):
    panel = _panel()
    twin = panel[panel.unique_id == "s1"].assign(unique_id="new")  # s1's rows, store "b"
    forecast = panel_model.predict(pd.concat([panel, twin]))
    own = forecast[forecast.unique_id == "new"].y.to_numpy()
    np.testing.assert_allclose(own, forecast[forecast.unique_id == "s1"].y.to_numpy(), rtol=1e-5)
    scores = panel_model.evaluate(pd.concat([panel, twin]), per_series=True)
    assert list(scores.unique_id) == ["s0", "s1", "s2", "new"]
    np.testing.assert_allclose(scores.mae.iloc[3], scores.mae.iloc[1], rtol=1e-5)


def test_static_values_in_the_frame_are_the_ones_the_model_sees(panel_model):
    panel = _panel()
    before = panel_model.predict(panel)
    pd.testing.assert_frame_equal(before, panel_model.predict())  # the training values
    moved = panel_model.predict(panel.assign(store=np.where(panel.unique_id == "s0", "b", "a")))
    changed = (moved.y - before.y).abs().groupby(moved.unique_id).max()
    assert changed["s0"] > 1e-4 and changed["s2"] == 0  # only the changed series moves


def test_a_new_series_without_statics_or_with_an_unseen_category_is_handled(panel_model):
    panel = _panel()
    twin = panel[panel.unique_id == "s1"].assign(unique_id="new")
    with pytest.raises(ValueError, match="'new'.*not in training.*add the columns \\['store'\\]"):
        panel_model.predict(pd.concat([panel, twin.assign(store=None)]))  # none: not given
    with pytest.raises(ValueError, match="'new'.*not in training.*add the columns \\['store'\\]"):
        panel_model.predict(pd.concat([panel, twin]).drop(columns=["store"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecast = panel_model.predict(pd.concat([panel, twin.assign(store="z")]))
    assert np.isfinite(forecast.y).all()
    unseen = [w for w in caught if "categories ['z'] were not seen" in str(w.message)]
    assert len(unseen) == 1 and unseen[0].filename == __file__  # the caller's line


def test_joint_models_take_other_series_with_their_statics():
    panel = panel_frame(lengths=(100, 100, 100), categories=("a", "b", "a"))
    panel["ds"] = (
        panel.groupby("unique_id")
        .cumcount()
        .map(lambda k: pd.Timestamp("2021-01-01") + pd.Timedelta(hours=k))
    )  # shared timestamps: one multivariate series
    panel = panel.drop(columns=["promo"])
    est = Forecaster(horizon=6, lookback=24, static_covariates=["store"], **TINY_IT).fit(panel)
    more = pd.concat([panel, panel[panel.unique_id == "s1"].assign(unique_id="s3", store="a")])
    assert list(est.predict(more).unique_id.unique()) == ["s0", "s1", "s2", "s3"]
    fewer = est.predict(panel[panel.unique_id != "s2"])
    assert list(fewer.unique_id.unique()) == ["s0", "s1"]
    moved = est.predict(panel.assign(store="b"))
    assert (moved.y - est.predict(panel).y).abs().max() > 1e-4
    with pytest.raises(ValueError, match="'s3'.*not in training"):
        est.predict(more.drop(columns=["store"]))
    with_promo = panel_frame(lengths=(100, 100, 100)).drop(columns=["store"])
    with_promo["ds"] = panel["ds"].to_numpy()
    covariates = Forecaster(horizon=6, lookback=24, past_covariates=["promo"], **TINY_IT)
    covariates.fit(with_promo)
    new = with_promo[with_promo.unique_id == "s1"].assign(unique_id="s3")
    with pytest.raises(ValueError, match=r"has \['s3', 'promo\[s3\]'\].*mode='independent'"):
        covariates.predict(pd.concat([with_promo, new]))


def test_warnings_point_at_the_callers_line():
    frame = panel_frame(lengths=(80,), categories=("a",)).drop(columns=["promo", "store"])
    gappy = frame.drop(index=[30, 31])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Forecaster(horizon=6, lookback=24, missing="mask", max_epochs=1, **{
            k: v for k, v in TINY_IT.items() if k != "max_epochs"
        }).fit(gappy)  # fmt: skip
    absent = [w for w in caught if "absent step(s)" in str(w.message)]
    assert len(absent) == 1 and absent[0].filename == __file__


def test_static_df_gives_the_statics_of_the_frames_series_at_forecast_time(panel_model):
    panel = _panel()
    twin = panel[panel.unique_id == "s1"].assign(unique_id="new")
    frame = pd.concat([panel, twin])
    statics = frame.groupby("unique_id", as_index=False).store.first()
    expected = panel_model.predict(frame)
    pd.testing.assert_frame_equal(
        panel_model.predict(frame.drop(columns=["store"]), static_df=statics), expected
    )
    scores = panel_model.evaluate(frame.drop(columns=["store"]), per_series=True, static_df=statics)
    pd.testing.assert_frame_equal(scores, panel_model.evaluate(frame, per_series=True))
    alone, own = twin.drop(columns=["store"]), statics[statics.unique_id == "new"]
    folds = panel_model.backtest(alone, n_windows=2, static_df=own)  # a series not fitted on
    pd.testing.assert_frame_equal(
        folds.forecasts, panel_model.backtest(twin, n_windows=2).forecasts
    )
    polars = pl.from_pandas(frame.drop(columns=["store"]))
    forecast = panel_model.predict(polars, static_df=statics)  # pandas statics, polars frame
    np.testing.assert_allclose(forecast["y"].to_numpy(), expected.y.to_numpy())
    with pytest.raises(ValueError, match="both df and static_df hold \\['store'\\]"):
        panel_model.predict(frame, static_df=statics)
    with pytest.raises(ValueError, match="several rows for a series"):
        panel_model.predict(frame.drop(columns=["store"]), static_df=pd.concat([statics] * 2))
    with pytest.raises(ValueError, match="\\['region'\\] that are not static covariates"):
        panel_model.predict(frame.drop(columns=["store"]), static_df=statics.assign(region="x"))


def test_a_static_df_of_some_series_leaves_the_others_their_training_values(panel_model):
    panel = _panel().drop(columns=["store"])
    trained = panel_model.predict(panel)
    moved = pd.DataFrame({"unique_id": ["s0"], "store": ["b"]})  # s1 and s2 left out
    partial = panel_model.predict(panel, static_df=moved)
    every = panel_model.predict(
        panel, static_df=pd.DataFrame({"unique_id": ["s0", "s1", "s2"], "store": list("bba")})
    )
    pd.testing.assert_frame_equal(partial, every)
    assert not np.allclose(partial.y[partial.unique_id == "s0"], trained.y[:6])
    twin = panel[panel.unique_id == "s1"].assign(unique_id="new")
    with pytest.raises(ValueError, match=r"\['new'\] were not in training.*or the series to"):
        panel_model.predict(pd.concat([panel, twin]), static_df=moved)


def test_fit_refuses_a_static_df_with_unknown_columns_or_ids_of_another_type():
    frame = panel_frame(lengths=(80, 70), categories=("a", "b"))[["unique_id", "ds", "y"]]
    statics = pd.DataFrame({"unique_id": ["s0", "s1"], "store": ["a", "b"]})
    est = Forecaster(
        horizon=4, lookback=16, mode="independent", static_covariates=["store"], **TINY_IT
    )
    with pytest.raises(ValueError, match=r"static_df has column\(s\) \['extra'\] that are not"):
        est.fit(frame, static_df=statics.assign(extra=[1, 2]))  # as predict refuses it
    with pytest.raises(
        ValueError, match=r"ids \('unique_id'\) are int64 \(integer\) but the frame's"
    ):
        est.fit(frame, static_df=statics.assign(unique_id=[0, 1]))
    assert len(est.fit(frame, static_df=statics).predict(frame, static_df=statics)) == 8


def test_the_order_of_the_frames_rows_changes_nothing_the_model_learns(panel_model):
    panel = _panel()
    shuffled = panel.sample(frac=1.0, random_state=0).sort_values(
        "unique_id", ascending=False, kind="stable"
    )  # series in reverse, each one's rows shuffled
    first_seen = shuffled.unique_id.unique().tolist()
    assert first_seen != ["s0", "s1", "s2"]
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", static_covariates=["store"], **TINY_IT
    ).fit(shuffled)
    pd.testing.assert_frame_equal(est.predict(panel), panel_model.predict(panel))
    assert est.predict().unique_id.unique().tolist() == ["s0", "s1", "s2"]  # in id order
    assert est.predict(shuffled).unique_id.unique().tolist() == first_seen  # the frame's


@pytest.mark.parametrize(("column", "value"), [("store", None), ("size", np.nan)])
def test_a_missing_static_covariate_in_a_file_is_refused_naming_it(tmp_path, column, value):
    panel = _panel().assign(size=lambda d: d.unique_id.map({"s0": 1.0, "s1": 2.0, "s2": 3.0}))
    panel.loc[panel.unique_id == "s1", column] = value
    path = tmp_path / "panel.csv"
    panel.to_csv(path, index=False)
    settings = [f"data.path={path}", "data.id_col=unique_id", "data.date_col=ds", "data.target=y"]
    for mode in ("independent", "joint"):
        cfg = compose_config(
            "data=custom",
            *settings,
            f"data.mode={mode}",
            "data.missing=mask",
            "data.static_covariates=[store,size]",
        )
        with pytest.raises(ValueError, match=rf"static covariate '{column}' is missing for 1"):
            build_datamodule(cfg).setup()
