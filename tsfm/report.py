"""What a run shows people: a metrics table on the console and a forecast plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsfm.data import ForecastDataModule
from tsfm.data.batch import batch_to
from tsfm.training.module import ForecastingModule
from tsfm.training.scoring import level_bounds, level_name

TABLE_METRICS = ("mse", "mae", "rmse")


def metrics_table(metrics: dict[str, Any], stage: str = "test") -> str:
    """A small fixed-width table: one row per scale, one column per metric."""
    rows = [("scaled (papers)", ""), ("original scale", "_original")]
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
    return "\n".join(lines + interval_table(metrics, stage))


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
    for label, suffix in (("scaled (papers)", ""), ("original scale", "_original")):
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


@torch.no_grad()
def plot_forecasts(
    module: ForecastingModule,
    datamodule: ForecastDataModule,
    path: str | Path,
    n_windows: int = 4,
    variate: int = -1,
) -> Path:
    """Look-back, actuals and forecast of ``n_windows`` evenly spaced test windows (one
    variate), with the bands of the run's interval levels when the model has intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dataset = datamodule.datasets["test"]
    picks = np.linspace(0, len(dataset) - 1, n_windows).round().astype(int).tolist()
    batch = dataset.__getitems__(picks)
    was_training = module.training
    module.eval()
    device = module.device
    batch = batch_to(batch, device)
    output = module(batch)
    prediction = module.to_original(output.prediction, batch).float().cpu()
    levels = sorted(module.hparams.get("levels", ()), reverse=True) if module.has_intervals else []
    taus = [tau for level in levels for tau in level_bounds(level)]
    bands = None
    if taus:
        bands = module.to_original(module.predictive_quantiles(output, batch, taus), batch).cpu()
    history = module.to_original(batch["x"], batch).float().cpu()
    actual = module.to_original(batch["y"], batch).float().cpu()
    module.train(was_training)

    column = datamodule.columns[variate] if not datamodule.config.channel_independent else "series"
    fig, axes = plt.subplots(n_windows, 1, figsize=(9, 2.2 * n_windows), squeeze=False)
    seq_len = history.shape[1]
    for ax, i, start in zip(axes[:, 0], range(n_windows), picks, strict=False):
        past = np.arange(seq_len)
        future = np.arange(seq_len, seq_len + actual.shape[1])
        ax.plot(past, history[i, :, variate], color="0.4", lw=1, label="look-back")
        ax.plot(future, actual[i, :, variate], color="black", lw=1, label="actual")
        for k, level in enumerate(levels):
            lower, upper = bands[i, :, variate, 2 * k], bands[i, :, variate, 2 * k + 1]
            ax.fill_between(
                future,
                lower,
                upper,
                color="tab:red",
                alpha=0.15 + 0.1 * k,
                lw=0,
                label=f"{level_name(level)} % interval",
            )
        ax.plot(future, prediction[i, :, variate], color="tab:red", lw=1.2, label="forecast")
        ax.set_title(f"test window {start}: {column}", fontsize=9)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
