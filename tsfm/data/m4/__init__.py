"""The M4 competition in one place: its files and protocol constants (``files``), windows over
series of different lengths (``windows``), the data module (``datamodule``) and the
competition's accuracy measures (``metrics``: sMAPE, MASE, OWA against Naive2)."""

from tsfm.data.m4.datamodule import M4DataModule
from tsfm.data.m4.files import M4_GROUPS, M4DataConfig, M4Group, available_groups, group_of

__all__ = ["M4_GROUPS", "M4DataConfig", "M4DataModule", "M4Group", "available_groups", "group_of"]
