"""Long files on the command line (``data.id_col``): one row per series and time, read
jointly as the Forecaster's ``mode="joint"`` reads long frames (each series a target, in id
order whatever the order of the rows; covariate ``c`` of series ``s`` the column ``c[s]``;
the roles are expanded by :func:`tsfm.data.roles.long_roles`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tsfm.data.config import DataConfig
from tsfm.data.frames import SeriesTable, read_frame
from tsfm.data.statics import StaticEncoder
from tsfm.errors import InputError


def check_long_columns(
    cfg: DataConfig, df: pl.DataFrame, source: str, targets: list[str] | None = None
) -> None:
    """Refuses a long file without the id, date and target columns the config names
    (``targets``: those of ``data.targets``, several per series with ``data.mode=independent``)."""
    needed = [("data.id_col", cfg.id_col), ("data.date_col", cfg.date_col)]
    if targets:
        needed += [("data.targets", name) for name in targets]
    else:
        needed.append(("data.target", cfg.target))
    absent = [f"{key}={name!r}" for key, name in needed if name not in df.columns]
    if absent:
        raise InputError(
            f"a long file (data.id_col) needs its id, date and target columns; "
            f"{', '.join(absent)} are not columns of {source} ({df.columns})"
        )


def read_long_file(
    cfg: DataConfig, df: pl.DataFrame, source: str
) -> tuple[SeriesTable, dict[str, np.ndarray] | None]:
    """The joint table of the long file ``df`` and its encoded static covariates (one row
    per series, in target order; None without ``data.static_covariates``)."""
    check_long_columns(cfg, df, source)
    if cfg.features != "M" or cfg.targets or cfg.columns is not None:
        raise InputError(
            "data.features, data.targets and data.columns apply to wide files; a long "
            "file's targets are its series (data.target names their value column); for several "
            "targets per series read it with data.mode=independent and data.targets=[...]"
        )
    table = read_frame(
        df, id_col=cfg.id_col, time_col=cfg.date_col, target_col=cfg.target,
        static_columns=list(cfg.static_covariates), allow_missing=cfg.missing == "mask",
        file=True,
    )  # fmt: skip
    static: dict[str, Any] | None = None
    if cfg.static_covariates:
        names = list(cfg.static_covariates)
        encoder = StaticEncoder().fit(table.statics, names, list(cfg.static_categorical))
        static = encoder.transform(table.statics)
    return table, static
