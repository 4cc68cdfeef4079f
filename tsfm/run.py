"""``python -m tsfm.run``: train and test one configuration (Hydra overrides, multirun too).

Examples::

    python -m tsfm.run                                   # iTransformer on ETTh1, 96 -> 96
    python -m tsfm.run experiment=itransformer_ettm1_192 trainer=gpu
    python -m tsfm.run -m data=etth1,ettm1 data.pred_len=96,192
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tsfm.config import CONF_DIR, register_configs
from tsfm.pipeline import fit_and_test
from tsfm.report import metrics_table, plot_forecasts
from tsfm.training.artifacts import write_run_files

log = logging.getLogger("tsfm.run")
register_configs()


def run(cfg: DictConfig, run_dir: str | Path) -> dict:
    """Train, test and write the run directory; returns the metrics."""
    run_dir = Path(run_dir)
    result = fit_and_test(cfg, run_dir)
    if result.trainer.is_global_zero:
        write_run_files(cfg, run_dir, result.metrics)
        if result.module.conformal is not None:  # tensors only: weights_only=True reads them
            torch.save(result.module.conformal.state_dict(), run_dir / "conformal.pt")
        if cfg.output.plot and cfg.test:
            plot_forecasts(
                result.module, result.datamodule, run_dir / "forecast.png", cfg.output.plot_windows
            )
        if cfg.output.print_table:
            print(
                f"\n{cfg.model.name} on {cfg.data.name} ({cfg.data.seq_len} -> {cfg.data.pred_len})"
            )
            print(metrics_table(result.metrics))
            print(f"run directory: {run_dir}")
    return result.metrics


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    metrics = run(cfg, HydraConfig.get().runtime.output_dir)
    return metrics.get("val/best_loss")


if __name__ == "__main__":
    main()
