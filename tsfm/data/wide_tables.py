"""The series table of a wide file or frame (a time column and one column per variate), as
the data module's config reads it: which columns, which target, duplicates and gaps."""

from __future__ import annotations

from typing import Any

from tsfm.data.config import DataConfig
from tsfm.data.frames import SeriesTable, build_table
from tsfm.data.sources import get_spec


def wide_table(cfg: DataConfig, df: Any, allow_dups: bool, given_frame: bool) -> SeriesTable:
    """``df`` (polars) as a table: ``data.columns`` and the covariates named, or under
    ``features=S`` only the target and the covariates named (the other columns are not read
    nor checked); the target ``data.target``, else the dataset's, else the last column."""
    target = cfg.target or _default_target(cfg, df, given_frame)
    named = [*(cfg.targets or []), *cfg.past_covariates, *cfg.future_covariates]
    columns = None
    if cfg.columns is not None:  # the covariates named are loaded too
        columns = list(dict.fromkeys([*cfg.columns, *named]))
    elif cfg.features == "S":
        columns = list(dict.fromkeys([*named, target]))
    return build_table(
        df,
        date_col=cfg.date_col,
        target=target,
        columns=columns,
        allow_duplicate_timestamps=allow_dups,
        allow_missing=cfg.missing == "mask",
    )


def _default_target(cfg: DataConfig, df: Any, given_frame: bool) -> str:
    if not given_frame and cfg.name != "custom":
        return get_spec(cfg.name).target
    if cfg.columns:
        return cfg.columns[-1]
    return [c for c in df.columns if c != cfg.date_col][-1]
