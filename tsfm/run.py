"""``python -m tsfm.run``: train and test one configuration (Hydra overrides, multirun too).

Examples::

    python -m tsfm.run                                   # iTransformer (official defaults), ETTh1
    python -m tsfm.run experiment=itransformer_ettm1_192 trainer=gpu
    python -m tsfm.run -m data=etth1,ettm1 data.pred_len=96,192
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from tsfm.cli_errors import (
    input_errors_end_the_command,
    refuse_unknown_keys_first,
    with_override,
)
from tsfm.cli_failures import failed_jobs_listed, failures_recorded
from tsfm.config import CONF_DIR, check_relative_data_path, register_configs
from tsfm.errors import InputError
from tsfm.training.console import log_through_root, warnings_through_logging
from tsfm.training.run_dirs import interrupted_line
from tsfm.training.termination import TERMINATED_STATUS

# Lightning (with torchmetrics, torchvision, transformers) and what builds on it are imported
# by run(), so that --help, --cfg and refused keys do not wait for them.

log = logging.getLogger("tsfm.run")
register_configs()


def run(cfg: DictConfig, run_dir: str | Path) -> dict:
    """Train, test and write the run directory; returns the metrics.

    A run without ``resume=true`` refuses a directory holding an earlier run's checkpoints
    or metrics.json; with it, a run that already finished there, resumed with the same
    stopping settings, is not trained or tested again: its metrics.json's metrics are shown
    and returned (:mod:`tsfm.training.finished_runs`). A diverged run leaves
    ``metrics.json`` with ``"status": "diverged"`` and the reason, and raises; so does a run
    whose test metrics are not finite (they are written as null). Any other failure of the
    command's job leaves ``"status": "failed"`` (:mod:`tsfm.cli_failures`).
    """
    import torch
    from lightning.pytorch.utilities import rank_zero_only

    from tsfm.forecast_file import write_forecasts
    from tsfm.pipeline import fit_and_test
    from tsfm.report import metrics_table, plot_forecasts, run_title, with_configured_scaler
    from tsfm.training.artifacts import finite_metrics, write_run_files
    from tsfm.training.divergence import LIKELY_CAUSES, DivergedError
    from tsfm.training.finished_runs import already_finished, finished_run
    from tsfm.training.progress import NoticeLog, epoch_log
    from tsfm.training.run_dirs import check_fresh_run_dir
    from tsfm.training.runtime import resolved_autocast
    from tsfm.training.validation_notes import validation_notes

    run_dir = Path(run_dir)
    if (finished := finished_run(cfg, run_dir)) is not None:
        log.info("%s", already_finished(run_dir, finished))  # not trained and tested again
        if cfg.output.print_table:
            shown = with_configured_scaler(finished, cfg)
            log.info("\n%s\n%s", run_title(cfg), metrics_table(shown))
        return finished
    check_fresh_run_dir(cfg, run_dir)
    try:
        # one line per epoch into run.log, and onto a console without a progress bar; the
        # models' notices (TimesCLIP's encoding time) onto the console and into run.log
        callbacks = [epoch_log(cfg.trainer), NoticeLog()]
        result = fit_and_test(cfg, run_dir, extra_callbacks=callbacks)
    except DivergedError as err:
        if run_dir.is_dir() and rank_zero_only.rank == 0:
            write_run_files(cfg, run_dir, {"error": str(err)}, status="diverged")
        raise
    for key, note in validation_notes(result.metrics, cfg).items():  # worse than a baseline
        result.metrics[f"val/warnings/{key}"] = note  # metrics.json, as test/warnings/<key>
        if result.trainer.is_global_zero:
            log.warning("validation: %s", note)
    _, non_finite = finite_metrics(result.metrics)
    if result.trainer.is_global_zero:
        write_run_files(cfg, run_dir, result.metrics)
        if result.module.conformal is not None:  # tensors only: weights_only=True reads them
            torch.save(result.module.conformal.state_dict(), run_dir / "conformal.pt")
    if non_finite:
        raise DivergedError(
            f"the run's {non_finite} are not finite numbers; metrics.json holds null for them "
            f"(status non_finite). The model's forecasts or the data's original scale "
            f"overflow. {LIKELY_CAUSES}"
        )
    if result.trainer.is_global_zero:
        device = result.module.device
        with torch.inference_mode(), resolved_autocast(result.trainer.precision, device):
            if cfg.output.plot and cfg.test:
                plot_forecasts(
                    result.module,
                    result.datamodule,
                    run_dir / "forecast.png",
                    cfg.output.plot_windows,
                    variates=cfg.output.plot_variates,
                    title=run_title(cfg, result.metrics),
                )
            if cfg.output.forecasts and cfg.test:
                path = run_dir / "forecasts.parquet"
                write_forecasts(result.module, result.datamodule, path, cfg.get("nonnegative"))
        if cfg.output.print_table:  # through logging: the console and the run's run.log
            log.info("\n%s\n%s", run_title(cfg), metrics_table(result.metrics))
            log.info("run directory: %s", run_dir)
            if cfg.output.plot and cfg.test:
                log.info("forecast plot: %s", run_dir / "forecast.png")
            if cfg.output.forecasts and cfg.test:
                log.info("test forecasts: %s", run_dir / "forecasts.parquet")
    return result.metrics


def refuse_search_space(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """A search space (``hparams_search=<name>``, ``tune.params``) is ``python -m tsfm.tune``'s;
    this command would train one configuration and ignore it. ``overrides``: the command's."""
    searched = [k for k, v in (cfg.tune.get("params") or {}).items() if v is not None]
    chosen = [o.lstrip("+") for o in overrides if o.lstrip("+").startswith("hparams_search=")]
    if not searched and not chosen:
        return
    given = chosen[0] if chosen else "tune.params"
    raise InputError(
        f"{given} is a search space ({', '.join(searched) or 'no entries'}), and python -m "
        f"tsfm.run trains one configuration, ignoring it: to search it run python -m tsfm.tune "
        f"with the same overrides (python -m tsfm.tune {given} ...); to train once, drop {given}"
    )


