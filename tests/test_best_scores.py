"""What a run reports of its best checkpoint: ``val/best_loss`` only when the checkpoint
monitors the validation loss; otherwise ``best/<monitor>``, and tuning ranks by what it asks."""

from __future__ import annotations

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tests.test_tune import SPACE, study_config
from tsfm.config import compose_config
from tsfm.pipeline import fit_and_test
from tsfm.tuning.checks import check_metric
from tsfm.tuning.config_study import tune
from tsfm.tuning.study import objective_value

TRAIN_MONITOR = "callbacks.checkpoint.monitor=train/loss"


def test_a_checkpoint_monitoring_the_training_loss_is_not_reported_as_validation(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, TRAIN_MONITOR, "trainer.max_epochs=2")
    result = fit_and_test(cfg, tmp_path)
    best = float(result.trainer.checkpoint_callback.best_model_score)
    assert result.metrics["best/train/loss"] == pytest.approx(best)
    assert "val/best_loss" not in result.metrics


def test_the_validation_loss_stays_val_best_loss(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN)
    result = fit_and_test(cfg, tmp_path)
    best = float(result.trainer.checkpoint_callback.best_model_score)
    assert result.metrics["val/best_loss"] == pytest.approx(best)
    assert not any(key.startswith("best/") for key in result.metrics)


def test_tuning_by_val_best_loss_is_refused_when_the_checkpoint_monitors_another_value():
    with pytest.raises(ValueError, match="callbacks.checkpoint.monitor=train/loss") as err:
        check_metric("val/best_loss", "tune.metric", monitor="train/loss")
    assert "tune.metric=best/train/loss" in str(err.value)
    check_metric("best/train/loss", "tune.metric", monitor="train/loss")  # what it reports
    with pytest.raises(ValueError, match="not a value a trial reports"):
        check_metric("best/train/loss", "tune.metric")  # monitor val/loss: val/best_loss
    assert objective_value({"best/train/loss": 0.5}, "best/train/loss") == 0.5


def test_a_study_refuses_val_best_loss_with_another_monitor_before_any_trial(tmp_path):
    cfg, overrides = study_config(tmp_path / "cli", "tune.n_trials=1", TRAIN_MONITOR)
    with pytest.raises(ValueError, match="^tune.metric='val/best_loss' is the validation"):
        tune(cfg, overrides)
    assert not (tmp_path / "cli").exists()
    est = tiny(overrides=[TRAIN_MONITOR])
    with pytest.raises(ValueError, match="^metric='val/best_loss' is the validation"):
        est.tune(synthetic_frame(150, 2), n_trials=1, search_space=SPACE,
                 output_dir=tmp_path / "py")  # fmt: skip
    assert not (tmp_path / "py").exists()


def test_a_forecaster_records_the_monitored_value_in_fit_metrics():
    est = tiny(overrides=[TRAIN_MONITOR], val_size=0.2).fit(synthetic_frame(150, 2))
    assert "best/train/loss" in est.fit_metrics_ and "val/best_loss" not in est.fit_metrics_
