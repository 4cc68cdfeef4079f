"""What the joint data module (:class:`~tsfm.data.datamodule.TimeSeriesDataModule`) takes
from its config: the settings it refuses (another data module's data, features, mode, missing
values), and the dataset's split rule when no split is given."""

from __future__ import annotations

from tsfm.data.config import DataConfig
from tsfm.data.panel_splits import check_cutoffs_setting
from tsfm.data.robust_scaling import check_scaler_kind
from tsfm.data.roles import FEATURE_MODES
from tsfm.data.sources import DATASETS, get_spec
from tsfm.data.splits import Borders, compute_borders
from tsfm.errors import InputError

MISSING_MODES = ("refuse", "mask")


def check_joint_config(cfg: DataConfig) -> None:
    """Refuse a config the joint data module cannot read, naming the module or setting to use."""
    spec = DATASETS.get(cfg.name)
    if spec is not None and spec.datamodule != "windows":
        raise InputError(
            f"'{cfg.name}' is read by the '{spec.datamodule}' data module (M4DataModule for "
            "the M4 groups), not TimeSeriesDataModule; tsfm.data.make_datamodule picks the "
            "right module for a config"
        )
    if cfg.features not in FEATURE_MODES:
        raise InputError(f"data.features must be one of {FEATURE_MODES}, got '{cfg.features}'")
    if cfg.train_variates is not None and cfg.features != "M":
        raise InputError("data.train_variates (efficient training) needs data.features=M")
    if cfg.mode != "joint":
        raise InputError(
            f"data.mode={cfg.mode}: TimeSeriesDataModule reads series jointly; "
            "tsfm.data.make_datamodule picks the module of a data.mode=independent config"
        )
    if cfg.missing not in MISSING_MODES:
        raise InputError(f"data.missing must be one of {MISSING_MODES}, got '{cfg.missing}'")
    check_scaler_kind(cfg.scaler)
    check_cutoffs_setting(cfg.cutoffs)  # one time index: the split is shared either way


def config_borders(cfg: DataConfig, n_rows: int, in_memory: bool) -> Borders:
    """Row borders of the splits by the dataset's rule (a frame in memory or a custom file:
    the ratio split)."""
    kind = "ratio" if in_memory or cfg.name == "custom" else get_spec(cfg.name).split
    return compute_borders(
        kind,
        n_rows,
        cfg.seq_len,
        cfg.pred_len,
        train_ratio=cfg.train_ratio,
        test_ratio=cfg.test_ratio,
        percent=cfg.percent,
        scaler_on_subset=cfg.scaler_on_subset,
    )
