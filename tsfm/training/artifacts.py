"""What a run leaves and how a trained module is rebuilt: one place for every front door
(``python -m tsfm.run``, tuning, the Forecaster's save/load)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from tsfm.data.seasons import resolve_season_length
from tsfm.training.environment import versions
from tsfm.training.forecasting_core import InferenceModule
from tsfm.training.heads import Head, head_dims, make_head
from tsfm.training.scoring import DEFAULT_QUANTILES, run_levels

if TYPE_CHECKING:  # imported where a training module is built: it imports Lightning
    from tsfm.training.module import ForecastingModule


def _container(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def levels_of(cfg: DictConfig) -> list[float]:
    """The interval levels the run config ``cfg`` scores: its ``levels``, or where they are
    None (the default) those its loss and quantiles support (:func:`run_levels`)."""
    quantiles = cfg.get("quantiles", DEFAULT_QUANTILES)
    return list(run_levels(cfg.get("loss", "mse"), quantiles, cfg.get("levels")))


def settle_levels(cfg: DictConfig) -> None:
    """Write :func:`levels_of` into ``cfg.levels``, so that every reader of the config (and
    the files a run saves) sees the levels that were scored."""
    cfg.levels = levels_of(cfg)


def module_from_config(
    cfg: DictConfig,
    dims: dict[str, int],
    scaler: dict[str, list[float]] | None,
    freq: str | None = None,
    period: int | None = None,
    training: bool = True,
) -> ForecastingModule | InferenceModule:
    """The training module of the run config ``cfg`` for data of ``dims`` (and the data
    scaler's state, for original-scale metrics and forecasts); ``freq``: the data's sampling
    frequency, which ``season_length=None`` follows (default: ``data.freq``), unless the data
    has its own seasonal ``period`` (M4). ``training=False``: its forecasting part only
    (:class:`~tsfm.training.forecasting_core.InferenceModule`: the same weights, checks and
    forecasts, without importing Lightning), for a model that is loaded to forecast."""
    if training:
        from tsfm.training.module import ForecastingModule as build
    else:
        build = InferenceModule
    return build(
        model=_container(cfg.model),
        dims=dict(dims),
        optim=_container(cfg.optim),
        loss=cfg.loss,
        scaler=scaler,
        quantiles=list(cfg.get("quantiles", DEFAULT_QUANTILES)),
        levels=levels_of(cfg),
        season_length=season_length(cfg, freq, dims["seq_len"], period),
        mase_scale=cfg.get("mase_scale") or "lookback",
    )


def head_of(cfg: DictConfig) -> Head:
    """The output head of the run config ``cfg`` (its ``loss``, ``quantiles`` and ``levels``)."""
    return make_head(cfg.loss, cfg.get("quantiles", DEFAULT_QUANTILES), levels_of(cfg))


def built_dims(cfg: DictConfig, dims: dict[str, int]) -> dict[str, int]:
    """The dimensions the model of ``cfg`` is built with for data of ``dims``: ``pred_len``
    times its head's outputs per step (what the weight and memory checks must expect)."""
    return head_dims(dims, head_of(cfg).size)


def season_length(
    cfg: DictConfig,
    freq: str | None = None,
    lookback: int | None = None,
    period: int | None = None,
) -> int:
    """The run's ``season_length``, or when it is None the data's own seasonal ``period``
    (M4's, which its MASE uses) if it fits in the look-back, else the default of the data's
    frequency (``freq``, ``lookback``: the data's, by default ``data.freq`` and ``data.seq_len``)."""
    data = cfg.get("data") or {}
    freq, lookback = freq or data.get("freq"), lookback or data.get("seq_len")
    if cfg.get("season_length") is None and period is not None and 0 < period <= lookback:
        return period
    return resolve_season_length(cfg.get("season_length"), freq, lookback)


def finite_metrics(metrics: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``metrics`` with every NaN or infinite number replaced by None, and the keys replaced."""
    clean, bad = {}, []
    for key, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            clean[key] = None
            bad.append(key)
        else:
            clean[key] = value
    return clean, bad


def metrics_json(metrics: dict[str, Any], status: str | None = None) -> str:
    """metrics.json's text: strict JSON (no NaN/Infinity tokens) with a ``status`` field,
    ``ok``, or ``non_finite`` with the affected keys in ``non_finite`` (their values null),
    or the caller's ``status`` (``diverged``, ``failed``: with the ``error``)."""
    clean, bad = finite_metrics(metrics)
    clean["status"] = status or ("non_finite" if bad else "ok")
    if bad:
        clean["non_finite"] = bad
    return json.dumps(clean, indent=2, sort_keys=True, allow_nan=False)


def file_text(path: Path) -> str | None:
    """The text of the file at ``path`` (None: absent or unreadable)."""
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def run_status(text: str | None) -> str | None:
    """The ``status`` of a metrics.json's text (None: not a run's metrics.json)."""
    try:
        record = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return record.get("status") if isinstance(record, dict) else None


def write_run_files(
    cfg: DictConfig, run_dir: Path, metrics: dict[str, Any], status: str | None = None
) -> None:
    """config.yaml (resolved), metrics.json (see :func:`metrics_json`) and versions.json
    (:func:`~tsfm.training.environment.versions`: with the precision the run trained in) in
    the run directory."""
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    (run_dir / "metrics.json").write_text(metrics_json(metrics, status))
    record = versions(metrics.get("precision"), cfg.get("threads"))
    (run_dir / "versions.json").write_text(json.dumps(record, indent=2))
