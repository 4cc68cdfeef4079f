"""``python -m tsfm.tune``: an Optuna study over any run config (seeded TPE, pruning, resumable).

Examples::

    python -m tsfm.tune hparams_search=itransformer                        # 20 trials, SQLite
    python -m tsfm.tune experiment=itransformer_etth1_96 hparams_search=itransformer \\
        tune.n_trials=50 trainer.max_epochs=5
    # one entry changed, one added, one dropped (the space's keys hold dots: a dict override)
    python -m tsfm.tune hparams_search=itransformer \\
        '+tune.params={model.d_model:"choice(64,128)",model.n_heads:"choice(4,8)"}' \\
        'tune.params={data.batch_size:null}'
    # several workers, on several machines, sharing one study:
    python -m tsfm.tune hparams_search=itransformer tune.storage=postgresql://user@db/optuna

The entry point only: the study code lives in :mod:`tsfm.tuning` (``config_study`` drives
this command; the search space, study and output modules are shared with ``Forecaster.tune``).
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from tsfm.cli_errors import input_errors_end_the_command, refuse_unknown_keys_first, with_override
from tsfm.config import CONF_DIR, check_relative_data_path, register_configs
from tsfm.training.console import log_through_root, warnings_through_logging
from tsfm.tuning.config_study import tune
from tsfm.tuning.study import NoBestTrial

log = logging.getLogger("tsfm.tune")
register_configs()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO)  # one line per finished trial
    if logging.getLogger().handlers:  # through Hydra's console and tune.log
        optuna.logging.disable_default_handler()
        optuna.logging.enable_propagation()
        log_through_root()
    hydra_cfg = HydraConfig.get()
    try:
        with input_errors_end_the_command(log), warnings_through_logging():  # into tune.log too
            check_relative_data_path(cfg.data, hydra_cfg.job.get("chdir"), hydra_cfg.runtime.cwd)
            study, outputs = tune(cfg, hydra_cfg.overrides.task)
    except KeyboardInterrupt as stop:  # Ctrl-C: Optuna marks the trial under way failed
        epochs = getattr(stop, "epochs", None)  # FitInterrupted's, when it came during fit
        done = "" if epochs is None else f" during a trial, after {epochs} finished epoch(s)"
        log.error(
            "tuning interrupted%s; the study keeps its finished trials: run the same command "
            "again to continue it",
            done,
        )
        raise SystemExit(1) from None
    except NoBestTrial as failed:  # every trial failed: why, and a failed command
        log.error("%s", failed)
        raise SystemExit(1) from None
    log.info("%s", outputs["table"])
    for key in ("experiment", "history", "importance"):
        if outputs.get(key) is not None:
            log.info("%s: %s", key, outputs[key])
    return study.best_value if outputs.get("experiment") else None


def _logs_in_the_study_folder(argv: list[str]) -> list[str]:
    """Hydra's own files (``.hydra/``, ``tune.log``) go to the study's folder, ``tune.dir``,
    instead of a run folder under ``outputs/`` that would hold nothing else (the override
    joins the others where Hydra's parser takes it: :func:`~tsfm.cli_errors.with_override`)."""
    if any(arg.startswith(("hydra.run.dir=", "+hydra.run.dir=")) for arg in argv):
        return argv
    return with_override(argv, "hydra.run.dir=${tune.dir}")


if __name__ == "__main__":
    sys.argv = [sys.argv[0], *_logs_in_the_study_folder(sys.argv[1:])]
    refuse_unknown_keys_first(sys.argv[1:], app=main)
    main()
