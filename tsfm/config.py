"""Typed config schemas, registered with Hydra so that a misspelt or mistyped override fails.

``conf/`` holds the YAML; each group file extends a schema stored here, in the group
``schema/<group>`` (so that no schema is a choice of the group): ``data/*.yaml`` ->
``schema/data/data`` (M4's: ``schema/data/m4``), ``model/<name>.yaml`` ->
``schema/model/<name>`` (derived from the model's constructor; a registered model without a
file is the choice ``model=<name>`` with its defaults), ``optim/*.yaml`` ->
``schema/optim/optim``, ``trainer/*.yaml`` -> ``schema/trainer/trainer`` (every argument of
``lightning.Trainer``, :mod:`tsfm.trainer_args`: read
without importing Lightning, so that loading a saved Forecaster, which checks its config
against these schemas, does not import it). A composed config is checked against them, keys added with
``+key=...`` included (:mod:`tsfm.config_keys`).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from tsfm.config_keys import check_known_keys
from tsfm.data.config import DataConfig
from tsfm.data.m4.files import M4DataConfig
from tsfm.local_files import refuse_url
from tsfm.models import REGISTRY, config_schema
from tsfm.trainer_args import trainer_arguments
from tsfm.training.conformal import ConformalConfig
from tsfm.training.optim import OptimConfig
from tsfm.training.run_dirs import run_record_subdir
from tsfm.training.scoring import DEFAULT_QUANTILES
from tsfm.tuning.config import TuneConfig

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


@functools.cache
def trainer_schema() -> type:
    """Every ``lightning.Trainer`` argument (but the ones tsfm sets itself), typed ``Any``."""
    spec = [(name, Any, field(default=default)) for name, default in trainer_arguments()]
    return dataclasses.make_dataclass("TrainerConfig", spec)


@dataclass
class EarlyStoppingConfig:
    enabled: bool = True
    monitor: str = "val/loss"
    patience: int = 3
    min_delta: float = 0.0


@dataclass
class CheckpointConfig:
    """Keep the best checkpoint by ``monitor``; it is restored before testing. ``save_last``
    also keeps ``last.ckpt`` (every epoch), from which ``resume=true`` continues."""

    enabled: bool = True
    monitor: str = "val/loss"
    save_last: bool = True


@dataclass
class CallbacksConfig:
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)


@dataclass
class LoggerConfig:
    """``csv`` (metrics.csv in the run directory), ``tensorboard`` or ``none``."""

    name: str = "csv"


@dataclass
class OutputConfig:
    """What a run writes besides the checkpoint and metrics.json.

    ``plot``: ``forecast.png``, ``plot_windows`` evenly spaced test windows (rows) by the
    target columns ``plot_variates`` (null: ``data.target`` first, then the other targets, at
    most 4), with dates, the forecast origin, interval bands and the test metrics in its
    title. ``print_table``: the metrics table on the console and in ``run.log``.
    ``forecasts``: ``forecasts.parquet``, every test window's forecast beside the actual
    values (:mod:`tsfm.forecast_file`).
    """

    plot: bool = True
    plot_windows: int = 4
    plot_variates: list[str] | None = None
    print_table: bool = True
    forecasts: bool = False


@dataclass
class RunConfig:
    """The whole run: ``python -m tsfm.run`` composes this from ``conf/``.

    ``loss`` picks the output head (``mse``, ``mae``, ``huber``, ``smape``: points;
    ``quantile``, ``normal``, ``student_t``: probabilistic, :mod:`tsfm.training.heads`);
    ``quantiles`` are the quantile head's levels and the grid CRPS is scored on; ``levels``
    the interval levels (percent) scored for coverage and width (None: 80 and 95, or for
    ``loss=quantile`` the central intervals its ``quantiles`` bound, see
    :func:`~tsfm.training.scoring.default_levels`); ``season_length`` the lag of
    the seasonal-naive baseline and of MASE's and MSIS's scale (None: from ``data.freq``,
    :mod:`tsfm.data.seasons`: hourly 24, daily 7, monthly 12, ...; M4: the group's period,
    which its MASE uses); ``mase_scale`` where that scale comes from: ``lookback`` (each test
    window's look-back) or ``history`` (the series' rows before each window's origin: the
    training split and everything after it up to the window; M4 always scores its own MASE
    and MSIS that way); ``conformal`` calibrates intervals for a point model.
    ``nonnegative``: ``true`` (every target) or a list of target columns whose forecasts
    (points, interval bounds, quantiles, ``forecasts.parquet``) are floored at zero on the
    original scale, after unscaling (:mod:`tsfm.training.nonnegative`); ``false`` (default)
    floors nothing.
    ``train``/``test``: train, then test the best checkpoint; ``train=false`` tests the
    weights of ``ckpt_path`` (a local file), on data scaled by ``test_scaler``: ``data``
    (a scaler fitted on its own training split, the papers' transfer convention) or
    ``checkpoint`` (the scaler of the data the checkpoint was trained on,
    :mod:`tsfm.training.test_scaler`). ``resume=true`` continues an interrupted run
    from ``<run dir>/checkpoints/last.ckpt`` (point ``hydra.run.dir`` at that run);
    ``ckpt_path`` with training continues from that file instead. ``check_memory=false``
    skips the refusal of a model whose estimated memory exceeds what is free. ``threads``
    caps torch's CPU threads for the run (null: torch's default, one per core; ``threads=1``
    on a machine shared with other jobs, see :mod:`tsfm.training.runtime`).
    ``reuse_freed_memory`` (Linux/glibc, off by default) keeps freed memory in the process for
    reuse instead of fresh pages per large tensor (fewer page faults in evaluation; it stays
    set for the rest of the process and can raise a large model's peak memory, see
    :func:`~tsfm.training.allocator.reuse_freed_memory`). ``release_freed_memory`` (off by
    default) does the opposite: freed memory goes back to the system, blocks of 24 MiB and
    more when freed and the rest after each of the model's memory blocks (S²IP-LLM: every
    backbone block's forward and backward pass), so the peak resident memory stays near what
    is live (the S²IP-LLM memory mode;
    :func:`~tsfm.training.allocator.release_freed_memory`); one of the two at most.
    ``task_name``: a free label kept in ``config.yaml`` for the user's records; neither tsfm
    nor Hydra reads it (the run directory is ``hydra.run.dir``).
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: Any = MISSING
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: Any = field(default_factory=lambda: trainer_schema()())
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)  # read by python -m tsfm.tune only
    loss: str = "mse"
    quantiles: list[float] = field(default_factory=lambda: list(DEFAULT_QUANTILES))
    levels: list[float] | None = None
    season_length: int | None = None
    mase_scale: str = "lookback"
    nonnegative: Any = False  # bool or a list of target columns (tsfm.training.nonnegative)
    conformal: ConformalConfig = field(default_factory=ConformalConfig)
    seed: int = 2023
    task_name: str = "train"
    train: bool = True
    test: bool = True
    ckpt_path: str | None = None
    test_scaler: str = "data"
    resume: bool = False
    check_memory: bool = True
    threads: int | None = None
    reuse_freed_memory: bool = False
    release_freed_memory: bool = False


