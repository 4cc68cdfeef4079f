"""What a run shows people: a metrics table on the console and a forecast plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from tsfm.data import ForecastDataModule
from tsfm.data.batch import batch_to
from tsfm.training.module import ForecastingModule

TABLE_METRICS = ("mse", "mae", "rmse")


def metrics_table(metrics: dict[str, Any], stage: str = "test") -> str:
    """A small fixed-width table: one row per scale, one column per metric."""
    rows = [("scaled (papers)", ""), ("original scale", "_original")]
    if f"{stage}/smape" in metrics:  # the M4 short-term task (tsfm/data/m4/)
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
    return "\n".join(lines)


def m4_metrics_table(metrics: dict[str, Any], stage: str = "test") -> str:
    """sMAPE / MASE / OWA of an M4 run beside the Naive2 benchmark on the same series."""
    header = f"{stage:<16}{'SMAPE':>12}{'MASE':>12}{'OWA':>12}"
    model = [metrics[f"{stage}/{k}"] for k in ("smape", "mase", "owa")]
    naive2 = [metrics[f"{stage}/naive2_smape"], metrics[f"{stage}/naive2_mase"], 1.0]
    lines = [header, "-" * len(header)]
    for label, row in (("model", model), ("Naive2", naive2)):
        lines.append(f"{label:<16}" + "".join(f"{v:>12.3f}" for v in row))
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
    """Look-back, actuals and forecast of ``n_windows`` evenly spaced test windows (one variate)."""
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
    prediction = module.to_original(module(batch).prediction, batch).float().cpu()
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
        ax.plot(future, prediction[i, :, variate], color="tab:red", lw=1.2, label="forecast")
        ax.set_title(f"test window {start}: {column}", fontsize=9)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
