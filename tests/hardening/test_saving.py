"""Saving is all or nothing: a save that fails leaves the previous one as it was (never a
folder mixing two models), and parameters are stored as plain values or refused by name."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import tsfm.estimator.saving as saving
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster

FRAME = synthetic_frame(240, 3)


@pytest.fixture(scope="module")
def models() -> tuple[Forecaster, Forecaster]:
    return tiny(seed=0).fit(FRAME), tiny(seed=5, max_epochs=2).fit(FRAME)


def test_a_save_failing_half_way_leaves_the_previous_save_intact(models, tmp_path, monkeypatch):
    old, new = models
    path = old.save(tmp_path / "model")
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def history_fails(est, folder, meta_text):
        real(est, folder, meta_text)
        raise OSError("disk full")

    real = saving.write_files
    monkeypatch.setattr(saving, "write_files", history_fails)
    with pytest.raises(OSError, match="disk full"):
        new.save(path, overwrite=True)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no partial folder left
    pd.testing.assert_frame_equal(Forecaster.load(path).predict(), old.predict())


def test_overwrite_replaces_the_whole_save_and_nothing_else(models, tmp_path):
    old, new = models
    path = old.save(tmp_path / "model")
    new.save(path, overwrite=True)
    pd.testing.assert_frame_equal(Forecaster.load(path).predict(), new.predict())
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match=r"does not write \(\['mine.txt'\]\)"):
        new.save(tmp_path / "notes", overwrite=True)
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep"


def test_paths_and_numpy_values_are_saved_as_plain_values(models, tmp_path):
    est = tiny(work_dir=tmp_path / "runs", lr=np.float64(1e-3), batch_size=np.int64(16))
    est.fit(FRAME)
    loaded = Forecaster.load(est.save(tmp_path / "model"))
    params = loaded.get_params()
    assert params["work_dir"] == str(tmp_path / "runs")
    assert type(params["lr"]) is float and type(params["batch_size"]) is int
    pd.testing.assert_frame_equal(loaded.predict(), est.predict())


def test_a_parameter_json_cannot_store_is_refused_by_name_before_any_file(models, tmp_path):
    old, new = models
    path = old.save(tmp_path / "model")
    saved = json.loads((path / "forecaster.json").read_text())
    new.set_params(work_dir=object())  # a training setting: the fitted model still predicts
    try:
        with pytest.raises(TypeError, match="cannot save parameter work_dir=<object"):
            new.save(path, overwrite=True)
        with pytest.raises(TypeError, match="parameter work_dir"):
            new.save(tmp_path / "other")
    finally:
        new.set_params(work_dir=None)
    assert json.loads((path / "forecaster.json").read_text()) == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
