"""A panel's timestamps (:class:`~tsfm.data.panel.PanelDataModule`'s): each series' after
the ``seq_len`` steps it would have had before its start (a look-back's padded steps get
calendar features from them), each window's, and the zone of the calendar."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsfm.data.frames import future_times
from tsfm.data.timefeatures import calendar_zone


class PanelTimes:
    """The timestamps of :class:`~tsfm.data.panel.PanelDataModule`, from its ``times`` (per
    series), ``freq``, ``config``, ``layout`` and ``datasets``; ``_padded`` and ``_before``
    (empty dicts at its construction) keep what is computed once."""

    def _padded_times(self, j: int) -> np.ndarray:
        """Series ``j``'s timestamps after the ``seq_len`` steps it would have had before."""
        if j not in self._padded:  # kept: window_times asks once per window
            times = self.times[j]
            if times[0] not in self._before:  # series mostly start on a few dates
                ahead = future_times(times[0], self.freq, self.config.seq_len)  # spacing only
                self._before[times[0]] = times[0] - (ahead - times[0])[::-1]
            self._padded[j] = np.concatenate([self._before[times[0]], times])
        return self._padded[j]

    def _calendar_zone(self) -> str | None:
        kind = None if self.layout is None else self.layout.time_type
        return calendar_zone(kind, self.config.local_calendar)

    def time_type(self) -> dict[str, Any] | None:
        integer = np.issubdtype(self.times[0].dtype, np.integer)
        return None if self.layout is None or integer else self.layout.time_type

    def window_times(self, stage: str, window: int) -> np.ndarray | None:
        """The dates or integer steps of window ``window`` of ``stage`` (look-back, then
        horizon; steps before its series' start extrapolated)."""
        self.setup()
        dataset = self.datasets[stage]
        j, cut = int(dataset.series[window]), int(dataset.cuts[window])
        span = self.config.seq_len + self.config.pred_len
        return self._padded_times(j)[cut : cut + span]  # padded row cut = the look-back's start
