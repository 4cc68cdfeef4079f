"""tsfm: deep time-series forecasting models, faithful to their papers."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = [
    "CalendarOverlapWarning",
    "Forecaster",
    "InSampleWarning",
    "InputError",
    "__version__",
    "m4_scores",
    "plot_forecast",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: `import tsfm` stays light (no torch, Lightning or Hydra).
    if name == "CalendarOverlapWarning":
        from tsfm.data.user_warnings import CalendarOverlapWarning

        return CalendarOverlapWarning
    if name == "Forecaster":
        from tsfm.estimator import Forecaster

        return Forecaster
    if name == "InSampleWarning":
        from tsfm.data.user_warnings import InSampleWarning

        return InSampleWarning
    if name == "InputError":
        from tsfm.errors import InputError

        return InputError
    if name == "m4_scores":
        from tsfm.estimator.m4_scores import m4_scores

        return m4_scores
    if name == "plot_forecast":
        from tsfm.estimator.plotting import plot_forecast

        return plot_forecast
    raise AttributeError(f"module 'tsfm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(
        [
            *globals(),
            "CalendarOverlapWarning",
            "Forecaster",
            "InSampleWarning",
            "InputError",
            "m4_scores",
            "plot_forecast",
        ]
    )
