"""A picture of a Forecaster's next forecast: history, forecast and interval bands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from tsfm.estimator.inference import forecast_next
from tsfm.estimator.intervals import band_values, column_request
from tsfm.training.scoring import check_levels, level_name


def plot_forecast(
    forecaster: Any,
    df: Any = None,
    level: Sequence[float] | None = (80, 95),
    columns: Sequence[str] | None = None,
    future_df: Any = None,
) -> Any:
    """The last ``lookback`` rows of ``df`` (of the fitted data without it), the forecast
    after them and, when the model has intervals, the bands of ``level`` (``None``: no bands);
    one panel per target, or per name in ``columns`` (``future_df``: as for ``predict``).
    Returns a matplotlib ``Figure`` (``fig.savefig(path)`` writes it; nothing is shown or
    kept by pyplot).
    """
    from matplotlib.figure import Figure

    check_is_fitted(forecaster)
    if forecaster.mode_ != "joint":
        raise ValueError("plot_forecast draws mode='joint' forecasters (one time index)")
    table = forecaster.history_ if df is None else forecaster._read(df)
    levels = check_levels(level, name="level") if level and forecaster.module_.has_intervals else ()
    taus, requested = column_request(forecaster, levels or None, False)
    times, values, quantiles = forecast_next(forecaster, table, future_df, taus)
    bands = dict(band_values(requested, taus, quantiles)) if taus else {}
    names = [str(c) for c in forecaster.output_columns(table)]
    chosen = names if columns is None else [str(c) for c in columns]
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise ValueError(f"columns {unknown} are not variates of the frame; it has {names}")
    history = table.select(forecaster.output_columns(table)).tail(forecaster.lookback)
    past = history.times if history.times is not None else np.arange(len(history))
    fig = Figure(figsize=(9, 2.2 * len(chosen)))
    axes = fig.subplots(len(chosen), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, chosen, strict=True):
        j = names.index(name)
        ax.plot(past, history.values[:, j], color="0.4", lw=1, label="history")
        for k, value in enumerate(sorted(levels, reverse=True)):
            lower, upper = bands[f"-lo-{level_name(value)}"], bands[f"-hi-{level_name(value)}"]
            ax.fill_between(
                times,
                lower[:, j],
                upper[:, j],
                color="tab:red",
                alpha=0.15 + 0.1 * k,
                lw=0,
                label=f"{level_name(value)} % interval",
            )
        ax.plot(times, values[:, j], color="tab:red", lw=1.2, label="forecast")
        ax.set_title(name, fontsize=9)
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
