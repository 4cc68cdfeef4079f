"""How the training module scores intervals: the quantiles of a forecast (from a
probabilistic head or conformal scores), the interval metrics per batch, and the whole test
pass at once under adaptive conformal (:mod:`tsfm.training.adaptive_conformal`)."""

from __future__ import annotations

import torch
from torch import Tensor

from tsfm.data.batch import Batch
from tsfm.data.seasonal_scales import seasonal_scale
from tsfm.errors import InputError
from tsfm.models import ModelOutput
from tsfm.training.adaptive_conformal import adaptive_blocks
from tsfm.training.metrics import gather_uneven
from tsfm.training.scoring import (
    MSIS_LEVEL,
    index_of,
    level_bounds,
    lookback_spread,
)
from tsfm.training.test_floors import floor_both


class IntervalScoring:
    """Mixin of :class:`tsfm.training.module.ForecastingModule` (it uses the module's head,
    ``conformal``, ``sequential``, ``interval_metrics``, scaling and quantiles: the
    forecasting part, :class:`~tsfm.training.forecasting_core.ForecastingCore`)."""

    def _history_scale(self, stage: str, batch: Batch, original: bool = False) -> Tensor | None:
        """MASE's and MSIS's scale ``[B, N]`` (scaled units; ``original``: of the values as
        read) of the batch's windows under ``mase_scale="history"``: from the series' rows
        before each window's origin, which the data module holds; None under ``"lookback"``
        (each window's own look-back)."""
        if self.hparams.get("mase_scale", "lookback") != "history":
            return None
        datamodule = self._datamodule()
        if datamodule is None:
            raise InputError(
                "mase_scale='history' scores each window against the series' rows before it, "
                "which only the data module holds: test with trainer.test(module, datamodule)"
            )
        lag = self.hparams.season_length
        scale = datamodule.history_scale(stage, batch, lag, original=original)
        return scale.to(batch["x"].device)

    def _score_intervals(
        self,
        stage: str,
        output: ModelOutput,
        batch: Batch,
        original: tuple[Tensor, Tensor],
        mask: Tensor | None,
        history: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor | None:
        """Update the interval metrics: scaled, and in the data's units against ``original``,
        the targets and look-backs as read (MSIS over the ``history`` scales, scaled and as
        read, of :meth:`_history_scale` when given; else over the look-back's); returns the
        original-scale 95 % interval ``[B, S, N, 2]`` when a data module scores forecasts
        itself (M4, for its own MSIS scale)."""
        metric = self.interval_metrics[stage]
        scoring = self._scoring_datamodule() is not None
        target, lookback = original
        seen = batch.get("x_mask")
        seen = None if seen is None else seen.bool()  # filled gaps and padding are no steps
        scale, in_units = (None, None) if history is None else history
        if scale is None and not scoring:
            lag = self.hparams.season_length
            scale = seasonal_scale(batch["x"], lag, seen)
            in_units = seasonal_scale(lookback, lag, seen)
        if scale is not None and in_units is not None:  # flat as read: flat scaled too
            scale = torch.where(in_units.to(scale.device) > 0, scale, 0.0)
        if stage == "test" and self.conformal is not None and self.conformal.adaptive_rate:
            stride = getattr(self._datamodule().datasets["test"], "stride", 1)
            spread = lookback_spread(batch["x"])
            kept = {"y_original": target}
            if in_units is not None:
                kept["scale_original"] = in_units
            self.sequential.add(output.prediction, batch, spread, scale, stride, kept)
            return None  # scored when the pass ends: adaptive_conformal.SequentialTestPass
        quantiles = self.predictive_quantiles(output, batch, metric.taus)
        in_original = self.to_original(quantiles, batch, target.dtype)
        if stage == "test":  # nonnegative: the bounds floored, as forecasts.parquet's
            quantiles, in_original = floor_both(self, quantiles, in_original, batch)
        metric.update(quantiles, batch["y"], scale, mask)
        self.interval_metrics[f"{stage}_original"].update(in_original, target, in_units, mask)
        if not scoring or MSIS_LEVEL not in metric.levels:
            return None
        bounds = [index_of(metric.taus, b) for b in level_bounds(MSIS_LEVEL)]
        return in_original[..., bounds].float().detach()

    def _score_sequential(self) -> None:
        """Adaptive conformal intervals of the whole test pass, in origin order."""
        if self._trainer and self.trainer.world_size > 1:
            found = self.sequential.take(lambda v: gather_uneven(self, v))
        else:
            found = self.sequential.take(lambda v: v)
        if found is None:
            return
        metric, precise = self.interval_metrics["test"], self._metric_dtype()
        blocks = adaptive_blocks(
            self.conformal,
            found["point"],
            found["y"],
            metric.taus,
            found["origin"],
            observed=found.get("mask"),
            columns=found.get("variate"),
            spread=found["spread"],
        )
        # every rank scores every window: the metrics are ratios of sums, which stay the same
        for members, quantiles in blocks:
            members, quantiles = members.to(self.device), quantiles.to(self.device)
            part = {key: value[members] for key, value in found.items()}
            mask = part.get("mask")
            batch = {"variate": part["variate"]} if "variate" in part else {}
            original = self.to_original(quantiles, batch, precise)
            quantiles, original = floor_both(self, quantiles, original, batch)  # nonnegative
            metric.update(quantiles, part["y"], part.get("scale"), mask)
            target = part["y_original"].to(precise)  # as read
            in_units = part.get("scale_original")
            self.interval_metrics["test_original"].update(original, target, in_units, mask)
