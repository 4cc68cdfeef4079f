"""A CSV logger that keeps the history of a resumed run.

Lightning's CSV writer deletes an existing ``metrics.csv`` when it starts, so resuming a run
would erase the epochs before the interruption. This writer appends to the file instead
(its header is extended when new columns appear, as Lightning already does).
"""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        if not self._fs.isfile(self.metrics_file_path):
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            self.metrics_keys = next(csv.reader(file), [])


class HistoryCSVLogger(CSVLogger):
    """:class:`~lightning.pytorch.loggers.CSVLogger` appending to an existing metrics.csv."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment
