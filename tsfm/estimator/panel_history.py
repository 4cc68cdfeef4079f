"""What a fitted ``mode="independent"`` Forecaster keeps of its panel for ``predict()``.

Its own module (re-exported by :mod:`tsfm.estimator.panels`, where pickles name it) so that
loading a saved Forecaster does not import the panel fit, which imports Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PanelHistory:
    """The last ``lookback`` rows of every series (NaN before a series' start)."""

    values: np.ndarray  # [S, L, C]
    times: np.ndarray  # [S, L]; padded steps extrapolated with the frequency
    before: np.ndarray | None = None  # [S, C]: each column's last value before them (or NaN)
