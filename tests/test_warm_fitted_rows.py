"""A warm fit adds its rows to the record of fitted rows (the weights have seen every fit's
rows): evaluate warns of windows on any fit's rows and backtest refuses folds on them, per
series for panels, also after save and load and from an older save's record."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest

import tsfm
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny, to_long
from tsfm import Forecaster

FIRST, SECOND = 100, 180  # the first fit's rows 0..99, the warm fit's rows 100..179


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame(240)


@pytest.fixture(scope="module")
def warm(frame):
    f = tiny(verbose=0, threads=1).fit(frame[:FIRST])
    return f.set_params(warm_start=True).fit(frame[FIRST:SECOND])


def _in_sample(f: Forecaster, df) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f.evaluate(df)
    found = [str(w.message) for w in caught if issubclass(w.category, tsfm.InSampleWarning)]
    return found[0] if found else ""


def test_evaluate_warns_of_every_window_on_the_first_fits_rows_after_a_warm_fit(warm, frame):
    every = FIRST - HORIZON + 1  # targets from row LOOKBACK: each reaches row 99 or a later fit
    message = _in_sample(warm, frame[: FIRST + LOOKBACK])
    assert f"{every} of {every} windows" in message
    assert "over its 2 fits" in message and "2020-01-01 00:00:00 to 2020-01-05 03:00:00" in message
    assert _in_sample(warm, frame[SECOND - LOOKBACK :]) == ""  # held out of both fits


@pytest.mark.filterwarnings("ignore::UserWarning")  # the scores' notes, not the point here
def test_backtest_refuses_folds_on_an_earlier_fits_rows(frame):
    f = tiny(verbose=0, threads=1).fit(frame[:SECOND])
    f.set_params(warm_start=True).fit(frame[:FIRST])  # the later fit ends earlier
    with pytest.raises(ValueError, match="fitted on rows up to 2020-01-08 11:00:00"):
        f.backtest(frame[:SECOND], n_windows=2, step=HORIZON)
    f.backtest(frame, n_windows=2, step=HORIZON)  # folds after both fits' rows


def test_the_merged_record_survives_save_load_and_pickle(warm, frame, tmp_path):
    folder = warm.save(tmp_path / "warm")
    for copy in (Forecaster.load(folder), pickle.loads(pickle.dumps(warm))):
        assert len(copy.fitted_rows_.fits()) == 2
        assert "over its 2 fits" in _in_sample(copy, frame[: FIRST + LOOKBACK])


def test_panels_keep_each_fits_series_and_a_series_in_both_gets_both_spans(frame):
    long = to_long(frame)
    first = long[long.unique_id.isin(["v0", "v1"]) & (long.ds < frame.date[FIRST])]
    later = long[long.unique_id.isin(["v1", "OT"]) & long.ds.between(*frame.date[[FIRST, 179]])]
    f = tiny(verbose=0, threads=1, mode="independent").fit(first)
    f.set_params(warm_start=True).fit(later)
    assert f.series_ == ["OT", "v1"]
    early = long[long.ds < frame.date[FIRST + LOOKBACK]]
    per_series = FIRST - HORIZON + 1
    # v0: windows on rows ..99; v1: every window (both fits); OT: windows reaching rows 100..
    message = _in_sample(f, early)
    assert f"{FIRST + per_series} of {3 * per_series} windows" in message
    with pytest.raises(ValueError, match="series 'v0': the first fold forecasts from"):
        f.backtest(long[long.unique_id == "v0"].head(FIRST), n_windows=2, step=HORIZON)
    rows = f.fitted_rows_.fits()
    assert [list(r.series) for r in rows] == [["OT", "v1"], ["v0", "v1"]]


def test_an_older_saves_record_without_series_or_fits_is_loaded(tmp_path, frame):
    long = to_long(frame[:FIRST])
    f = tiny(verbose=0, threads=1, mode="independent").fit(long)
    folder = f.save(tmp_path / "panel")
    meta = json.loads((folder / "forecaster.json").read_text())
    (fit,) = meta["fitted_rows"]
    older = {k: v for k, v in fit.items() if k != "series"}  # the dict of one fit, as saved
    (folder / "forecaster.json").write_text(json.dumps({**meta, "fitted_rows": older}))
    loaded = Forecaster.load(folder)
    assert list(loaded.fitted_rows_.fits()[0].series) == loaded.series_
    assert np.array_equal(loaded.fitted_rows_.end, f.fitted_rows_.end)
    every = 3 * (FIRST - LOOKBACK - HORIZON + 1)
    assert f"{every} of {every} windows" in _in_sample(
        loaded, long.groupby("unique_id").head(FIRST)
    )
    loaded.set_params(warm_start=True).fit(to_long(frame[FIRST:SECOND]))
    assert [list(r.series) for r in loaded.fitted_rows_.fits()] == [["OT", "v0", "v1"]] * 2
