"""What a study refuses before its first trial: a metric no trial reports, a search over the
scaling (data.scale, data.scaler), and settings of ``Forecaster.tune`` that it spells
otherwise or has no use for (the search-space values a model or optimizer rejects:
tests/hardening/test_search_space.py)."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_tune import SPACE, study_config
from tsfm.errors import InputError
from tsfm.estimator.search_checks import check_space
from tsfm.tuning.checks import refuse_unit_changes
from tsfm.tuning.config_study import tune
from tsfm.tuning.space import parse_space


@pytest.mark.parametrize(
    ("metric", "hint"),
    [("val/bestloss", "did you mean val/best_loss?"), ("test/mse", "a trial never tests")],
)
def test_a_metric_no_trial_reports_is_refused_before_the_study(tmp_path, metric, hint):
    cfg, overrides = study_config(tmp_path / "cli", "tune.n_trials=1", f"tune.metric={metric}")
    with pytest.raises(ValueError, match=f"^tune.metric='{metric}' is not a value a trial") as err:
        tune(cfg, overrides)
    assert hint in str(err.value) and "val/best_loss: the best epoch's" in str(err.value)
    with pytest.raises(ValueError, match=f"^metric='{metric}' is not a value a trial reports"):
        tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space=SPACE, metric=metric,
                    output_dir=tmp_path / "py")  # fmt: skip
    assert not (tmp_path / "cli").exists() and not (tmp_path / "py").exists()  # no trial


def test_forecaster_tune_refuses_the_command_lines_spellings_and_lists_what_works(tmp_path):
    est, frame = tiny(), synthetic_frame(150, 2)
    for options, message in [
        ({"params": {"model.n_layers": "choice(1)"}}, r"^tune does not take params=.*search_sp"),
        ({"dir": str(tmp_path / "study")}, r"^tune does not take dir=.*output_dir=\.\.\."),
        ({"keep_checkpoints": True}, "^tune does not take keep_checkpoints=.*keep no checkpoint"),
    ]:
        with pytest.raises(ValueError, match=message):
            est.tune(frame, n_trials=1, search_space=SPACE, pruner="none", **options)
    with pytest.raises(ValueError, match="unknown tuning setting 'pruners'") as err:
        est.tune(frame, n_trials=1, search_space=SPACE, pruners="none")
    listed = set(str(err.value).split("study settings ")[1].split(", "))
    assert {"pruner", "seed", "metric", "plots"} <= listed
    assert not listed & {"params", "dir", "keep_checkpoints", "n_trials", "storage"}
    assert not (tmp_path / "study").exists() and not hasattr(est, "study_")


def test_forecaster_tune_writes_no_plots_with_plots_false(tmp_path):
    tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space={"d_model": [8]},
                pruner="none", output_dir=tmp_path, plots=False)  # fmt: skip
    assert (tmp_path / "trials.csv").is_file() and not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    ("key", "cli", "py"),
    [
        ("data.scale", "choice(true, false)", {"data__scale": [True, False]}),
        ("data.scaler", "choice(standard, robust)", {"scaler": ["standard", "robust"]}),
    ],
)
def test_a_search_over_the_scaling_is_refused_naming_how_to_set_it(tmp_path, key, cli, py):
    """Trials rank by the validation loss, in the scaled units (or the data's own with
    data.scale=false): a search over the scaling compares numbers in different units."""
    cfg, overrides = study_config(tmp_path / "cli", "tune.n_trials=1")
    cfg.tune.params = {**SPACE, key: cli}
    units = f"^the search space holds {key}, which changes the units of what trials are ranked"
    with pytest.raises(InputError, match=units) as err:
        tune(cfg, overrides)
    assert f"choose the scaling outside the search ({key}=... on the command line)" in str(
        err.value
    )
    assert "tune.metric=best/val/mae_original" in str(err.value)
    with pytest.raises(InputError, match=units) as err:
        tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space={**SPACE, **py},
                    output_dir=tmp_path / "py")  # fmt: skip
    assert f"(Forecaster(..., {next(iter(py))}=...))" in str(err.value)
    assert "callbacks__checkpoint__monitor='val/mae_original'" in str(err.value)
    assert not (tmp_path / "cli").exists() and not (tmp_path / "py").exists()  # no trial


@pytest.mark.parametrize("metric", ["fit_seconds", "epochs", "best/val/mae_original"])
def test_a_metric_no_scaling_changes_ranks_a_search_over_the_scaling(metric):
    space = parse_space(
        {"data.scale": "choice(true, false)", "data.scaler": "choice(standard, robust)"}
    )
    refuse_unit_changes(space, metric=metric)  # trials in every scaling compare


@pytest.mark.parametrize("metric", ["val/best_loss", "best/train/loss", "best/val/mae"])
def test_a_scaled_metric_still_refuses_it_naming_the_metric(metric):
    space = parse_space({"data.scaler": "choice(standard, robust)"})
    with pytest.raises(InputError, match=f"the metric is {metric}\\)"):
        refuse_unit_changes(space, metric=metric)


def test_forecaster_tune_searches_the_scaler_ranked_by_an_unscaled_metric(tmp_path):
    frame = synthetic_frame(150, 2)
    space = {**SPACE, "scaler": ["standard", "robust"]}
    f = tiny().tune(frame, n_trials=2, search_space=space, metric="fit_seconds", seed=0)
    assert f.best_params_["scaler"] in ("standard", "robust") and len(f.study_.trials) >= 2
    ranked = tiny(callbacks__checkpoint__monitor="val/mae_original")  # as the refusal says
    ranked.tune(frame, n_trials=1, search_space=space, metric="best/val/mae_original")
    assert ranked.study_.best_value > 0
    cfg, overrides = study_config(
        tmp_path, "tune.n_trials=1", "callbacks.checkpoint.monitor=val/mae_original",
        "tune.metric=best/val/mae_original",
    )  # fmt: skip
    cfg.tune.params = {**SPACE, "data.scaler": "choice(standard, robust)"}
    study, _ = tune(cfg, overrides)
    assert study.best_value > 0 and "data.scaler" in study.best_params


def test_one_value_of_the_scaling_in_a_space_is_no_search_and_is_kept():
    space = parse_space({"data.scale": "choice(false)", "data.scaler": "choice(robust)"})
    refuse_unit_changes(space)  # every trial scales alike: nothing refused
    kept = check_space(tiny(), parse_space({"data.scale": [True], "data.scaler": ["robust"]}))
    assert list(kept) == ["data.scale", "data.scaler"]


def test_a_timesclip_space_is_checked_with_a_local_clip_checkpoint_named(tmp_path):
    """The pre-trial check builds on the meta device without weights: a named checkpoint
    must not turn it off (pretrained=false refuses weights it would leave unread)."""
    import torch

    from tsfm.config import compose_config
    from tsfm.tuning.config_study import check_space as check_run_space

    checkpoint = tmp_path / "clip.pt"
    torch.save({}, checkpoint)
    space = parse_space({"model.patch_len": "choice(16, 500)"})  # 500: above the look-back
    overrides = [
        "model=timesclip",
        "model.clip=tsfm-tiny-clip",
        "data.seq_len=96",
        "data.pred_len=24",
        f"model.clip_weights={checkpoint}",
    ]
    with pytest.raises(InputError, match="model.patch_len: 500 does not fit"):
        check_run_space(compose_config(*overrides), overrides, dict(space))
