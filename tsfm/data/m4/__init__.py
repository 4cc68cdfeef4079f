"""The M4 competition in one place: its files and protocol constants (``files``), windows over
series of different lengths (``windows``), the data module (``datamodule``) and the
competition's accuracy measures (``metrics``: sMAPE, MASE, OWA against Naive2)."""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use, so that scoring (metrics: numpy only) does not import torch.
_EXPORTS = {
    "M4DataModule": "tsfm.data.m4.datamodule",
    **{
        name: "tsfm.data.m4.files"
        for name in ("M4_GROUPS", "M4DataConfig", "M4Group", "available_groups", "group_of")
    },
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tsfm.data.m4' has no attribute {name!r}")


__all__ = ["M4_GROUPS", "M4DataConfig", "M4DataModule", "M4Group", "available_groups", "group_of"]
