"""tsfm: deep time-series forecasting models, faithful to their papers."""

__version__ = "0.1.0"
