"""The shared data layer over an in-memory panel, with the estimator's own split."""

from __future__ import annotations

from typing import Any

from tsfm.data import TimeSeriesDataModule
from tsfm.data.frame import SeriesTable
from tsfm.data.splits import Borders
from tsfm.estimator.frames import Panel
from tsfm.estimator.timestamps import is_integer_time


class PanelDataModule(TimeSeriesDataModule):
    """Rows ``[0, n_train)`` train (and fit the scaler); with ``validate``, windows whose
    targets lie in ``[n_train, T)`` validate, their look-back reaching into the training rows
    as in the papers' loaders. There is no test split."""

    def __init__(self, config: Any, panel: Panel, n_train: int, validate: bool):
        super().__init__(config)
        self.panel, self.n_train, self.validate = panel, n_train, validate

    def load_table(self) -> SeriesTable:
        panel = self.panel
        dates = None if is_integer_time(panel.times) else panel.times
        columns = [str(c) for c in panel.columns]
        return SeriesTable(panel.values, columns, columns[-1], dates)

    def split_kind(self) -> str:
        return "estimator"

    def compute_split(self, n_rows: int) -> Borders:
        seq_len = self.config.seq_len
        val = (self.n_train - seq_len, n_rows) if self.validate else (n_rows, n_rows)
        return Borders(
            train=(0, self.n_train), val=val, test=(n_rows, n_rows), scaler=(0, self.n_train)
        )

    def time_feature_freq(self, dates) -> str:
        return self.config.freq
