"""Conformal calibration of a warm fit without validation rows: the helper that gives the
calibration errors is warm-started as the fit is (the fitted weights, the kept scaler) and
trains on the rows before the calibration windows, which must forecast rows the fitted model
never saw."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import tsfm.estimator.calibration as calibration
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, tiny
from tests.test_warm_start import TINY_LR, _close, _weights


@pytest.fixture
def helpers(monkeypatch):
    """The helper models the calibration forecasts its windows with."""
    seen: list = []
    backtest = calibration.backtest

    def spy(helper, *args, **kwargs):
        seen.append(copy.deepcopy(helper))
        return backtest(helper, *args, **kwargs)

    monkeypatch.setattr(calibration, "backtest", spy)
    return seen


def test_a_warm_fits_calibration_helper_starts_from_the_fitted_weights_and_scaler(helpers):
    df = synthetic_frame(n_rows=500)
    f = tiny(threads=1, verbose=0, lr=5e-3, conformal_windows=5, conformal_step=HORIZON)
    f.fit(df.iloc[:300])
    weights, mean, std = _weights(f), f.scaler_.mean.copy(), f.scaler_.std.copy()
    helpers.clear()
    f.set_params(warm_start=True, lr=TINY_LR).fit(df.iloc[250:])  # weights that cannot move
    (helper,) = helpers
    assert _close(weights, _weights(helper))  # not a fresh model
    assert (helper.scaler_.mean == mean).all() and (helper.scaler_.std == std).all()
    # it trained on the rows before the first calibration window only (5 windows of 8)
    assert helper.history_.times[-1] == df.date.to_numpy()[-1 - 5 * 8]


def test_a_warm_fit_refuses_calibration_windows_on_rows_the_fitted_model_saw():
    df = synthetic_frame(n_rows=400)
    f = tiny(threads=1, verbose=0, conformal_windows=5, conformal_step=HORIZON).fit(df.iloc[:300])
    scores = f.module_.conformal.scores.clone()
    f.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"in-sample.*come after 2020-01-13 11:00:00") as info:
        f.fit(df.iloc[:320])  # two of the five windows forecast rows after the fitted ones
    assert "fewer conformal_windows (the last 2 forecast later rows)" in str(info.value)
    assert torch.equal(f.module_.conformal.scores, scores)  # left fitted as it was
    f.fit(df.iloc[100:])  # all five after them: calibrated
    assert np.isfinite(f.module_.conformal.scores.numpy()).all()


def test_every_earlier_fit_counts_when_a_warm_fit_calibrates_again_on_old_rows():
    df = synthetic_frame(n_rows=700)
    f = tiny(threads=1, verbose=0, conformal_windows=5).fit(df.iloc[:300])
    f.set_params(warm_start=True).fit(df.iloc[300:600])  # calibrates on rows 572-599: new
    with pytest.raises(ValueError, match="in-sample") as info:
        f.fit(df.iloc[:300])  # the first fit's rows again (not the latest fit's): seen
    assert "come after 2020-01-25 23:00:00" in str(info.value)  # the latest fitted row
