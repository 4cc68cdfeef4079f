"""How the training module logs at the end of a validation or test epoch: the loss, the
error metrics on the scaled and original scales, the interval metrics, the per-series scores
and the scores a data module computes on the whole set of forecasts (M4's, for example)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tsfm.data.contract import ForecastDataModule
from tsfm.training.interval_metrics import interval_names
from tsfm.training.metrics import ErrorMetrics, gather_uneven

SCALED_INTERVAL_METRICS = ("crps", "width")  # logged on the original scale too
ORIGINAL = "_original"
TRAIN_LOSS = "loss"
STEP = "_step"  # a training loss's value at each step, beside its epoch mean


def train_keys(aux_losses: Sequence[str] = ()) -> list[str]:
    """What a training step logs: the loss and a model's auxiliary losses (its
    ``Capabilities.aux_losses``), each as the epoch's mean and each step's value."""
    return [f"train/{name}{end}" for name in (TRAIN_LOSS, *aux_losses) for end in ("", STEP)]


def epoch_keys(
    stage: str, levels: Sequence[float] | None = None, forecast_scores: Sequence[str] = ()
) -> list[str]:
    """What :meth:`EpochLogging._log_metrics` logs at the end of a ``val`` epoch (the loss, the
    error metrics on both scales; with ``levels``, a probabilistic head's interval metrics;
    ``forecast_scores``, a data module's own scores)."""
    keys = [f"{stage}/loss"]
    for suffix in ("", ORIGINAL):
        keys += [f"{stage}/{name}{suffix}" for name in ErrorMetrics.NAMES]
        for name in interval_names(levels) if levels is not None else []:
            if not suffix or name.startswith(SCALED_INTERVAL_METRICS):
                keys.append(f"{stage}/{name}{suffix}")
    return keys + [f"{stage}/{name}" for name in forecast_scores]


class EpochLogging:
    """Mixin of :class:`tsfm.training.module.ForecastingModule` (it uses the module's
    ``eval_losses``, ``metrics``, ``interval_metrics``, ``series_scores``, the forecasts it
    collected per stage, and Lightning's ``log`` and trainer)."""

    def _metric_dtype(self) -> torch.dtype:
        return torch.float32 if self.device.type == "mps" else torch.float64  # MPS has no float64

    def _log_metrics(self, stage: str) -> None:
        # The values are already reduced over DDP ranks; sync_dist=True averages equal values
        # (and stops Lightning from asking for it).
        if self.eval_losses[stage].update_count:
            loss = self.eval_losses[stage].compute().float()
            self.log(f"{stage}/loss", loss, prog_bar=stage == "val", sync_dist=True)
        self.eval_losses[stage].reset()
        precise = self._metric_dtype()  # float32 would turn an MSE above 3.4e38 into inf
        for suffix in ("", ORIGINAL):
            metric = self.metrics[f"{stage}{suffix}"]
            for name, value in metric.compute().items():
                self.log(f"{stage}/{name}{suffix}", value.to(precise), sync_dist=True)
            metric.reset()
            if stage == "test" and not suffix:
                self._score_sequential()
            intervals = self.interval_metrics[f"{stage}{suffix}"]
            if intervals.update_count:
                for name, value in intervals.compute().items():
                    # coverage and MSIS do not depend on the scale: those of the targets as
                    # read (forecasts.parquet's, to float64 rounding), once, without the suffix
                    in_units = name.startswith(SCALED_INTERVAL_METRICS)
                    if not suffix and not in_units:
                        continue
                    key = f"{stage}/{name}{suffix if in_units else ''}"
                    self.log(key, value.to(precise) if suffix else value.float(), sync_dist=True)
            intervals.reset()
        if stage == "test":
            datamodule = self._datamodule()
            names = getattr(datamodule, "series_names", None)
            columns = names() if names is not None else None
            untested = getattr(datamodule, "untested_series", None)
            skipped = untested() if untested is not None else ()
            for name, value in self.series_scores.compute(columns, skipped).items():
                value = torch.tensor(value, dtype=precise, device=self.device)  # 1e60 stays finite
                self.log(f"{stage}/{name}", value, sync_dist=True)
        self._log_forecast_scores(stage)

    def _datamodule(self) -> ForecastDataModule | None:
        return getattr(self.trainer, "datamodule", None) if self._trainer else None

    def _scoring_datamodule(self) -> ForecastDataModule | None:
        datamodule = self._datamodule()
        return datamodule if getattr(datamodule, "scores_forecasts", False) else None

    def _log_forecast_scores(self, stage: str) -> None:
        collected, self._forecasts[stage] = self._forecasts[stage], []
        datamodule = self._scoring_datamodule()
        if not collected or datamodule is None or self.trainer.sanity_checking:
            return
        index = torch.cat([i for i, _, _ in collected])
        forecast = torch.cat([f for _, f, _ in collected])
        interval = None if collected[0][2] is None else torch.cat([b for _, _, b in collected])
        if self.trainer.world_size > 1:  # every rank scores the whole set
            index, forecast = gather_uneven(self, index), gather_uneven(self, forecast)
            interval = None if interval is None else gather_uneven(self, interval)
        extra = {} if interval is None else {"interval": interval}
        # Every rank scored the same gathered forecasts: "syncing" them by their maximum keeps
        # the value bit for bit (a mean of equal values can round) and stops Lightning from
        # warning that an epoch-level value logged under DDP is not synced.
        for name, value in datamodule.evaluate_forecasts(stage, index, forecast, **extra).items():
            self.log(f"{stage}/{name}", float(value), sync_dist=True, reduce_fx="max")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")
