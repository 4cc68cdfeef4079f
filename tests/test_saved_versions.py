"""Loading a saved Forecaster: a refusal names the tsfm that saved the folder (and says to
upgrade when that one is newer); a save from before roles loads; ``~`` is the home folder;
``val_size`` too small says how to fit without validation."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import tsfm
from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "model"
    frame = synthetic_frame(150, 2)
    tiny().fit(frame).save(folder)
    return folder, frame


def edited(saved, tmp_path, forecaster=None, versions=None):
    folder = tmp_path / "model"
    shutil.copytree(saved[0], folder)
    meta = json.loads((folder / "forecaster.json").read_text())
    if forecaster:
        forecaster(meta)
        (folder / "forecaster.json").write_text(json.dumps(meta))
    if versions is not None:
        (folder / "versions.json").write_text(versions)
    return folder


def new_param(meta):
    meta["params"]["new_param"] = 1


def test_a_save_by_a_newer_tsfm_says_so_and_to_upgrade(saved, tmp_path):
    newer = json.dumps({"tsfm": "99.0.0", "torch": "9.0"})
    folder = edited(saved, tmp_path, new_param, newer)
    with pytest.raises(ValueError, match=r"unknown parameter 'new_param'.*It was saved by tsfm "
                       rf"99.0.0 \(its versions.json\), newer than this tsfm {tsfm.__version__}.*"
                       r"upgrade tsfm to 99.0.0 or later to load it$"):  # fmt: skip
        Forecaster.load(folder)
    shutil.rmtree(folder)
    folder = edited(saved, tmp_path, lambda meta: meta.update(format=2), newer)
    with pytest.raises(ValueError, match=r"forecaster.json has format 2, newer than format 1, "
                       r"which this tsfm reads\. It was saved by tsfm 99.0.0"):  # fmt: skip
        Forecaster.load(folder)


def test_a_refusal_names_the_version_that_saved_it_and_ignores_a_bad_versions_json(saved, tmp_path):
    folder = edited(saved, tmp_path, new_param)  # versions.json as saved: this tsfm's
    with pytest.raises(ValueError, match=rf"'new_param'.*\(saved by tsfm {tsfm.__version__}, "
                       rf"its versions.json says; this is tsfm {tsfm.__version__}\)$") as err:  # fmt: skip
        Forecaster.load(folder)
    assert "upgrade" not in str(err.value)
    for bad in ('{"tsfm": NaN}', '{"tsfm": "99.0.0"', '{"tsfm": "$(rm -rf ~)"}', "[1]"):
        (folder / "versions.json").write_text(bad)
        with pytest.raises(ValueError) as err:
            Forecaster.load(folder)
        assert "versions.json" not in str(err.value)  # not a version: not named


def test_a_save_without_roles_loads_with_every_column_a_target(saved, tmp_path):
    folder = edited(saved, tmp_path, lambda meta: meta.pop("roles"))
    loaded, original = Forecaster.load(folder), Forecaster.load(saved[0])
    assert loaded.roles_ == original.roles_
    pd.testing.assert_frame_equal(loaded.predict(), original.predict())


def test_a_home_folder_path_is_expanded_on_save_and_load(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # unexpanded, "~" would be a folder here
    model = Forecaster.load(saved[0])
    model.save("~/models/m")
    assert (tmp_path / "models" / "m" / "forecaster.json").is_file()
    pd.testing.assert_frame_equal(Forecaster.load("~/models/m").predict(), model.predict())
    with pytest.raises(FileNotFoundError, match=r"models/absent does not exist"):
        Forecaster.load("~/models/absent")


def test_a_validation_too_small_names_val_size_none(saved):
    with pytest.raises(ValueError, match=r"val_size=0 holds out 0 rows.*or pass val_size=None "
                       "to fit without validation"):  # fmt: skip
        tiny(val_size=0).fit(saved[1])
