"""The one LightningModule that trains and evaluates every registered model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from tsfm.data.batch import Batch
from tsfm.errors import InputError
from tsfm.training.adaptive_conformal import SequentialTestPass
from tsfm.training.architectures import CHECKPOINT_KEY, architectures_of
from tsfm.training.epoch_logging import STEP, TRAIN_LOSS, EpochLogging
from tsfm.training.forecasting_core import ForecastingCore
from tsfm.training.heads import HEAD_PARAMS
from tsfm.training.inputs import bind_training_windows
from tsfm.training.interval_metrics import IntervalMetrics
from tsfm.training.interval_scoring import IntervalScoring
from tsfm.training.metrics import EVAL_STAGES, ErrorMetrics, MeanLoss, per_stage
from tsfm.training.optim import build_optimizer, lr_factor
from tsfm.training.scoring import DEFAULT_QUANTILES, run_levels
from tsfm.training.series_logging import SeriesScores, n_targets
from tsfm.training.test_floors import floor_both


class ForecastingModule(IntervalScoring, EpochLogging, ForecastingCore, L.LightningModule):
    """Loss, metrics, optimizer and schedule around a plain ``nn.Module`` from the registry.

    The forecasting part (model, head, scaling, ``forward``, ``to_original``, conformal
    quantiles) is :class:`~tsfm.training.forecasting_core.ForecastingCore`, which a loaded
    Forecaster uses alone, without Lightning.

    Every argument is a primitive (dicts of numbers and strings), so checkpoints load with
    ``torch.load(weights_only=True)`` and rebuild the model from the registry alone.

    Args:
        model: the model's config (``name`` plus hyperparameters).
        dims: data-derived sizes (``seq_len``, ``pred_len``, ``n_vars`` targets, ``n_marks``,
            covariate counts: see ``tsfm.models.DATA_ARGS``).
        optim: an :class:`OptimConfig` as a dict.
        loss: training/validation loss name: a point loss (``mse``, ``mae``, ``huber``,
            ``smape``), ``quantile``, ``normal`` or ``student_t``; it picks the output head
            (:mod:`tsfm.training.heads`: the model is built with ``pred_len * K`` steps).
        scaler: ``{"mean": [...], "std": [...]}`` of the targets' scaler, for original-scale
            metrics and predictions (``[S][N]`` nested lists: one per series, picked by the
            batch's ``series``); None if the data is not scaled.
        quantiles: the quantile head's levels, and the grid CRPS is scored on.
        levels: interval levels (percent) scored for coverage and width (MSIS at 95); None:
            :func:`~tsfm.training.scoring.default_levels`.
        season_length: the seasonal lag of MSIS's and MASE's scale and of the seasonal-naive
            baseline (M4 data use their own scale); resolved from the data's frequency before
            it gets here (:mod:`tsfm.data.seasons`); at most the look-back.
        mase_scale: where MASE's and MSIS's scale comes from: ``"lookback"`` (each window's
            look-back) or ``"history"`` (the series' rows before each window's origin, which
            the data module gives: :meth:`~tsfm.data.ForecastDataModule.history_scale`).

    Output: ``forward`` returns a :class:`~tsfm.models.ModelOutput` whose ``prediction
    [B, S, N]`` is the point forecast (the median or the location of a probabilistic head);
    a probabilistic head adds its parameters ``[B, S, N, K]`` as ``extras["head_params"]``.
    Intervals come from the head or, for a point model, from :attr:`conformal` (set after
    training, :mod:`tsfm.training.conformal`); then validation and test also log ``crps``,
    ``coverage_<L>``, ``width_<L>`` (and ``*_original``) and ``msis``. The test stage also
    logs sMAPE, MAPE, MASE, the seasonal-naive and naive baselines, the skill against them, and
    each target's own metrics (:class:`~tsfm.training.series_logging.SeriesScores`). The test
    stage scores the forecasts of the columns in :attr:`floored` (``nonnegative``, which the
    pipeline sets) floored at zero (:mod:`tsfm.training.test_floors`); validation the model's own.

    Covariates reach the model as its capabilities allow (:mod:`tsfm.training.inputs`); data
    it cannot use is refused here, before training.

    Hooks a model may define:
        ``parameter_groups(lr) -> list[dict]``: optimizer groups (e.g. a lower rate for a
        pretrained backbone); default: every trainable parameter at ``optim.lr``.
        ``bind_training_windows(values, seq_len, stride, n_windows, source)``: called before
        fitting when the data module's training split has fixed windows
        (:meth:`~tsfm.data.ForecastDataModule.training_windows`), e.g. to cache
        frozen-encoder features per window ``index``.
        The forward may return a :class:`~tsfm.models.ModelOutput` whose ``aux_losses`` are
        added to the training loss.

    What it reads from the data module (:class:`~tsfm.data.ForecastDataModule`): a module
    declaring ``scores_forecasts`` gets every original-scale forecast ``[n, S, N]`` of an
    evaluation epoch and the ``index`` of each in ``evaluate_forecasts``, whose scores are
    logged as ``{stage}/<name>`` (M4: sMAPE, MASE, OWA against Naive2). A batch may carry
    ``y_mask`` (1 where the target exists): the loss and the metrics then ignore the other
    elements.
    """

    def __init__(
        self,
        model: dict[str, Any],
        dims: dict[str, int],
        optim: dict[str, Any] | None = None,
        loss: str = "mse",
        scaler: dict[str, list[float]] | None = None,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        levels: Sequence[float] | None = None,
        season_length: int = 1,
        mase_scale: str = "lookback",
    ):
        levels = list(run_levels(loss, quantiles, levels))
        # the model, head, scaler and checks: ForecastingCore (then Lightning's own init)
        super().__init__(model, dims, optim, loss, scaler, quantiles, levels, season_length,
                         mase_scale)  # fmt: skip
        self.save_hyperparameters()  # the levels scored, not None
        self.sequential = SequentialTestPass()  # the test pass under adaptive conformal
        self.metrics = per_stage(ErrorMetrics)
        self.interval_metrics = per_stage(lambda: IntervalMetrics(quantiles, levels))
        self.series_scores = SeriesScores(n_targets(dims, scaler), season_length)
        self._forecasts: dict[str, list[tuple]] = {s: [] for s in EVAL_STAGES}
        self.eval_losses = nn.ModuleDict({stage: MeanLoss() for stage in EVAL_STAGES})
        self.floored: Tensor | None = None  # nonnegative's columns in the test scores

    # ------------------------------------------------------------------ the shared step
    def _shared_step(self, batch: Batch, stage: str) -> Tensor:
        output = self(batch)
        prediction, target = output.prediction.float(), batch["y"]
        mask = batch.get("y_mask")
        params = output.extras.get(HEAD_PARAMS, prediction.unsqueeze(-1))
        loss = self.head.loss(params, target, mask)
        size = target.shape[0]
        if stage == "train":
            total = loss + sum(output.aux_losses.values()) if output.aux_losses else loss
            # the epoch's mean over samples (as val/loss), and each step's own value; the
            # auxiliary losses alike (tsfm.training.epoch_logging.train_keys)
            for name, value in {TRAIN_LOSS: loss, **output.aux_losses}.items():
                shown = name == TRAIN_LOSS
                self.log(f"train/{name}", value, on_step=False, on_epoch=True, prog_bar=shown,
                         batch_size=size, sync_dist=True)  # fmt: skip
                self.log(f"train/{name}{STEP}", value, prog_bar=shown, batch_size=size)
            return total
        self.eval_losses[stage].update(loss, size)
        precise = self._metric_dtype()
        point = output.prediction  # the test scores: nonnegative's floored (test_floors)
        original_prediction = self.to_original(point, batch, precise)
        if stage == "test":
            floored, original_prediction = floor_both(self, prediction, original_prediction, batch)
            point = point if floored is prediction else floored
            prediction = floored
        self.metrics[stage].update(prediction, target, mask)
        original_target = self.as_read(batch, "y", precise)  # never scaled and back
        self.metrics[f"{stage}_original"].update(original_prediction, original_target, mask)
        scoring = self._scoring_datamodule() is not None
        history = None if scoring else self._history_scale(stage, batch)  # mase_scale=history
        if history is not None:  # scaled, and of the values as read
            history = (history, self._history_scale(stage, batch, original=True))
        series = stage == "test" and not scoring
        lookback = self.as_read(batch, "x", precise) if series or self.has_intervals else None
        if series:
            self.series_scores.update(
                point, original_prediction, batch, original_target, lookback, history
            )
        interval = None
        if self.has_intervals:
            interval = self._score_intervals(
                stage, output, batch, (original_target, lookback), mask, history
            )
        if scoring:  # the original-scale forecast scored above (floored in the test stage)
            original = original_prediction.detach()
            self._forecasts[stage].append((batch["index"].detach(), original, interval))
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # the pretrained parts' architecture configs (plain JSON): loads build from them
        if architectures := architectures_of(self):
            checkpoint[CHECKPOINT_KEY] = architectures

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # the scaler is the data module's: a checkpoint tested on other data is scored there
        state = checkpoint.get("state_dict", {})
        for name in ("scale_mean", "scale_std"):
            if getattr(self, name, None) is not None and name in state:
                state[name] = getattr(self, name).detach().clone()

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._shared_step(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> Tensor:
        return self._shared_step(batch, "test")

    def predict_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        """Forecasts on the original scale (and the actuals, when the batch has them)."""
        prediction = self.to_original(self(batch).prediction, batch)
        result = {"prediction": prediction, "index": batch["index"]}
        if "y" in batch:
            result["target"] = self.as_read(batch, "y", self._metric_dtype())
        return result

    # ------------------------------------------------------------------ hooks for models
    def setup(self, stage: str) -> None:
        datamodule = self._datamodule()
        if stage == "fit" and datamodule is not None:
            bind_training_windows(self.model, datamodule)

    def configure_optimizers(self):
        cfg = self.optim_config
        groups_hook = getattr(self.model, "parameter_groups", None)
        groups = groups_hook(cfg.lr) if groups_hook else [{"params": list(self.model.parameters())}]
        groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
        groups = [g for g in groups if g["params"]]
        if not groups:
            raise InputError("the model has no trainable parameters")
        optimizer = build_optimizer(groups, cfg)
        max_epochs = self.trainer.max_epochs if self._trainer else None
        factor = lr_factor(cfg, max_epochs if max_epochs and max_epochs > 0 else None)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }
