"""The shared LightningModule and the run pipeline: losses, hooks, schedules, evaluation."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn

from tests.helpers.runs import TINY_RUN
from tsfm.config import compose_config
from tsfm.models import REGISTRY, ModelOutput
from tsfm.pipeline import build_datamodule, build_module, build_trainer, fit_and_test
from tsfm.training.checkpoints import load_checkpoint, restore_module
from tsfm.training.module import ForecastingModule
from tsfm.training.optim import OptimConfig, lr_factor

TINY_ITRANSFORMER = [
    "model.d_model=16",
    "model.d_ff=16",
    "model.n_heads=2",
    "model.n_layers=1",
    "data.seq_len=24",
    "data.pred_len=8",
]


class AuxModel(nn.Module):
    """A linear forecaster with an auxiliary loss and two parameter groups, for the hooks."""

    def __init__(self, seq_len: int, pred_len: int, aux_weight: float = 1.0):
        super().__init__()
        self.head = nn.Linear(seq_len, pred_len)
        self.extra = nn.Parameter(torch.tensor(2.0))
        self.aux_weight = aux_weight

    def forward(self, x, **_):
        prediction = self.head(x.transpose(1, 2)).transpose(1, 2)
        return ModelOutput(prediction, aux_losses={"penalty": self.aux_weight * self.extra**2})

    def parameter_groups(self, lr: float):
        return [{"params": self.head.parameters()}, {"params": [self.extra], "lr": lr / 10}]


@pytest.fixture
def aux_registered(monkeypatch):
    monkeypatch.setitem(REGISTRY, "aux_test", "tests.test_training:AuxModel")


def _module(**kwargs) -> ForecastingModule:
    base = {"model": {"name": "aux_test"}, "dims": {"seq_len": 6, "pred_len": 2, "n_vars": 2}}
    return ForecastingModule(**{**base, **kwargs})


def test_aux_losses_enter_training_but_not_validation(aux_registered):
    module = _module()
    batch = {"x": torch.randn(4, 6, 2), "y": torch.randn(4, 2, 2)}
    prediction = module.model(batch["x"]).prediction
    forecast = torch.nn.functional.mse_loss(prediction, batch["y"])
    module.log = lambda *a, **k: None
    assert module.training_step(batch, 0).item() == pytest.approx(forecast.item() + 4.0)
    assert module.validation_step(batch, 0).item() == pytest.approx(forecast.item())


def test_parameter_groups_hook_sets_per_group_learning_rates(aux_registered):
    module = _module(optim={"lr": 1e-3, "optimizer": "adamw"})
    config = module.configure_optimizers()
    groups = config["optimizer"].param_groups
    assert [g["lr"] for g in groups] == pytest.approx([1e-3, 1e-4])
    assert isinstance(config["optimizer"], torch.optim.AdamW)


def test_frozen_parameters_are_left_out_of_the_optimizer(aux_registered):
    module = _module()
    module.model.head.weight.requires_grad_(False)
    params = [
        p for g in module.configure_optimizers()["optimizer"].param_groups for p in g["params"]
    ]
    assert all(p.requires_grad for p in params) and len(params) == 2


def test_exponential_schedule_matches_the_official_loop():
    factor = lr_factor(OptimConfig(scheduler="exponential", gamma=0.5), None)
    # TSLib's adjust_learning_rate(epoch + 1) after each epoch: lr0, lr0, lr0/2, lr0/4, ...
    assert [factor(e) for e in range(5)] == [1, 1, 0.5, 0.25, 0.125]
    decay09 = lr_factor(OptimConfig(gamma=0.9), None)
    assert decay09(3) == pytest.approx(0.81)


def test_cosine_schedule_decays_to_min_lr():
    factor = lr_factor(OptimConfig(scheduler="cosine", lr=1e-3, min_lr=0.0), max_epochs=10)
    assert factor(0) == 1.0 and factor(5) == pytest.approx(0.5) and factor(10) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="cosine schedule needs"):
        lr_factor(OptimConfig(scheduler="cosine"), None)


def test_past_covariates_reach_a_model_without_them_as_input_variates(aux_registered):
    """The official MS: every variate in, the target scored; AuxModel takes no covariates."""
    module = _module(dims={"seq_len": 6, "pred_len": 2, "n_vars": 1, "n_past": 1})
    batch = {"x": torch.randn(4, 6, 1), "past_covariates": torch.randn(4, 6, 1)}
    batch["y"] = torch.randn(4, 2, 1)
    module.log = lambda *a, **k: None
    everything = torch.cat([batch["past_covariates"], batch["x"]], dim=-1)
    prediction = module.model(everything).prediction
    expected = torch.nn.functional.mse_loss(prediction[..., -1:], batch["y"])
    assert module.validation_step(batch, 0).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="cannot use future covariates"):
        _module(dims={"seq_len": 6, "pred_len": 2, "n_vars": 1, "n_future": 2})


class CountWindows(Callback):
    def __init__(self):
        self.seen = 0

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self.seen += batch["x"].shape[0]


def test_evaluation_sees_every_window_and_metrics_do_not_depend_on_batch_size(tmp_path):
    results = []
    for eval_batch in (7, 1000):
        cfg = compose_config(
            *TINY_ITRANSFORMER,
            *TINY_RUN,
            f"data.eval_batch_size={eval_batch}",
            "trainer.limit_test_batches=1.0",
            "callbacks=none",
        )
        datamodule = build_datamodule(cfg)
        torch.manual_seed(0)
        module = build_module(cfg, datamodule)
        counter = CountWindows()
        trainer = build_trainer(cfg, tmp_path, [counter])
        metrics = trainer.test(module, datamodule=datamodule, verbose=False)[0]
        assert counter.seen == len(datamodule.datasets["test"]) == (2880 + 24) - (24 + 8) + 1
        results.append(metrics)
    for key in ("test/mse", "test/mae", "test/mse_original"):
        assert results[0][key] == pytest.approx(results[1][key], rel=1e-6)


def test_original_scale_metrics_undo_the_scaler(tmp_path):
    cfg = compose_config(
        *TINY_ITRANSFORMER, *TINY_RUN, "callbacks=none", "trainer.limit_test_batches=1.0"
    )
    datamodule = build_datamodule(cfg)
    module = build_module(cfg, datamodule)
    trainer = build_trainer(cfg, tmp_path)
    metrics = trainer.test(module, datamodule=datamodule, verbose=False)[0]
    preds = trainer.predict(module, datamodule=datamodule)
    prediction = torch.cat([p["prediction"] for p in preds])
    target = torch.cat([p["target"] for p in preds])
    expected = (prediction - target).square().mean().item()
    assert metrics["test/mse_original"] == pytest.approx(expected, rel=1e-4)
    test_rows = datamodule.table.values[datamodule.borders.test[0] + 24 :]
    assert target[0, 0].numpy() == pytest.approx(test_rows[0], rel=1e-5)


def test_best_checkpoint_is_restored_and_loads_with_weights_only(tmp_path):
    cfg = compose_config(
        *TINY_ITRANSFORMER, *TINY_RUN, "trainer.max_epochs=3", "trainer.limit_train_batches=5"
    )
    result = fit_and_test(cfg, tmp_path)
    checkpoint = load_checkpoint(result.best_checkpoint)
    assert checkpoint["hyper_parameters"]["model"]["name"] == "itransformer"
    restored = restore_module(result.best_checkpoint)
    for key, value in restored.state_dict().items():
        assert torch.equal(value, result.module.state_dict()[key].cpu())
    assert result.metrics["val/best_loss"] == pytest.approx(
        float(result.trainer.checkpoint_callback.best_model_score)
    )
    assert {"test/mse", "test/mae", "test/mse_original", "test/mae_original"} <= set(result.metrics)


def test_runs_are_repeatable_with_a_seed(tmp_path):
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "callbacks=none", "seed=7")
    first = fit_and_test(cfg, tmp_path / "a").metrics
    second = fit_and_test(cfg, tmp_path / "b").metrics
    assert first["test/mse"] == second["test/mse"]
    other = fit_and_test(
        compose_config(*TINY_ITRANSFORMER, *TINY_RUN, "callbacks=none", "seed=8"), tmp_path / "c"
    )
    assert other.metrics["test/mse"] != first["test/mse"]
