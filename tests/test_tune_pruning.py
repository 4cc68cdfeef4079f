"""What trials are pruned on, and how the results table lists pruned trials: a study ranked by
the best checkpoint's value prunes on that value at each epoch (in its units), a search over
the scaling on an original-scale error (val/loss changes units with the scaling), and the
table never sorts a pruned trial's last epoch value among complete trials' metric values."""

from __future__ import annotations

import math

import optuna
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_tune import SPACE, study_config
from tsfm.tuning.config_study import tune
from tsfm.tuning.outputs import results_frame, results_table

ORIGINAL = "best/val/mae_original"


def _in_thousands():
    """Series in the thousands: val/mae_original is ~1000, the scaled val/loss ~1 and the
    unscaled one ~1e6."""
    frame = synthetic_frame(150, 2)
    frame[["v0", "OT"]] *= 1000.0
    return frame


def _pruned_on_the_metric(study: optuna.Study) -> None:
    """One epoch per trial: a complete trial's one intermediate value is its best value."""
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert complete
    for trial in complete:
        assert list(trial.intermediate_values) == [0]
        assert trial.intermediate_values[0] == pytest.approx(trial.value, rel=1e-5)


def test_a_scaling_search_ranked_by_an_original_error_is_pruned_on_it(tmp_path):
    est = tiny(callbacks__checkpoint__monitor="val/mae_original", verbose=0)
    est.tune(_in_thousands(), n_trials=3, search_space={"data__scale": [True, False]},
             metric=ORIGINAL, pruner_startup_trials=1, pruner_warmup_epochs=0,
             refit=False, seed=1)  # fmt: skip
    _pruned_on_the_metric(est.study_)
    assert {t.params["data.scale"] for t in est.study_.trials} == {True, False}
    for trial in est.study_.trials:  # pruned ones too: in the data's units, both scalings
        assert all(300 < v < 3000 for v in trial.intermediate_values.values())
    cfg, overrides = study_config(
        tmp_path, "tune.n_trials=2", "trainer.max_epochs=1",
        "callbacks.checkpoint.monitor=val/mae_original", f"tune.metric={ORIGINAL}",
    )  # fmt: skip
    cfg.tune.params = {**SPACE, "data.scale": "choice(true, false)"}
    study, _ = tune(cfg, overrides)
    _pruned_on_the_metric(study)


def test_a_scaling_search_ranked_by_seconds_is_pruned_on_an_original_error():
    est = tiny(verbose=0)
    est.tune(_in_thousands(), n_trials=3, search_space={"data__scale": [True, False]},
             metric="fit_seconds", refit=False, seed=1)  # fmt: skip
    assert {t.params["data.scale"] for t in est.study_.trials} == {True, False}
    for trial in est.study_.trials:  # val/mae_original, not val/loss (~1 or ~1e6)
        assert trial.intermediate_values
        assert all(300 < v < 3000 for v in trial.intermediate_values.values())


def test_the_results_table_lists_pruned_trials_after_complete_ones_in_their_own_column():
    study = optuna.create_study(pruner=optuna.pruners.NopPruner())
    last = {0: 5.0, 1: 0.5, 2: 3.0, 3: 2.0}  # pruned trials' last epoch values: other units

    def objective(trial: optuna.Trial) -> float:
        trial.report(last[trial.number], 0)
        if trial.number in (1, 3):
            raise optuna.TrialPruned()
        return 100.0 * last[trial.number]

    study.optimize(objective, n_trials=4)
    frame = results_frame(study).set_index("trial")
    assert frame.loc[[0, 2], "value"].tolist() == [500.0, 300.0]
    assert frame.loc[[1, 3], "value"].isna().all()  # a pruned trial has no metric value
    assert frame.loc[[1, 3], "pruned_value"].tolist() == [0.5, 2.0]
    assert frame.loc[[0, 2], "pruned_value"].isna().all()
    rows = results_table(study).splitlines()[2:]
    assert [int(row.split()[0]) for row in rows] == [2, 0, 1, 3]  # complete first, by value
    assert not any(math.isnan(v) for v in frame.loc[[0, 2], "value"])


@pytest.mark.parametrize(("metric", "marked"), [("val/best_loss", True), ("fit_seconds", False)])
def test_the_history_plot_marks_pruned_trials_only_in_the_metrics_units(
    tmp_path, monkeypatch, metric, marked
):
    import tsfm.tuning.outputs as outputs

    study = optuna.create_study(pruner=optuna.pruners.NopPruner())

    def objective(trial: optuna.Trial) -> float:
        trial.report(1.0, 0)  # a validation value, not seconds
        if trial.number == 1:
            raise optuna.TrialPruned()
        return 30.0 + trial.number

    study.optimize(objective, n_trials=3)
    labels = {}

    def save(fig, path):
        legend = fig.axes[0].get_legend()
        labels[path.name] = [text.get_text() for text in legend.get_texts()] if legend else []

    monkeypatch.setattr(outputs, "_save", save)
    outputs.write_plots(study, tmp_path, metric)
    assert any(label.startswith("pruned") for label in labels["history.png"]) is marked
