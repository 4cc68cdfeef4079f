"""The one table type of tsfm: a wide multivariate series and how its frame was laid out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from tsfm.data.values import last_observed


@dataclass(frozen=True)
class Layout:
    """How a frame was laid out, so outputs can be laid out the same way."""

    kind: str  # "wide" or "long"
    library: str  # "pandas" or "polars"
    time_col: str | None
    id_col: str | None = None
    target_col: str | None = None
    time_type: dict[str, Any] = field(default_factory=dict)  # kind, unit, tz
    # the id column's polars type, described in JSON (column_types.polars_description; saved
    # before 2026-12: the name of a polars type)
    id_dtype: str | dict[str, Any] | None = None
    time_index: bool = False  # pandas: timestamps in the index
    int_columns: list[int] = field(default_factory=list)  # pandas: names that were integers
    # pandas: the id and time columns' pandas types ({"id": ..., "time": ...}), described
    pandas_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the value columns' polars types other than Float64 (a Boolean holiday flag), described
    # as id_dtype: the frames tsfm lays out for the user to fill (make_future_dataframe) keep them
    value_types: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SeriesTable:
    """``values[t, j]`` is variate ``columns[j]`` at ``times[t]``: regular steps, sorted, checked.

    ``times`` holds ``datetime64[ns]`` (time-zone-aware input as UTC instants), ``int64`` steps,
    or None for a series read without a time column. ``layout`` records the input frame (for files
    read by the CLI: the time column's type, time zone included). Data read for the papers' protocol has its target last.
    A long frame aligned into a table keeps ``groups`` (each input column -> its table columns,
    one per series) and ``statics`` (its static columns, one row per series).
    """

    values: np.ndarray  # [T, N] float64
    times: np.ndarray | None
    columns: list
    layout: Layout | None = None
    groups: dict[str, list] | None = None
    statics: Any = None  # polars DataFrame, one row per series
    # [N]: each column's last observed value before the first row, when rows were cut off the
    # front (NaN where none was observed): a look-back's missing values are filled with it, as
    # training filled them over the whole series
    before: np.ndarray | None = None

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def dates(self) -> np.ndarray | None:
        """The timestamps, or None for integer or missing time (no calendar features)."""
        if self.times is None or np.issubdtype(self.times.dtype, np.integer):
            return None
        return self.times

    @property
    def tz(self) -> str | None:
        """The time zone whose UTC instants ``times`` holds (None for naive times and for
        local dates held as the zone's wall clock)."""
        time_type = self.layout.time_type if self.layout is not None else {}
        return None if time_type.get("wall") else time_type.get("tz")

    def digest(self) -> str:
        """:func:`data_digest` of the columns, timestamps and values."""
        return data_digest(self.columns, [self.times, self.values])

    @property
    def target(self) -> str:
        return self.columns[-1]

    def rows(self, part: slice) -> SeriesTable:
        times = None if self.times is None else self.times[part]
        start = part.indices(len(self))[0]
        before = self.before
        if start > 0:
            before = last_observed(self.values[:start], self.before)
        return replace(self, values=self.values[part], times=times, before=before)

    def head(self, n: int) -> SeriesTable:
        return self.rows(slice(None, n))

    def tail(self, n: int) -> SeriesTable:
        return self.rows(slice(-n, None))

    def select(self, columns: list) -> SeriesTable:
        """The table of ``columns``, in that order."""
        position = {str(c): j for j, c in enumerate(self.columns)}
        index = [position[str(c)] for c in columns]
        before = None if self.before is None else self.before[index]
        return replace(self, values=self.values[:, index], columns=list(columns), before=before)


def data_digest(names: list, arrays: list[np.ndarray | None]) -> str:
    """A SHA-256 of ``names`` and of the arrays' contents (timestamps as int64, values as
    float64, NaN included), to tell whether data read again is the data a result came from."""
    digest = hashlib.sha256(json.dumps([str(n) for n in names]).encode())
    for array in arrays:
        if array is None:
            continue
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float64, copy=False)
        elif array.dtype.kind == "M":
            array = array.astype("datetime64[ns]").view(np.int64)
        else:
            array = array.astype(np.int64, copy=False)
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
