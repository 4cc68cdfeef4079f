"""The one home for frames: reading files and pandas/polars frames (wide or long) into the one
table type, :class:`SeriesTable` (``read``; pandas frames reach it as polars through
``convert``), timestamps and frequencies (``dates``), and writing forecasts back in the
input's layout (``write``)."""

from tsfm.data.frames.convert import to_polars
from tsfm.data.frames.date_text import quarter_starts
from tsfm.data.frames.dates import (
    Freq,
    future_times,
    future_times_each,
    is_integer_time,
    next_time,
    resolve_freq,
    same_freq,
)
from tsfm.data.frames.files import read_file
from tsfm.data.frames.read import build_table, read_frame
from tsfm.data.frames.table import Layout, SeriesTable
from tsfm.data.frames.write import time_series, write_frame

__all__ = [
    "Freq",
    "Layout",
    "SeriesTable",
    "build_table",
    "future_times",
    "future_times_each",
    "is_integer_time",
    "next_time",
    "quarter_starts",
    "read_file",
    "read_frame",
    "resolve_freq",
    "same_freq",
    "time_series",
    "to_polars",
    "write_frame",
]
