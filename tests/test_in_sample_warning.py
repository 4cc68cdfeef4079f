"""evaluate warns (InSampleWarning, which a warnings filter silences) when windows forecast rows
the model was fitted on, saying how many reach its training and its validation rows; held-out
rows with the look-back before them score without it; the record survives save and load."""

from __future__ import annotations

import json
import warnings

import pytest

import tsfm
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import HORIZON, LOOKBACK, tiny, to_long
from tsfm import Forecaster
from tsfm.estimator.validation import SavedForecasterError

N_ROWS, FITTED, VALIDATION, START = 200, 150, 32, 80  # validation rows 118..149
WINDOWS = N_ROWS - START - LOOKBACK - HORIZON + 1  # targets from row 104 + w to 111 + w
IN_SAMPLE = FITTED - (START + LOOKBACK)  # first target at or before row 149: w <= 45
TRAINING = FITTED - VALIDATION - (START + LOOKBACK)  # first target before row 118: w <= 13
VALIDATED = IN_SAMPLE - (FITTED - VALIDATION - (START + LOOKBACK + HORIZON - 1))  # w >= 7


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame(N_ROWS)


@pytest.fixture(scope="module")
def validated(frame):
    return tiny(verbose=0, val_size=VALIDATION).fit(frame[:FITTED])


def test_evaluate_says_how_many_windows_reach_training_and_validation_rows(validated, frame):
    expected = (
        f"evaluate: {IN_SAMPLE} of {WINDOWS} windows forecast rows the model was fitted on .*: "
        f"{TRAINING} reach its training rows \\(from 2020-01-01 00:00:00\\), {VALIDATED} reach "
        "its validation rows \\(2020-01-05 22:00:00 to 2020-01-07 05:00:00\\), on which the fit "
        "chose the epoch it kept .* pass only the rows after 2020-01-07 05:00:00 and the "
        f"lookback \\({LOOKBACK}\\) rows before them; .* category=tsfm.InSampleWarning"
    )
    with pytest.warns(tsfm.InSampleWarning, match=expected):
        validated.evaluate(frame[START:])
    with pytest.warns(tsfm.InSampleWarning, match=f"{IN_SAMPLE} of {WINDOWS} windows"):
        validated.evaluate(frame[START:], per_series=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsfm.InSampleWarning)
        held_out = validated.evaluate(frame[FITTED - LOOKBACK :])  # nothing fitted is scored
        warnings.filterwarnings("ignore", category=tsfm.InSampleWarning)  # as the warning says
        validated.evaluate(frame[START:])
    assert held_out["windows"] == N_ROWS - FITTED - HORIZON + 1


def test_a_fit_without_validation_and_other_variates(frame):
    fitted = tiny(verbose=0).fit(frame[:FITTED])
    match = f"{FITTED - LOOKBACK - HORIZON + 1} of .* the rows it trained on \\(2020-01-01 00"
    with pytest.warns(tsfm.InSampleWarning, match=match):
        fitted.evaluate(frame[:FITTED])
    other = frame[:FITTED].rename(columns={"v0": "a", "v1": "b", "OT": "c"})
    with warnings.catch_warnings():  # series the model was not fitted on: not in-sample
        warnings.simplefilter("error", tsfm.InSampleWarning)
        fitted.evaluate(other)


def test_panels_compare_each_series_with_its_own_fitted_rows(frame):
    long = to_long(frame)
    fitted = tiny(verbose=0, mode="independent").fit(to_long(frame[:FITTED]))
    every = 3 * (FITTED - LOOKBACK - HORIZON + 1)
    with pytest.warns(tsfm.InSampleWarning, match=f"{every} of {every} windows .* trained on"):
        fitted.evaluate(long[long.ds < frame.date[FITTED]])
    later = long[long.ds >= frame.date[FITTED - LOOKBACK]]
    new = to_long(frame[:FITTED]).assign(unique_id=lambda d: "new-" + d.unique_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsfm.InSampleWarning)
        fitted.evaluate(later)
        fitted.evaluate(new)  # other series over the same timestamps


def test_the_record_is_saved_and_an_older_save_compares_with_its_end(validated, frame, tmp_path):
    folder = validated.save(tmp_path / "saved")
    with pytest.warns(tsfm.InSampleWarning, match=f"{VALIDATED} reach its validation rows"):
        Forecaster.load(folder).evaluate(frame[START:])
    meta = json.loads((folder / "forecaster.json").read_text())
    older = {k: v for k, v in meta.items() if k != "fitted_rows"}
    (folder / "forecaster.json").write_text(json.dumps(older))
    until = "they reach its training or validation rows up to 2020-01-07 05:00:00"
    with pytest.warns(tsfm.InSampleWarning, match=f"{IN_SAMPLE} of {WINDOWS} windows .*{until}"):
        Forecaster.load(folder).evaluate(frame[START:])
    (folder / "forecaster.json").write_text(json.dumps({**meta, "fitted_rows": {"end": "x"}}))
    with pytest.raises(SavedForecasterError, match="'fitted_rows' must hold start, validation"):
        Forecaster.load(folder)
