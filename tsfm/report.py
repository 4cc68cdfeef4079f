"""What a run shows people: a metrics table on the console and a forecast plot
(``forecast.png``: test windows of the chosen targets, dates, bands, the run's score)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsfm.data import ForecastDataModule
from tsfm.data.batch import batch_to
from tsfm.drawing import Panel, choose_series, draw, wall_times
from tsfm.training.module import ForecastingModule
from tsfm.training.scoring import level_bounds
from tsfm.training.test_floors import floor_original

TABLE_METRICS = ("mse", "mae", "rmse")
SCALE_FREE = (("sMAPE", "smape"), ("MAPE", "mape"), ("MASE", "mase"))
PLOT_MAX_VARIATES = 4  # panels per test window when output.plot_variates is not set


SCALED_LABELS = {"robust": "robust-scaled", "none": "unscaled"}  # else the papers' standard


def scaled_label(metrics: dict[str, Any]) -> str:
    """The name of the scaled metrics' row, by metrics.json's ``scaler``: ``scaled (papers)``
    for the standard scaler (the papers' numbers; an older run's ``"train rows"`` too, unless
    :func:`with_configured_scaler` read its config),
    ``robust-scaled`` (median and interquartile range: not comparable with the papers'),
    ``unscaled`` (``data.scale=false``: the data's own units, as the original scale's row)."""
    return SCALED_LABELS.get(str(metrics.get("scaler")), "scaled (papers)")


def with_configured_scaler(metrics: dict[str, Any], cfg: Any) -> dict[str, Any]:
    """``metrics`` naming the run's scaler: runs written before metrics.json named it say
    ``"train rows"`` for every scaler, standard or robust; the run's config says which."""
    if metrics.get("scaler") != "train rows":
        return metrics
    return {**metrics, "scaler": str(cfg.data.get("scaler", "standard"))}


def metrics_table(metrics: dict[str, Any], stage: str = "test") -> str:
    """A small fixed-width table: one row per scale, one column per metric."""
    rows = [(scaled_label(metrics), ""), ("original scale", "_original")]
    if f"{stage}/owa" in metrics:  # the M4 short-term task (tsfm/data/m4/)
        return m4_metrics_table(metrics, stage)
    present = [m for m in TABLE_METRICS if f"{stage}/{m}" in metrics]
    if not present:
        return f"no {stage} metrics"
    header = f"{stage:<16}" + "".join(f"{m.upper():>12}" for m in present)
    lines = [header, "-" * len(header)]
    for label, suffix in rows:
        cells = "".join(
            f"{metrics.get(f'{stage}/{m}{suffix}', float('nan')):>12.4f}" for m in present
        )
        lines.append(f"{label:<16}{cells}")
    return "\n".join(lines + baseline_lines(metrics, stage) + interval_table(metrics, stage))


def baseline_lines(metrics: dict[str, Any], stage: str = "test") -> list[str]:
    """The seasonal-naive forecast of the same windows (scaled) and the model's skill against
    it, with the scale-free sMAPE, MAPE and MASE, when the run has them."""
    snaive = [metrics.get(f"{stage}/snaive_{m}") for m in ("mse", "mae")]
    if None in snaive:
        return []
    season = metrics.get("season_length", "?")
    cells = f"{snaive[0]:>12.4f}{snaive[1]:>12.4f}{snaive[0] ** 0.5:>12.4f}"
    scale = scaled_label(metrics).replace(" (papers)", "")
    lines = [f"{'seasonal naive':<16}{cells}   ({scale}; season {season})"]
    skill = [(m.upper(), metrics.get(f"{stage}/skill_{m}")) for m in ("mse", "mae")]
    scale_free = [(name, metrics.get(f"{stage}/{key}")) for name, key in SCALE_FREE]
    skills = [f"{name} {value:+.1%}" for name, value in skill if value is not None]
    naive = metrics.get(f"{stage}/skill_mae_naive")  # 1 - model / naive (the last value)
    against_naive = "" if naive is None else f"; vs naive: MAE {naive:+.1%}"
    if skills:  # 1 - model / seasonal naive: above 0 the model is better
        lines.append("skill vs seasonal naive: " + ", ".join(skills) + against_naive)
    signs = f"{stage}/warnings/sign_changes" in metrics  # MAPE explodes near 0: not shown
    free = [
        f"{name} {value:.3f}"
        for name, value in scale_free
        if value is not None and not (signs and name == "MAPE")
    ]
    if free:
        gone = " (MAPE: in metrics.json; actuals change sign)" if signs else ""
        lines.append("scale-free: " + ", ".join(free) + gone)
    if f"{stage}/undefined/mase" in metrics:
        lines.append(f"MASE: undefined ({mase_missing(metrics, stage)})")
    return lines


def mase_missing(metrics: dict[str, Any], stage: str = "test") -> str:
    """Why a run has no MASE, and what gives it: a look-back of at most one season holds no
    pair of values a season apart to scale it by (ETTm1's usual 96 steps of 15 minutes)."""
    lookback, season = metrics.get("seq_len"), metrics.get("season_length")
    history = metrics.get("mase_scale") == "history"
    if not history and isinstance(lookback, int) and isinstance(season, int) and lookback <= season:
        return (
            f"a look-back of {lookback} rows holds no pair of values season_length={season} "
            "apart to scale it by; mase_scale=history scales it by the series' rows before "
            "each window"
        )
    return f"metrics.json's {stage}/undefined/mase says why"


def interval_table(metrics: dict[str, Any], stage: str = "test") -> list[str]:
    """CRPS, coverage and width per level, and MSIS, when the run has intervals."""
    if f"{stage}/crps" not in metrics:
        return []
    levels = sorted(
        {k.split("coverage_", 1)[1] for k in metrics if k.startswith(f"{stage}/coverage_")},
        key=float,
    )
    names = ["crps", *(f"{kind}_{v}" for v in levels for kind in ("coverage", "width"))]
    names += ["msis"] if f"{stage}/msis" in metrics else []
    header = f"{'intervals':<16}" + "".join(f"{n.upper().replace('_', ' '):>12}" for n in names)
    lines = ["", header, "-" * len(header)]
    for label, suffix in ((scaled_label(metrics), ""), ("original scale", "_original")):
        cells = ""
        for name in names:
            scale_free = name.startswith(("coverage", "msis"))
            value = metrics.get(f"{stage}/{name}{'' if scale_free else suffix}", float("nan"))
            cells += f"{value:>12.4f}"
        lines.append(f"{label:<16}{cells}")
    return lines


def m4_metrics_table(metrics: dict[str, Any], stage: str = "test") -> str:
    """sMAPE / MASE / OWA of an M4 run beside the Naive2 benchmark on the same series."""
    header = f"{stage:<16}{'SMAPE':>12}{'MASE':>12}{'OWA':>12}"
    model = [metrics[f"{stage}/{k}"] for k in ("smape", "mase", "owa")]
    naive2 = [metrics[f"{stage}/naive2_smape"], metrics[f"{stage}/naive2_mase"], 1.0]
    lines = [header, "-" * len(header)]
    for label, row in (("model", model), ("Naive2", naive2)):
        lines.append(f"{label:<16}" + "".join(f"{v:>12.3f}" for v in row))
    if f"{stage}/msis" in metrics:
        coverage = metrics.get(f"{stage}/coverage_95", float("nan"))
        lines += [
            "",
            f"{'95 % intervals':<16}{'COVERAGE':>12}{'MSIS':>12}",
            f"{'model':<16}{coverage:>12.3f}{metrics[f'{stage}/msis']:>12.3f}",
            f"{'seasonal naive':<16}{metrics[f'{stage}/snaive_coverage_95']:>12.3f}"
            f"{metrics[f'{stage}/snaive_msis']:>12.3f}",
        ]
    if metrics.get("validation_on_test"):
        lines.append("(validated on the TEST set: the official code's protocol)")
    return "\n".join(lines)


def run_title(cfg: Any, metrics: dict[str, Any] | None = None) -> str:
    """``<model> on <data> (<seq_len> -> <pred_len>)`` and, with ``metrics``, the test
    scores: sMAPE/MASE/OWA for M4, else MSE and MAE on the scaled data (the papers' with the
    standard scaler; the scaler named otherwise), and CRPS when the run has intervals."""
    title = f"{cfg.model.name} on {cfg.data.name} ({cfg.data.seq_len} -> {cfg.data.pred_len})"
    metrics = metrics or {}
    if "test/owa" in metrics:  # M4 (every run has smape and mase now)
        names = (("sMAPE", "smape"), ("MASE", "mase"), ("OWA", "owa"))
    else:
        names = (("MSE", "mse"), ("MAE", "mae"), ("CRPS", "crps"))
    scores = [f"{label} {metrics[f'test/{key}']:.3f}" for label, key in names
              if isinstance(metrics.get(f"test/{key}"), (int, float))]  # fmt: skip
    label = scaled_label(metrics)
    scaled = "" if "test/owa" in metrics or label == "scaled (papers)" else f" ({label})"
    return f"{title}: test {', '.join(scores)}{scaled}" if scores else title


def check_plot_variates(cfg: Any, datamodule: ForecastDataModule) -> None:
    """Refuse ``output.plot_variates`` naming no target before training, not after it."""
    output = cfg.get("output")
    if output is None or not output.get("plot") or not cfg.test:
        return
    if output.get("plot_variates") is not None:
        choose_series(datamodule.columns, list(output.plot_variates), None, "output.plot_variates")


def plot_variates(datamodule: ForecastDataModule, wanted: Sequence[str] | None) -> list[str]:
    """The target columns ``forecast.png`` draws: ``wanted`` (``output.plot_variates``,
    checked), or the data's target (``data.target``, else the last column) first and then
    the other targets, at most
    :data:`PLOT_MAX_VARIATES`."""
    columns = [str(c) for c in datamodule.columns]
    if wanted is not None:
        return choose_series(columns, list(wanted), None, "output.plot_variates")
    target = str(getattr(datamodule.config, "target", None) or columns[-1])  # target: last
    order = ([target] if target in columns else []) + [c for c in columns if c != target]
    return order[:PLOT_MAX_VARIATES]


def _original(values: torch.Tensor, mask: Any) -> Any:
    """``values`` (on the original scale) as numpy, NaN where ``mask`` says unobserved."""
    out = values.float().cpu().numpy()
    if mask is not None:
        out = np.where(mask.cpu().numpy() > 0, out, np.nan)
    return out


@torch.no_grad()
def forecast_figure(
    module: ForecastingModule,
    datamodule: ForecastDataModule,
    n_windows: int = 4,
    variates: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """A Figure of ``n_windows`` evenly spaced test windows (rows) by the chosen target
    columns (``variates``, see :func:`plot_variates`): look-back, actual values, forecast,
    the bands of the run's interval levels when the model has intervals, and the forecast
    origin; dates on the x-axis when the data has them (steps otherwise), ``title`` above."""
    datamodule.setup("test")
    dataset = datamodule.datasets["test"]
    columns = [str(c) for c in datamodule.columns]
    chosen = plot_variates(datamodule, variates)
    wanted = [columns.index(c) for c in chosen]
    independent = bool(getattr(dataset, "channel_independent", False))
    count = dataset.n_windows if independent else len(dataset)
    picks = sorted({int(w) for w in np.linspace(0, count - 1, max(1, n_windows)).round()})
    # channel-independent: one sample per (window, variate), variate-major in the dataset
    samples = [v * count + w for w in picks for v in wanted] if independent else picks
    was_training = module.training
    module.eval()
    batch = batch_to(dataset.__getitems__(samples), module.device)
    output = module(batch)
    # nonnegative: floored as the test scores and forecasts.parquet (the pipeline's columns)
    prediction = _original(
        floor_original(module, module.to_original(output.prediction, batch), batch), None
    )
    history = _original(module.as_read(batch, "x", torch.float32), batch.get("x_mask"))
    actual = _original(module.as_read(batch, "y", torch.float32), batch.get("y_mask"))
    levels = sorted(module.hparams.get("levels", ()), reverse=True) if module.has_intervals else []
    taus = [tau for level in levels for tau in level_bounds(level)]
    bands = None
    if taus:
        quantiles = module.predictive_quantiles(output, batch, taus)
        bands = _original(floor_original(module, module.to_original(quantiles, batch), batch), None)
    module.train(was_training)

    seq_len, pred_len = history.shape[1], actual.shape[1]
    time_type = datamodule.time_type() or {}
    zone = None if time_type.get("wall") else time_type.get("tz")  # instants: shown local
    panels = []
    for i, window in enumerate(picks):
        times = wall_times(datamodule.window_times("test", window), zone)
        if times is None:
            times = np.arange(seq_len + pred_len)
        for k, name in enumerate(chosen):
            row, col = (i * len(chosen) + k, 0) if independent else (i, wanted[k])
            panel_bands = [
                (level, bands[row, :, col, 2 * q], bands[row, :, col, 2 * q + 1])
                for q, level in enumerate(levels)
            ] if bands is not None else []  # fmt: skip
            panels.append(
                Panel(
                    title=f"{datamodule.window_name('test', window)}: {name}",
                    past_times=times[:seq_len],
                    past=history[row, :, col],
                    times=times[seq_len:],
                    forecast=prediction[row, :, col],
                    bands=panel_bands,
                    actual_times=times[seq_len:],
                    actual=actual[row, :, col],
                )
            )
    return draw(panels, n_cols=len(chosen), title=title)


def plot_forecasts(
    module: ForecastingModule,
    datamodule: ForecastDataModule,
    path: str | Path,
    n_windows: int = 4,
    variates: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Write :func:`forecast_figure` to ``path`` (a PNG); returns the path."""
    fig = forecast_figure(module, datamodule, n_windows, variates, title)
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
