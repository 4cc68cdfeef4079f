"""Conformal intervals of data with missing values (missing="mask"): a missing target in a
calibration window gives no score, each interval reads the scores observed for it, and a
series with too few observed scores is refused before training, by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny
from tsfm import Forecaster

FRAME = synthetic_frame(300, 3)


def _with_gaps(frame: pd.DataFrame, columns: str | list[str], rows: slice) -> pd.DataFrame:
    gappy = frame.copy()
    gappy.loc[gappy.index[rows], columns] = np.nan
    return gappy


def test_validation_windows_with_gaps_calibrate_on_their_observed_targets(tmp_path):
    gappy = _with_gaps(FRAME, "v1", slice(270, 271))  # in one calibration window per step
    est = tiny(missing="mask", val_size=80, conformal_windows=20, conformal_step=2)
    est.fit(gappy)
    conformal = est.module_.conformal
    assert conformal.per_series and conformal.scores.isnan().any()
    counts = conformal.counts.numpy()  # [steps, series]: v0 and OT keep all 20 windows
    assert (counts[:, [0, 2]] == 20).all() and sorted(set(counts[:, 1])) == [19, 20]
    # 19: enough for 95 % per series, as the plan checked before training
    forecast = est.predict(level=[80, 95])
    assert np.isfinite(forecast.filter(like="-").to_numpy()).all()
    loaded = Forecaster.load(est.save(tmp_path / "gaps"))  # NaN scores survive save/load
    pd.testing.assert_frame_equal(loaded.predict(level=[80, 95]), forecast)
    metrics = est.evaluate(gappy.iloc[200:])
    assert 0.0 <= metrics["coverage_80"] <= metrics["coverage_95"] <= 1.0


def test_a_series_without_observed_calibration_targets_is_refused_by_name():
    gone = _with_gaps(FRAME, "v1", slice(240, None))  # v1 missing over every calibration window
    with pytest.raises(ValueError, match=r"give 0 scores observed for \['v1'\] per series") as err:
        tiny(missing="mask", val_size=80, conformal_windows=20, conformal_step=2).fit(gone)
    assert "fill the gaps" in str(err.value)
    assert "levels [80, 95] are the defaults (levels unset): levels=[...]" in str(err.value)
    pooled = tiny(
        missing="mask", val_size=80, conformal_windows=8, conformal_step=HORIZON, levels=[80],
        quantiles=[0.1, 0.5, 0.9],
    )  # fmt: skip
    pooled.fit(gone)  # 8 windows < 19: pooled over the series, which v0 and OT fill
    assert pooled.module_.conformal.counts.min() == 16 and not pooled.module_.conformal.per_series
    assert np.isfinite(pooled.predict(level=[80])["v1-hi-80"]).all()


def test_the_refit_calibration_without_validation_reads_observed_errors_only():
    gappy = _with_gaps(FRAME, "OT", slice(250, 260))  # rows 252.. are calibration targets
    est = tiny(missing="mask", conformal_windows=6, conformal_step=HORIZON, levels=[80])
    est.fit(gappy)  # the last 6 training windows, forecast by a helper fitted before them
    scores = est.module_.conformal.scores
    assert scores.isnan().sum() == 8 and scores.shape == (6, HORIZON, 3)
    assert np.isfinite(est.predict(level=[80]).filter(like="-").to_numpy()).all()
    with pytest.raises(ValueError, match="observed"):  # a level the observed errors cannot give
        tiny(missing="mask", conformal_windows=2, conformal_step=HORIZON, levels=[80]).fit(
            _with_gaps(FRAME, ["v0", "OT"], slice(284, 300))  # 2 of 6 errors observed
        )


def test_a_series_without_observed_refit_errors_is_named_before_the_final_fit():
    gone = _with_gaps(FRAME, "v1", slice(250, None))  # nothing of v1 in the last windows
    with pytest.raises(ValueError, match=r"\['v1'\] have no observed target in the last 19"):
        tiny(missing="mask", conformal_windows=19, conformal_step=1, levels=[80]).fit(gone)
    pooled = tiny(
        missing="mask", conformal_windows=6, conformal_step=HORIZON, levels=[80],
        quantiles=[0.1, 0.5, 0.9],
    )  # fmt: skip
    pooled.fit(gone)  # 6 windows < 19: pooled, v0 and OT give the scores
    assert not pooled.module_.conformal.per_series
    assert (pooled.module_.conformal.counts == 12).all()


@pytest.mark.parametrize("validate", [True, False])
def test_default_levels_narrow_to_the_scores_the_gaps_leave(validate):
    """Left unset, levels and quantiles keep what the observed scores give, as they keep what
    the windows give (validation rows, or the refit on the training rows' end)."""
    gappy = _with_gaps(FRAME, "v1", slice(270, 276))  # 3 of the 20 windows miss each target
    held_out = {"val_size": 80} if validate else {}
    est = tiny(missing="mask", conformal_windows=20, conformal_step=2, **held_out).fit(gappy)
    assert int(est.module_.conformal.counts.min()) == 17  # central intervals up to 94.4 %
    assert list(est.config_.levels) == [80.0]
    assert list(est.config_.quantiles) == [0.05, *np.round(np.arange(0.1, 0.95, 0.1), 1), 0.95]
    assert np.isfinite(est.predict(level=[80], quantiles=True).filter(like="-")).all().all()
    refusal = r"asks for levels \[95\]" if validate else r"a 95 % conformal interval needs"
    with pytest.raises(ValueError, match=refusal):
        tiny(
            missing="mask", conformal_windows=20, conformal_step=2, levels=[80, 95], **held_out
        ).fit(gappy)  # levels the user set are kept, and refused


def test_an_independent_panel_narrows_its_default_levels_to_the_pooled_observed_scores():
    from tests.test_covariates import TINY_IT, panel_frame

    panel = panel_frame(lengths=(160, 140, 120)).drop(columns=["store", "promo"])
    for series in ("s0", "s1"):  # gaps in two series' last validation windows
        panel.loc[panel.index[panel.unique_id == series][-22:-2], "y"] = np.nan
    est = Forecaster(
        horizon=6, lookback=24, mode="independent", val_size=40, conformal_windows=8,
        conformal_step=4, missing="mask", **TINY_IT,
    ).fit(panel)  # fmt: skip
    assert int(est.module_.conformal.counts.min()) == 14  # of 24 pooled: up to 93.3 %
    assert list(est.config_.levels) == [80.0] and est.config_.quantiles[0] == 0.05
    assert np.isfinite(est.predict(level=[80])["y-hi-80"]).all()
