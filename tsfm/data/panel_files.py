"""Long files of independent series on the command line (``data.id_col`` with
``data.mode=independent``): each series is its own sample, with its own dates, length,
covariates and scaling, as the Forecaster's ``mode="independent"`` reads a long frame
(:class:`~tsfm.data.panel.PanelDataModule`). ``data.target`` names each series' value column,
or ``data.targets=[...]`` several: each series one multivariate sample with those targets,
each series and target scaled on its own training rows, as the Forecaster's
``mode="independent", targets=[...]``.

The split follows ``data.cutoffs`` (:mod:`tsfm.data.panel_splits`): ``per_series`` (the
default) splits each series by its own rows, from its end; ``shared`` splits the panel's
calendar, every series' timestamps together, and cuts every series at its validation and test
start.
Either way, of ``T`` rows (or timestamps) the last ``max(pred_len, round(test_ratio * T))``
are test targets, the ``max(pred_len, round((1 - train_ratio - test_ratio) * T))`` before
them validation targets, and the rest train (and fit each series' scaler). Validation and
test windows look back across those borders, as the wide splits' windows do; a look-back
reaching before a series' start is padded and masked. A series left with fewer than
``pred_len + 1`` training rows is refused by name.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from tsfm.data.config import DataConfig
from tsfm.data.contract import config_from
from tsfm.data.frames.gaps import insert_absent_steps, refuse_coarser_panel
from tsfm.data.frames.long import series_tables
from tsfm.data.frames.panel_freqs import panel_freq
from tsfm.data.frames.read import read_long
from tsfm.data.long_files import check_long_columns
from tsfm.data.panel import PanelDataModule
from tsfm.data.panel_splits import check_cutoffs_setting, panel_split
from tsfm.data.robust_scaling import check_scaler_kind
from tsfm.data.roles import CLI_NAMES, panel_roles
from tsfm.data.sources import read_source
from tsfm.data.statics import StaticEncoder
from tsfm.errors import InputError

MODES = ("joint", "independent")


def check_mode(cfg: DataConfig) -> None:
    if cfg.mode not in MODES:
        raise InputError(f"data.mode must be one of {MODES}, got '{cfg.mode}'")
    check_cutoffs_setting(cfg.cutoffs)
    check_scaler_kind(cfg.scaler)
    if cfg.mode == "independent" and cfg.id_col is None:
        raise InputError(
            "data.mode=independent reads a long file (one row per series and time): name its "
            "series id column with data.id_col"
        )


def panel_targets(cfg: DataConfig) -> list[str]:
    """Each series' target columns: ``data.targets`` (several per series: each series one
    multivariate sample, scaled per series and target), else ``data.target``."""
    if cfg.targets is not None and cfg.target is not None:
        raise InputError(
            f"data.target={cfg.target!r} and data.targets={list(cfg.targets)} both name each "
            "series' targets: give data.targets=[...] for several (one may be the only one), "
            "or data.target for one, not both"
        )
    if cfg.targets is None:
        return [cfg.target] if cfg.target is not None else []  # none: check_long_columns
    targets = [str(t) for t in cfg.targets]
    if not targets:
        raise InputError(
            "data.targets=[] names no target: list each series' target columns, e.g. "
            "data.targets=[sales,returns], or name one with data.target"
        )
    if len(set(targets)) != len(targets):
        raise InputError(f"data.targets lists a column twice: {targets}; name each target once")
    return targets


def panel_file_datamodule(config: DataConfig | DictConfig | dict | None) -> PanelDataModule:
    """The data module of a long file read as independent series (module docstring)."""
    cfg = config_from(DataConfig, config)
    check_mode(cfg)
    unused = {
        "data.features": cfg.features != "M",
        "data.columns": cfg.columns is not None,
        "data.channel_independent": cfg.channel_independent,
        "data.train_variates": cfg.train_variates is not None,
        "data.percent": cfg.percent != 100,
        "data.scale": not cfg.scale,
        "data.allow_irregular": cfg.allow_irregular,  # gaps: data.missing=mask
    }
    if any(unused.values()):
        raise InputError(
            f"{', '.join(k for k, v in unused.items() if v)}: not available with "
            "data.mode=independent on the command line (data.target names each series' value "
            "column, or data.targets=[...] several, each scaled per series on its own training "
            "rows; other columns take covariate roles)"
        )
    if not (cfg.train_ratio > 0 and cfg.test_ratio > 0 and cfg.train_ratio + cfg.test_ratio < 1):
        raise InputError(
            f"data.train_ratio ({cfg.train_ratio}) and data.test_ratio ({cfg.test_ratio}) must "
            "be positive and leave a share for validation (their sum below 1)"
        )
    targets = panel_targets(cfg)
    df, source, _ = read_source(cfg)
    check_long_columns(cfg, df, source, targets if cfg.targets is not None else None)
    masked = cfg.missing == "mask"
    statics = list(cfg.static_covariates)
    long = read_long(df, "polars", cfg.id_col, cfg.date_col, targets, statics, masked, file=True)
    roles = panel_roles(
        long.value_columns, targets, cfg.future_covariates, cfg.past_covariates, statics,
        CLI_NAMES,
    )  # fmt: skip
    tables = series_tables(long)
    if masked:
        names = [f"series {series!r} of {source}" for series in long.ids]
        refuse_coarser_panel(tables, cfg.freq, names)
        tables = [
            insert_absent_steps(table, cfg.freq, name, check_coarser=False)
            for name, table in zip(names, tables, strict=True)
        ]
    freq = panel_freq(long.ids, tables, cfg.freq, masked)
    values = [table.select(list(roles.time_varying)).values for table in tables]
    times = [table.times for table in tables]
    n_train, n_test = panel_split(cfg, long.ids, times, tables[0].tz)
    static: dict[str, Any] | None = None
    categorical = list(cfg.static_categorical)
    encoder = StaticEncoder().fit(long.statics, statics, categorical) if statics else None
    if encoder is not None:
        static = encoder.transform(long.statics)
    return PanelDataModule(
        cfg, values, times, roles, n_train, True, freq, long.ids, static, n_test=n_test,
        layout=long.layout, static_encoder=encoder,
    )  # fmt: skip