def pinned_sweep_dir(argv: Sequence[str], run_dir: Path, subdir: str) -> list[str]:
    """The multirun command line ``argv`` with its sweep folder, the one holding the job's
    ``run_dir`` as ``subdir``, pinned (``hydra.sweep.dir=...``), unless it sets one already.

    Lightning's DDP launcher starts the other processes by running the command again (with
    ``sys.argv``); they run the same sweep, job by job, and without the pin each would put
    its job folders in a ``multirun/<time>`` folder of its own start time."""
    argv = list(argv)
    if any(arg.lstrip("+").startswith("hydra.sweep.dir=") for arg in argv):
        return argv
    parts = Path(subdir).parts
    if not parts or run_dir.parts[-len(parts) :] != parts:
        return argv  # a job folder outside its sweep folder: nothing to pin
    folder = str(Path(*run_dir.parts[: -len(parts)]))
    return with_override(argv, "hydra.sweep.dir='" + folder.replace("'", "\\'") + "'")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    log_through_root()  # Lightning's info lines into run.log too
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    job = None  # a multirun's job: its number and overrides, in the line saying it failed
    if hydra_cfg.mode == RunMode.MULTIRUN:
        job = f"#{hydra_cfg.job.num} ({' '.join(hydra_cfg.overrides.task)})"
        sweep = str(hydra_cfg.sweep.subdir)  # DDP's other processes run the sweep in it too
        sys.argv = [sys.argv[0], *pinned_sweep_dir(sys.argv[1:], run_dir, sweep)]
    try:
        with (
            input_errors_end_the_command(log),
            failures_recorded(cfg, run_dir, log, job),  # the error in run.log, metrics.json
            warnings_through_logging(),
        ):
            refuse_search_space(cfg, hydra_cfg.overrides.task)
            check_relative_data_path(cfg.data, hydra_cfg.job.get("chdir"), hydra_cfg.runtime.cwd)
            metrics = run(cfg, run_dir)  # warnings into run.log too, naming tsfm's lines
    except KeyboardInterrupt as stop:  # Ctrl-C: checkpoints kept, one line on how to resume
        epochs = getattr(stop, "epochs", None)  # FitInterrupted's, when it came during fit
        log.error("%s", interrupted_line(run_dir, list(hydra_cfg.overrides.task), epochs))
        raise SystemExit(1) from None
    except SystemExit as stop:  # a SIGTERM during training (status 143): the same line
        if stop.code == TERMINATED_STATUS:
            overrides = list(hydra_cfg.overrides.task)
            log.error("terminated (SIGTERM): %s", interrupted_line(run_dir, overrides, None))
        raise
    return metrics.get("val/best_loss")


if __name__ == "__main__":
    refuse_unknown_keys_first(sys.argv[1:], refuse_search_space, app=main)
    with failed_jobs_listed():  # after a multirun: every failed job, not only the first
        main()
