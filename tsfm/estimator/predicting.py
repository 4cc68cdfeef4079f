"""The body of :meth:`Forecaster.predict`: the forecast after the fitted data or after ``df``,
with its intervals or quantiles, cut to ``steps`` or rolled out beyond the horizon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tsfm.data.frames import write_frame
from tsfm.estimator.adaptive_history import adapted_radius
from tsfm.estimator.inference import forecast_next, table_to_forecast_from
from tsfm.estimator.intervals import band_values, column_request
from tsfm.estimator.panel_predict import predict_panel
from tsfm.estimator.rollout import check_steps, roll_table
from tsfm.estimator.static_inputs import with_static_df


def predict_frame(
    est: Any,
    df: Any,
    future_df: Any,
    level: Sequence[float] | None,
    quantiles: bool | Sequence[float],
    static_df: Any,
    steps: int | None,
) -> Any:
    """:meth:`Forecaster.predict` of the fitted, checked ``est`` (see its docstring)."""
    taus, columns = column_request(est, level, quantiles)
    steps = check_steps(est, steps, columns)
    df = with_static_df(est, df, static_df)
    if est.mode_ == "independent":
        return predict_panel(est, df, future_df, taus, columns, steps)
    table = table_to_forecast_from(est, df)
    names = est.output_columns(table)
    if steps is not None and steps > est.horizon:
        times, values = roll_table(est, table, future_df, steps)
        return write_frame(table.layout, names, times, values)
    radius_of = None if df is None else adapted_radius(est, table, taus, future_df)
    times, values, quantile_values = forecast_next(est, table, future_df, taus, radius_of)
    bands = band_values(columns, taus, quantile_values) if taus else []
    keep = slice(None, steps)
    bands = [(name, band[keep]) for name, band in bands]
    return write_frame(table.layout, names, times[keep], values[keep], bands=bands)
