"""``Forecaster.tune`` with ``warm_start=True``: every trial fine-tunes the same fitted weights
(a trial's value is the warm fit's with its settings), settings that change the model are
refused before the first trial, and a stored study records the weights it starts from."""

from __future__ import annotations

import copy

import pytest
import torch
from sklearn.base import clone

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import Forecaster
from tsfm.errors import InputError

KW = {"val_size": 0.2, "threads": 1, "verbose": 0, "lr": 5e-3}
SPACE = {"lr": [1e-3]}  # one choice: every trial draws it, from the same start


def _weights(f: Forecaster) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in f.module_.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _fitted(df, epochs: int = 2) -> Forecaster:
    f = tiny(max_epochs=epochs, **KW).fit(df.iloc[:300])
    return f.set_params(warm_start=True, max_epochs=1)


def test_every_trial_is_a_warm_fit_from_the_same_fitted_weights():
    df = synthetic_frame(n_rows=400)
    f = _fitted(df)
    warm = copy.deepcopy(f).set_params(lr=1e-3).fit(df)
    fresh = copy.deepcopy(f).set_params(lr=1e-3, warm_start=False).fit(df)
    value = warm.fit_metrics_["val/best_loss"]
    assert value != pytest.approx(fresh.fit_metrics_["val/best_loss"], rel=1e-3)

    f.tune(df, n_trials=2, search_space=SPACE, pruner="none")
    trials = [t.value for t in f.study_.trials]
    assert trials == pytest.approx([value, value], rel=1e-6)  # the 2nd not from the 1st's
    assert f.warm_start is True and f.get_params()["lr"] == 1e-3
    assert f.fit_metrics_["val/best_loss"] == pytest.approx(value, rel=1e-6)
    assert _same(_weights(f), _weights(warm))  # the best trial's fine-tuned model
    assert repr(f.fitted_rows_) == repr(warm.fitted_rows_)  # the first fit's rows too
    assert f.study_.study_name.endswith("_warm")


def test_settings_that_change_the_model_are_refused_and_the_model_kept():
    df = synthetic_frame(n_rows=400)
    f = _fitted(df)
    before, params = _weights(f), f.get_params()
    for space in (
        {"d_model": [8, 16]},
        {"lookback": [24, 48]},
        {"optim": "choice(adam_halving, adamw_cosine)"},
    ):
        with pytest.raises(InputError, match="warm_start=True: tune fine-tunes.*change the model"):
            f.tune(df, n_trials=1, search_space=space)
    with pytest.raises(InputError, match="default search space.*set_params\\(warm_start=False\\)"):
        f.tune(df, n_trials=1)
    assert _same(_weights(f), before) and f.get_params() == params


def test_without_refit_the_fitted_model_stays_and_its_next_fit_repeats_the_best(tmp_path):
    df = synthetic_frame(n_rows=400)
    f = _fitted(df)
    before = _weights(f)
    f.tune(df, n_trials=1, search_space=SPACE, pruner="none", refit=False)
    assert _same(_weights(f), before) and f.get_params()["lr"] == 1e-3 and f.val_size == 0.2
    best = f.study_.best_value
    assert f.fit(df).fit_metrics_["val/best_loss"] == pytest.approx(best, rel=1e-6)


def test_a_stored_warm_study_refuses_other_starting_weights(tmp_path):
    df = synthetic_frame(n_rows=400)
    options = {"search_space": SPACE, "pruner": "none", "output_dir": tmp_path}
    _fitted(df).tune(df, n_trials=1, **options)
    other = _fitted(df, epochs=3)  # other fitted weights, the same settings
    with pytest.raises(InputError, match="warm_start_weights_sha256"):
        other.tune(df, n_trials=2, **options)


def test_a_panel_is_tuned_from_its_fitted_weights_too():
    df = to_long(synthetic_frame(n_rows=400))
    f = tiny(max_epochs=2, mode="independent", **KW).fit(df.groupby("unique_id").head(300))
    f.set_params(warm_start=True, max_epochs=1)
    warm = copy.deepcopy(f).set_params(lr=1e-3).fit(df)
    f.tune(df, n_trials=1, search_space=SPACE, pruner="none")
    assert f.study_.best_value == pytest.approx(warm.fit_metrics_["val/best_loss"], rel=1e-6)
    assert _same(_weights(f), _weights(warm))


def test_without_warm_start_tune_replaces_the_fitted_model_and_keeps_the_other_settings():
    df = synthetic_frame(n_rows=400)
    f = tiny(max_epochs=1, dropout=0.1, **{**KW, "val_size": None}).fit(df.iloc[:300])
    before, params = _weights(f), f.get_params()
    f.tune(df, n_trials=1, search_space=SPACE, pruner="none")
    assert f.get_params() == {**params, "lr": 1e-3, "val_size": 0.2}  # nothing else changed
    assert not _same(_weights(f), before)  # a fresh model, on df only:
    assert repr(f.fitted_rows_) == repr(clone(f).fit(df).fitted_rows_)
