"""A Forecaster that names its targets (or features=S) reads only the wide frame's columns it
keeps (the targets and the covariates named; after fitting, the fitted ones), as the command
line's features=S does: a missing value in a column without a role is neither read nor
refused, in fit and in every later predict, evaluate, backtest and cross_validate."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny

ROLES = {"targets": ["OT"], "past_covariates": ["v0"]}


@pytest.fixture(scope="module")
def frame():
    gappy = synthetic_frame(240)
    gappy["v1"] = gappy["v1"].where(gappy.index % 7 != 3)  # no role: never read
    return gappy


@pytest.mark.filterwarnings("ignore::UserWarning")  # the scores' notes, not the point here
def test_a_missing_value_in_a_column_without_a_role_is_not_refused(frame):
    f = tiny(verbose=0, threads=1, **ROLES).fit(frame[:160])
    assert f.input_columns_ == ["OT", "v0"]
    assert list(f.predict(frame[:160]).columns) == ["date", "OT"]
    assert f.evaluate(frame[160 - LOOKBACK :])["windows"] == 240 - 160 - HORIZON + 1
    f.backtest(frame, n_windows=2, step=HORIZON)
    _, folds = tiny(verbose=0, threads=1, **ROLES).cross_validate(frame, n_windows=2)
    assert len(folds) == 2


def test_a_missing_value_in_a_kept_column_is_still_refused(frame):
    gappy = frame.assign(v0=frame.v0.where(frame.index != 5))
    with pytest.raises(ValueError, match="column 'v0' has a NaN/missing value at row 5"):
        tiny(verbose=0, threads=1, **ROLES).fit(gappy)
    with pytest.raises(ValueError, match="column 'v1' has a NaN/missing value at row 3"):
        tiny(verbose=0, threads=1).fit(frame)  # every column is a target: all are read
    with pytest.raises(ValueError, match="column 'v1' has a NaN/missing value at row 3"):
        tiny(verbose=0, threads=1, data__features="MS", targets=["OT"]).fit(frame)  # v1: past
    f = tiny(verbose=0, threads=1, **ROLES).fit(frame[:160])
    with pytest.raises(ValueError, match="column 'v0' has a NaN/missing value at row 5"):
        f.evaluate(gappy)
    assert not np.isnan(f.history_.values).any()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_features_s_reads_only_its_target_at_fit_as_after_it(frame):
    for settings in ({"data__features": "S"}, {"overrides": ["data.features=S"]}):
        f = tiny(verbose=0, threads=1, **settings).fit(frame[:160])  # v1's gaps: not read
        assert f.input_columns_ == ["OT"]
        assert list(f.predict(frame[:160]).columns) == ["date", "OT"]
    f = tiny(verbose=0, threads=1, data__features="S", past_covariates=["v0"]).fit(frame)
    assert f.input_columns_ == ["OT", "v0"]
    with pytest.raises(ValueError, match="column 'v1' has a NaN/missing value at row 3"):
        tiny(verbose=0, threads=1, data__features="S").fit(frame[["date", "OT", "v1"]])
