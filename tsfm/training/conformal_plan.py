"""Conformal calibration, planned before training (which validation windows, and whether their
observed targets give every interval the run scores) and run after it (:func:`calibrate`: the
signed residuals of those windows, whose absolute values are the scores of
:mod:`tsfm.training.conformal`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from tsfm.data.batch import batch_to
from tsfm.data.contract import ForecastDataModule
from tsfm.errors import InputError
from tsfm.training.calibration_step import calibration_step
from tsfm.training.conformal import (
    ConformalConfig,
    ConformalScores,
    TooFewScores,
    check_conformal,
    needed_windows,
    pooling,
    supports,
)
from tsfm.training.scoring import level_name, lookback_spread, tau_level


def calibration_plan(
    datamodule: ForecastDataModule,
    config: ConformalConfig,
    horizon: int,
    season: int,
    *,
    warn: bool = True,
) -> list[int]:
    """The validation samples to calibrate on, ``step`` rows apart (``config.step``, or by
    default one that spreads their origins over the ``season``:
    :func:`~tsfm.training.calibration_step.calibration_step`, which warns (``warn``) of a
    given step that lines them up with it); raises before any training when they do not fit
    in the split or cannot give the widest interval the run scores."""
    check_conformal(config.windows, config.step, config.adaptive_rate)
    step = calibration_step(config.step, horizon, config.windows, season, warn=warn)
    try:
        return datamodule.calibration_indices(config.windows, step)
    except ValueError as err:
        default = "" if config.step is not None else f", by default {step} here"
        raise InputError(
            f"conformal calibration on the validation split: {err} (conformal.windows / "
            f"conformal_windows; conformal.step / conformal_step{default})"
        ) from None


def run_plan(cfg: Any, datamodule: ForecastDataModule, module: Any) -> list[int] | None:
    """A run's ``conformal`` settings checked against its data and model before training
    (:func:`tsfm.pipeline.fit_and_test`): its calibration plan (:func:`calibration_plan`,
    :func:`check_plan`), None without ``conformal.windows``; an :class:`InputError` for
    settings the data or the model cannot honour."""
    conformal = cfg.get("conformal")
    if conformal is None:
        return None
    check_conformal(conformal.windows, conformal.step, conformal.adaptive_rate)
    if conformal.adaptive_rate and datamodule.scores_forecasts:
        raise InputError(
            "conformal.adaptive_rate adapts intervals over a sequence of test windows; this "
            "dataset scores one window per series (M4): leave the rate at 0"
        )
    if conformal.adaptive_rate and datamodule.pools_series:
        raise InputError(
            "conformal.adaptive_rate adapts along one series' windows; a panel of independent "
            "series (data.mode=independent) pools the calibration scores of every series: "
            "leave the rate at 0"
        )
    if not conformal.windows:
        return None
    if module.head.probabilistic:  # refuse what calibration would refuse
        raise InputError(
            f"conformal.windows calibrates point models; loss={cfg.loss} already forecasts "
            "intervals (use a point loss, e.g. loss=mse, for conformal intervals)"
        )
    season = module.hparams.season_length  # the run's, which the metrics use too
    plan = calibration_plan(datamodule, conformal, cfg.data.pred_len, season)
    check_plan(datamodule, plan, cfg.quantiles, cfg.levels)
    return plan


def observed_targets(datamodule: ForecastDataModule, indices: list[int]) -> Tensor | None:
    """Whether each calibration target is observed, ``[k, S, N]`` as the scores are laid out
    (None when the data has no missing values)."""
    dataset, size = datamodule.datasets["val"], datamodule.config.eval_batch_size
    masks, variates = [], []
    for start in range(0, len(indices), size):
        batch = dataset.__getitems__(indices[start : start + size])
        if "y_mask" not in batch:
            return None
        masks.append(batch["y_mask"].bool())
        if "variate" in batch:
            variates.append(batch["variate"])
    mask = torch.cat(masks)
    return group_by_variate(mask.float(), torch.cat(variates)).bool() if variates else mask


def check_plan(
    datamodule: ForecastDataModule, indices: list[int], quantiles: Sequence, levels: Sequence
) -> None:
    """Refuses, before training, a run whose calibration windows cannot give every level and
    quantile it scores (targets missing in them give no score)."""
    panel = datamodule.pools_series  # windows of independent series, their scores pooled
    if panel:
        owners = [datamodule.window_series("val", i) for i in indices]
        n_series = len(set(owners))
        windows = len(indices) // n_series
    elif getattr(datamodule.config, "channel_independent", False):
        n_series = len(datamodule.columns)
        windows = len(indices) // n_series
    else:
        n_series, windows = datamodule.n_vars, len(indices)
    per_series, n = pooling(windows, n_series) if not panel else (False, len(indices))
    observed, fewest = observed_targets(datamodule, indices), ""
    if observed is not None:
        counts = observed.sum(dim=0) if per_series or panel else observed.sum(dim=(0, 2))[:, None]
        if int(counts.min()) < n:
            n = int(counts.min())
            fewest = " observed" + _gappy(
                datamodule, observed, per_series, n_series, panel, owners if panel else []
            )
    levels, quantiles = [float(v) for v in levels], [float(t) for t in quantiles]
    wide_levels = [v for v in levels if not supports(n, v)]
    wide_taus = [t for t in quantiles if not supports(n, tau_level(t))]
    if not wide_levels and not wide_taus:
        return
    asked = [f"levels {_percent(wide_levels)}"] if wide_levels else []
    if wide_taus:
        asked.append(f"the quantiles {wide_taus} (the probabilistic metrics' grid, `quantiles`)")
    where = "per series" if per_series else f"pooled over the {n_series} series"
    enough = needed_windows(max([*levels, *(tau_level(t) for t in quantiles)]))
    if panel:  # each series' windows add to one pool
        enough = -(-enough // n_series)
    count = f"; {enough} give every one" if not fewest else ""  # gaps: more than that
    fixes = [f"calibrate on more windows (conformal.windows / conformal_windows{count})"]
    if fewest:  # targets missing in the calibration windows
        fixes.insert(0, "fill the gaps (or leave those series out)")
    if n >= needed_windows(min(levels, default=50.0)):
        narrow_levels = _percent([v for v in levels if supports(n, v)])
        narrow_taus = [t for t in quantiles if supports(n, tau_level(t))]
        fixes.append(f"narrow them, e.g. levels={narrow_levels} and quantiles={narrow_taus}")
    advice = fixes[0] if len(fixes) == 1 else f"{'; '.join(fixes[:-1])}; or {fixes[-1]}"
    gaps = " (a target missing in a calibration window gives no score)" if fewest else ""
    raise TooFewScores(
        f"{windows} conformal calibration windows give {n} scores{fewest} {where}{gaps}, enough "
        f"for central intervals up to {100.0 * n / (n + 1):.1f} %, but the run asks for "
        f"{' and '.join(asked)}: {advice}",
        n,
    )


def _gappy(datamodule, observed, per_series: bool, n_series: int, panel: bool, owners) -> str:
    """`` for [names]``: the series whose missing targets left the fewest scores."""
    if panel:
        by_series: dict[str, int] = {}
        for owner, seen in zip(owners, observed.sum(dim=(1, 2)).tolist(), strict=True):
            by_series[owner] = by_series.get(owner, 0) + int(seen)
        least = min(by_series.values())
        return f" (fewest from {[s for s, c in by_series.items() if c == least][:5]})"
    if not per_series or n_series == 1:
        return ""
    counts = observed.sum(dim=0).min(dim=0).values
    return f" for {[datamodule.columns[j] for j in (counts == counts.min()).nonzero()[:, 0]]}"


def _percent(levels: list[float]) -> str:
    return "[" + ", ".join(level_name(v) for v in levels) + "]"


def residuals_of(point: Tensor, target: Tensor, x: Tensor, normalize: bool) -> Tensor:
    """Signed residuals ``[B, S, N]`` of forecasts from the look-backs ``x``: their absolute
    values are the nonconformity scores."""
    residual = target.float() - point.float()
    return residual / lookback_spread(x) if normalize else residual


def group_by_variate(scores: Tensor, variate: Tensor) -> Tensor:
    """Channel-independent samples ``[N * k, S, 1]`` -> ``[k, S, N]`` by their variate."""
    n_vars = int(variate.max()) + 1
    order = torch.sort(variate, stable=True).indices
    return scores[order, :, 0].reshape(n_vars, -1, scores.shape[1]).permute(1, 2, 0)


@torch.no_grad()
def calibrate(
    module: Any, datamodule: ForecastDataModule, config: ConformalConfig, indices: list[int]
) -> ConformalScores:
    """Scores of ``module``'s point forecasts on the validation samples ``indices`` (the
    windows :func:`tsfm.training.conformal_plan.calibration_plan` chose); the module must not
    have trained on them. A missing target gives a NaN score, which no interval reads."""
    if module.head.probabilistic:
        raise InputError(
            f"conformal.windows calibrates point models; loss={module.head.name} already "
            "forecasts intervals (use a point loss, e.g. loss=mse, for conformal intervals)"
        )
    dataset = datamodule.datasets["val"]
    was_training = module.training
    module.eval()
    parts, variates = [], []
    size = datamodule.config.eval_batch_size
    for start in range(0, len(indices), size):
        batch = batch_to(dataset.__getitems__(indices[start : start + size]), module.device)
        point = module(batch).prediction
        if not bool(torch.isfinite(point).all()):
            raise InputError("the calibration forecasts have NaN or inf values")
        score = residuals_of(point, batch["y"], batch["x"], config.normalize)
        if "y_mask" in batch:  # a missing target gives no score
            score = score.masked_fill(~batch["y_mask"].bool(), float("nan"))
        parts.append(score.cpu())
        if "variate" in batch:
            variates.append(batch["variate"].cpu())
    module.train(was_training)
    scores = torch.cat(parts)
    if variates:
        scores = group_by_variate(scores, torch.cat(variates))
    owners = {datamodule.window_series("val", i) for i in indices}
    pooled = 0 if None in owners else len(owners)
    return ConformalScores.from_residuals(scores, config.normalize, config.adaptive_rate, pooled)