def compose_config(
    *overrides: str, config_name: str = "config", describe: Callable[[str], str] = str
) -> DictConfig:
    """The run config ``python -m tsfm.run <overrides>`` would use, composed in-process; a key
    its schema does not declare (added with ``+key=...``) is refused, ``describe`` naming it."""
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=list(overrides))
    check_known_keys(cfg, describe)
    return cfg


_registered: tuple | None = None


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore (again only if the model registry changed)."""
    global _registered
    if _registered == tuple(REGISTRY.items()):
        return
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)
    # schema/<group>/: extended by the group's files (``- /schema/data/data@_here_``), and no
    # choice of the group itself (data=, model=, ...)
    cs.store(group="schema/data", name="data", node=DataConfig)
    cs.store(group="schema/data", name="m4", node=M4DataConfig)
    # conf/data/m4_*.yaml: seq_len = lookback_multiple x horizon
    OmegaConf.register_new_resolver(
        "tsfm.lookback",
        lambda multiple, horizon: round(float(multiple) * int(horizon)),
        replace=True,
    )
    # conf/config.yaml: hydra.output_subdir, no record for a run refused in an earlier one's
    OmegaConf.register_new_resolver("tsfm.run_record", run_record_subdir, replace=True)
    cs.store(group="schema/optim", name="optim", node=OptimConfig)
    cs.store(group="schema/trainer", name="trainer", node=trainer_schema())
    for name in REGISTRY:
        cs.store(group="schema/model", name=name, node=config_schema(name))
        if not (CONF_DIR / "model" / f"{name}.yaml").is_file():  # model=<name>: its defaults
            cs.store(group="model", name=name, node=config_schema(name))
    _registered = tuple(REGISTRY.items())


def check_relative_data_path(data: Any, chdir: bool | None, started_in: str | Path) -> None:
    """With ``hydra.job.chdir=true`` the job runs in its run directory, which is where a
    relative custom ``data.path``, a relative ``data.root`` and a relative ``TSFM_DATA``
    folder are read from: refuse a ``data.path`` or ``data.root`` that is not there, naming
    the directory the command was started in (``started_in``), where it likely is, and the
    absolute path to pass. ``TSFM_DATA`` is a list of places to look (the bundled
    ``datasets/`` last): a relative folder missing there is refused only when the dataset is
    found in none of them, and warned about when it is found in a folder searched after it.
    A URL in ``data.path`` or ``data.root`` is refused first, chdir or not: tsfm reads local
    files only."""
    refuse_url(data.get("path"), "data.path")  # whether or not the job changes directory
    refuse_url(data.get("root"), "data.root", "data folders")
    if not chdir:
        return
    if data.get("name") == "custom":
        path = data.get("path")
        if path and not Path(path).expanduser().is_absolute() and not Path(path).exists():
            _refuse_relative("data file", "data.path", path, started_in, Path.is_file)
        return
    root = data.get("root")
    if root is not None:
        if not Path(root).expanduser().is_absolute() and not Path(root).is_dir():
            _refuse_relative("data folder", "data.root", str(root), started_in, Path.is_dir)
        return
    from tsfm.data.sources import DATASETS, candidate_paths, data_roots

    spec = DATASETS.get(data.get("name"))
    if spec is None:  # an unknown dataset: refused where it is read, naming the known ones
        return
    missing = []  # relative TSFM_DATA folders not in the run directory, in search order
    for folder in data_roots(None):
        if not folder.is_absolute() and not folder.is_dir():
            missing.append(str(folder))
        elif any(p.is_file() for p in candidate_paths(spec, [folder])):
            if missing:
                warnings.warn(
                    f"TSFM_DATA folder(s) {missing} are not in the run directory {Path.cwd()} "
                    "(hydra.job.chdir=true reads a relative TSFM_DATA folder from there): "
                    f"{spec.name!r} is read from {folder} instead. Pass absolute folders in "
                    "TSFM_DATA if it should be read from one of those",
                    UserWarning,
                    stacklevel=2,
                )
            return
    if missing:  # found nowhere: the missing folder was likely meant
        _refuse_relative("data folder", "TSFM_DATA", missing[0], started_in, Path.is_dir)


def _refuse_relative(what: str, setting: str, path: str, started_in: str | Path, found) -> None:
    start = (Path(started_in) / path).resolve()
    fix = f"{setting}={start}" if found(start) else f"{setting}=/full/path/to/{Path(path).name}"
    raise FileNotFoundError(
        f"{what} {path} ({setting}) does not exist in the working directory, {Path.cwd()}: "
        f"hydra.job.chdir=true runs the job in its run directory, and a relative {setting} "
        f"is read from there, not from {started_in}, where the command started. Pass an "
        f"absolute path: {fix}"
    )
