"""What forecasting needs of the training module, without Lightning or torchmetrics.

:class:`ForecastingCore` is the part of :class:`~tsfm.training.module.ForecastingModule`
that forecasts: the registry's model, the output head, the data scaler's statistics, the
conformal scores, ``forward`` and the quantiles of a forecast. The training module adds
Lightning's hooks, the optimizer and the metrics to it (its first base after the mixins), so
both run the same code on the same weights. :class:`InferenceModule` is the core alone, as
``Forecaster.load`` builds it: importing Lightning (and the torchmetrics, torchvision,
transformers and matplotlib it brings) takes seconds, which a process that only loads a
model and forecasts never needs to spend. Its ``state_dict`` is the training module's (the
metrics keep no persistent state), so a loaded model saves, warm-starts and forecasts as the
fitted one does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from tsfm.data.batch import Batch
from tsfm.errors import InputError
from tsfm.models import ModelOutput, build_model, capabilities
from tsfm.training.conformal import ConformalScores
from tsfm.training.heads import HEAD_PARAMS, head_dims, make_head
from tsfm.training.inputs import check_capabilities, forward, model_dims
from tsfm.training.optim import OptimConfig
from tsfm.training.scoring import DEFAULT_QUANTILES, check_mase_scale, lookback_spread, run_levels

SCALER_BUFFERS = ("scale_mean", "scale_std")  # the data scaler's state, in float64


class ForecastingCore(nn.Module):
    """The model of ``model`` (its config) for data of ``dims``, with the head of ``loss`` and
    the target scaler's state ``scaler``; every argument is checked as the training module
    checks it (see :class:`~tsfm.training.module.ForecastingModule` for each)."""

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
        super().__init__()
        levels = list(run_levels(loss, quantiles, levels))
        self.head = make_head(loss, quantiles, levels)
        self.loss_fn = getattr(self.head, "loss_fn", None)  # a point head's loss function
        if not 0 < season_length <= dims["seq_len"]:
            raise InputError(
                f"season_length={season_length} must be at least 1 and at most the look-back "
                f"({dims['seq_len']})"
            )
        check_mase_scale(mase_scale)
        self.capabilities = capabilities(model["name"])
        check_capabilities(model["name"], self.capabilities, dims)
        built = model_dims(self.capabilities, dims)
        self.model = build_model(model, head_dims(built, self.head.size))
        self.conformal: ConformalScores | None = None
        self.optim_config = OptimConfig(**(optim or {}))
        if scaler is not None:  # float64: a mean of 1e12 in float32 is 4096 units off
            self.register_buffer("scale_mean", torch.tensor(scaler["mean"], dtype=torch.float64))
            self.register_buffer("scale_std", torch.tensor(scaler["std"], dtype=torch.float64))
        else:
            self.scale_mean = self.scale_std = None

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> ForecastingCore:
        # the scaler's statistics go where the weights go but stay float64 (a half- or
        # bf16-true module included), save on MPS, which has no float64 (its metrics are
        # float32 too)
        stats = {n: self._buffers.pop(n) for n in SCALER_BUFFERS if n in self._buffers}
        try:
            super()._apply(fn, recurse)
        finally:
            for name, value in stats.items():
                placed = fn(value.float()) if value is not None else None
                if placed is not None and placed.device.type != "mps":
                    placed = value.to(placed.device)
                self._buffers[name] = placed
        return self

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # a checkpoint saved before the statistics were float64 holds them rounded to float32:
        # where they are this module's own (the scaler it was built with), its exact values
        # are kept, so that an old checkpoint forecasts as a new one of the same fit does
        for name in SCALER_BUFFERS:
            own, saved = self._buffers.get(name), state_dict.get(prefix + name)
            if own is None or not isinstance(saved, Tensor) or saved.dtype != torch.float32:
                continue
            if saved.shape == own.shape and torch.equal(saved, own.to(saved)):
                state_dict[prefix + name] = own.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, *args)

    def forward(self, batch: Batch) -> ModelOutput:
        output = forward(self.model, self.capabilities, batch)
        if not self.head.probabilistic:
            return output
        # fp32 under autocast too: the distributions' scales and quantiles need it
        params = self.head.params(output.prediction.float(), batch["x"].float())
        extras = {**output.extras, HEAD_PARAMS: params}
        return ModelOutput(self.head.point(params), output.aux_losses, extras)

    def to_original(self, values: Tensor, batch: Batch, dtype: torch.dtype | None = None) -> Tensor:
        """Undo the data scaling of ``values [B, S, N]`` or quantiles ``[B, S, N, Q]`` (the
        targets), computed in ``dtype`` (default float64, float32 on MPS, which has no float64:
        original-scale errors of large values overflow float32, and a float32 mean of 1e12 is
        thousands of units off)."""
        if dtype is None:
            dtype = torch.float32 if values.device.type == "mps" else torch.float64
        if self.scale_mean is None:
            return values.to(dtype)
        mean, std = (
            self.per_column(s, batch, values.dim()) for s in (self.scale_mean, self.scale_std)
        )
        return values.to(dtype) * std.to(dtype) + mean.to(dtype)

    def per_column(self, stats: Tensor, batch: Batch, dim: int = 3) -> Tensor:
        """``stats`` of the target columns (``[N]``, or ``[S, N]`` one row per series) as they
        broadcast over the batch's forecasts ``[B, S, N]`` (``dim=4``: quantiles ``[B, S, N,
        Q]``): picked by the batch's ``series``, ``variate`` or ``variates``."""
        if stats.ndim == 2:  # one scaler per series (independent panels): [S, N]
            stats = stats[batch["series"]][:, None]
        elif "variate" in batch:  # channel-independent: one variate per sample
            stats = stats[batch["variate"]].view(-1, 1, 1)
        elif "variates" in batch:
            stats = stats[batch["variates"]]
        return stats.unsqueeze(-1) if dim == 4 else stats

    def as_read(self, batch: Batch, key: str, dtype: torch.dtype = torch.float64) -> Tensor:
        """The batch's targets (``key="y"``) or look-back (``"x"``) in the data's units, in
        ``dtype``: as the data module read them (``y_original``/``x_original``, which
        evaluation batches carry), else (a batch without them) the scaled values unscaled."""
        given = batch.get(f"{key}_original")
        if given is not None:
            return given.to(dtype)
        return self.to_original(batch[key], batch, dtype)

    @property
    def has_intervals(self) -> bool:
        """Whether forecasts come with quantiles: a probabilistic head or conformal scores."""
        return self.head.probabilistic or self.conformal is not None

    def predictive_quantiles(
        self,
        output: ModelOutput,
        batch: Batch,
        taus: Sequence[float],
        radius_of: Callable[[float], Tensor] | None = None,
    ) -> Tensor:
        """Quantiles ``[B, S, N, Q]`` (scaled) at ``taus`` of the forecast ``output`` of
        ``batch``; ``radius_of``: conformal radii to use instead of the split ones."""
        if self.head.probabilistic or self.conformal is None:
            return self.head.quantiles(output.extras.get(HEAD_PARAMS), taus)
        spread = lookback_spread(batch["x"]) if self.conformal.normalized else None
        point = output.prediction.float()
        return self.conformal.quantiles(point, taus, batch.get("variate"), spread, radius_of)


class InferenceModule(ForecastingCore):
    """The forecasting core alone (what ``Forecaster.load`` builds): no Lightning import, no
    metrics; ``device`` is that of its weights (the training module's is Lightning's)."""

    @property
    def device(self) -> torch.device:
        first = next(itertools.chain(self.parameters(), self.buffers()), None)
        return first.device if first is not None else torch.device("cpu")
