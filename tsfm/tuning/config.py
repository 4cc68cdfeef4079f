"""The ``tune.`` node of the run config: how ``python -m tsfm.tune`` runs an Optuna study."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TuneConfig:
    """Study settings; ``params`` is the search space (set by ``hparams_search=<model>``).

    Attributes:
        model: the model the search space is for (each ``conf/hparams_search/`` file names
            its own); a run of another model is refused before the first trial. null: no
            check (a space written for the run, e.g. ``+tune.params={...}`` alone).
        params: config key -> search expression in the grammar of Hydra's sweepers:
            ``choice(a, b, ...)``, ``range(start, stop[, step])``, ``interval(low, high)``,
            ``tag(log, interval(low, high))`` and ``int(interval(low, high))``; an entry
            set to null is dropped (not searched).
        n_trials: finished (complete or pruned) trials the study should hold; a resumed or
            shared study runs only the missing ones. A failed trial is replaced by another,
            until a run has failed as many trials as it had missing: it then stops, saying
            how many the study holds (run it again to add the rest).
        timeout: stop starting new trials after this many seconds (this worker).
        worker_trials: run at most this many trials in this process, failed ones included
            (e.g. to fit a batch job's time limit); null: as many as the study still needs.
        study_name: the study's name in the storage.
        dir: folder for the SQLite file, the trial runs and the outputs.
        storage: an Optuna RDB URL (``sqlite:///...``, ``postgresql://user@host/db``);
            null: ``sqlite:///<dir>/study.db``.
        seed: seed of the TPE sampler (null: the run's ``seed``). Trial ``k`` draws from
            ``seed + k``, so one worker repeats itself and parallel workers do not collide.
        startup_trials: random trials before TPE takes over.
        pruner: ``median`` (stop a trial whose validation loss is worse than the median of
            earlier trials at the same epoch), ``hyperband`` or ``none``; trials are pruned
            on ``val/loss``, or what ``metric`` ranks (:func:`tsfm.tuning.pruning.pruning_monitor`).
        pruner_startup_trials: trials finished before pruning starts.
        pruner_warmup_epochs: epochs of each trial before it may be pruned.
        metric: what is minimised: ``val/best_loss``, the best epoch's validation loss, or
            another value a trial reports (:data:`tsfm.tuning.checks.TRIAL_METRICS`).
        heartbeat_seconds: RDB heartbeat; a trial whose worker died is marked failed after
            two missed beats and retried once (null: off).
        keep_checkpoints: keep each trial's checkpoint (off: only config and metrics stay).
        plots: write the optimisation-history and parameter-importance PNGs.
    """

    model: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    n_trials: int = 20
    timeout: float | None = None
    worker_trials: int | None = None
    study_name: str = "${model.name}_${data.name}_${data.seq_len}_${data.pred_len}"
    dir: str = "tuning/${tune.study_name}"
    storage: str | None = None
    seed: int | None = None
    startup_trials: int = 5
    pruner: str = "median"
    pruner_startup_trials: int = 3
    pruner_warmup_epochs: int = 1
    metric: str = "val/best_loss"
    heartbeat_seconds: int | None = 60
    keep_checkpoints: bool = False
    plots: bool = True
