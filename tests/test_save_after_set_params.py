"""Training settings changed by ``set_params`` after a fit take effect at the next fit: a
save made then loads back with the fitted model intact (the same forecasts, config.yaml the
fit's) and the changed settings kept (``get_params``), and the next fit uses them. Files
edited so that they disagree are still refused."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tsfm import Forecaster

CHANGES = [
    {"seed": 7},
    {"lr": 1e-3},
    {"batch_size": 16},
    {"threads": 2},
    {"max_epochs": 3},
    {"precision": "bf16-mixed"},
    {"eval_batch_size": 64},
    {"warm_start": True, "lr": 1e-4, "verbose": 0},
]


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    return tiny(seed=1, threads=1, verbose=0).fit(synthetic_frame(200, 2))


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: ",".join(c))
def test_a_save_after_set_params_loads_the_fitted_model_with_the_new_settings(
    fitted, change, tmp_path
):
    est = pickle.loads(pickle.dumps(fitted))  # a copy: the fixture stays as fitted
    before, config = est.predict(), est.config_
    est.set_params(**change)
    params = est.get_params()
    loaded = Forecaster.load(est.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.predict(), before)  # the fitted model
    assert loaded.config_ == config  # as fitted (seed, trainer, batch sizes)
    assert loaded.get_params() == params  # and what the user set, for the next fit
    assert loaded.fitted_params_ == est.fitted_params_
    again = pickle.loads(pickle.dumps(loaded))
    assert again.get_params() == params and again.fitted_params_ == est.fitted_params_


def test_the_next_fit_after_loading_uses_the_settings_set_before_saving(fitted, tmp_path):
    est = pickle.loads(pickle.dumps(fitted))
    est.set_params(seed=7, trainer__max_epochs=2, optim__lr=2e-3)  # max_epochs goes
    assert "max_epochs" not in est.get_params()
    loaded = Forecaster.load(est.save(tmp_path / "m"))
    assert loaded.config_.seed == 1 and loaded.config_.trainer.max_epochs == 1
    loaded.fit(synthetic_frame(200, 2))
    assert loaded.config_.seed == 7 and loaded.config_.trainer.max_epochs == 2
    assert loaded.config_.optim.lr == 2e-3
    saved = json.loads((loaded.save(tmp_path / "n") / "forecaster.json").read_text())
    assert "fitted_params" not in saved  # a save of what was fitted: as before


def test_a_save_without_changes_writes_only_params_as_older_saves_do(fitted, tmp_path):
    meta = json.loads((fitted.save(tmp_path / "m") / "forecaster.json").read_text())
    assert "fitted_params" not in meta and meta["params"]["seed"] == 1


@pytest.fixture
def changed_save(fitted, tmp_path) -> Path:
    est = pickle.loads(pickle.dumps(fitted))
    return est.set_params(seed=7, lr=1e-3).save(tmp_path / "m")


def _edit(path: Path, change) -> None:
    meta = json.loads((path / "forecaster.json").read_text())
    change(meta)
    (path / "forecaster.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("change", "message"),
    [  # the fit's parameters must be config.yaml's; the saved ones change training only
        (lambda m: m["fitted_params"].update(seed=3), r"has seed=3 but the model was fitted"),
        (lambda m: m["params"].update(d_model=64), r"shape the model changed .*d_model=16 -> 64"),
        (lambda m: m["params"].update(horizon=4), r"pred_len differs between"),
        (lambda m: m["fitted_params"].update(data__path="/x.csv"), r"sets data.path"),
        (lambda m: m["fitted_params"].update(model="nope"), r"model 'nope' is not a registered"),
        (lambda m: m["fitted_params"].update(d_modle=8), r"unknown parameter 'd_modle'"),
    ],
)
def test_saved_parameters_edited_to_disagree_are_refused(changed_save, change, message):
    edited = Path(shutil.copytree(changed_save, changed_save.parent / "edited"))
    _edit(edited, change)
    with pytest.raises(ValueError, match=message):
        Forecaster.load(edited)


def test_removing_the_fitted_parameters_of_a_changed_save_is_refused(changed_save):
    _edit(changed_save, lambda m: m.pop("fitted_params"))
    with pytest.raises(ValueError, match=r"has seed=7 but the model was fitted with 1"):
        Forecaster.load(changed_save)
