"""A warm fit's validation rows: conformal calibration on rows an earlier fit held is
refused (in-sample errors, intervals too narrow), early stopping on them warns."""

from __future__ import annotations

import warnings

import pytest
import torch

import tsfm
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long


def test_a_warm_fit_refuses_to_calibrate_on_validation_rows_it_was_fitted_on():
    df = synthetic_frame(n_rows=500)
    f = tiny(threads=1, verbose=0, conformal_windows=3, val_size=60).fit(df.iloc[:300])
    scores = f.module_.conformal.scores.clone()
    f.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"conformal_windows=3 calibrates on the validation"):
        f.fit(df.iloc[:300])  # validation rows 240-299: fitted before
    with pytest.raises(ValueError, match=r"in-sample.*validate on rows after"):
        f.set_params(val_size=None).fit(df.iloc[:240], val_df=df.iloc[240:300])
    assert torch.equal(f.module_.conformal.scores, scores)  # left fitted as it was
    f.set_params(val_size=60).fit(df.iloc[200:400])  # validation rows 340-399: new
    assert f.fitted_rows_.fits()[0].validation[0] == df.date.to_numpy()[340]


def test_a_warm_fit_without_intervals_warns_of_validating_on_fitted_rows():
    df = synthetic_frame(n_rows=400)
    f = tiny(threads=1, verbose=0, val_size=60).fit(df.iloc[:300])
    f.set_params(warm_start=True)
    with pytest.warns(tsfm.InSampleWarning, match="early stopping and the epoch kept"):
        f.fit(df.iloc[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsfm.InSampleWarning)
        f.fit(df.iloc[100:])  # validation rows 340-399: new, no warning


def test_a_warm_panel_refuses_to_calibrate_on_a_series_fitted_validation_rows():
    long = to_long(synthetic_frame(n_rows=300))
    f = tiny(
        threads=1, verbose=0, mode="independent", conformal_windows=2, val_size=40, levels=[50]
    )
    f.fit(long[long.unique_id != "v0"])
    f.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"series \['OT', 'v1'\]"):
        f.fit(long)  # v0 is new; the others validate on their fitted rows again
    f.fit(long[long.unique_id == "v0"])  # a series no fit held
