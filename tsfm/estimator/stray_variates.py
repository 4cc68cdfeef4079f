"""A warning when a frame given to a fitted wide model holds, beside the fitted variates,
columns it was not fitted on (a row number, a copy of a column, a column of another use).

A model with the ``new_variates`` capability forecasts them as variates of their own, which
is documented ("New series" in the README) and useful on purpose; but a model that mixes its
variates (iTransformer's attention across variate tokens, TimesCLIP's variate selection) then
forecasts the fitted variates differently too: a stray ``RowId`` column moved the ``Savings``
forecast of a model fitted on us_change by 1.12. The warning names the columns, what they do
and how to leave them out. Channel-independent models (each variate's forecast reads its own
look-back only) forecast the others as before: nothing to warn of.
"""

from __future__ import annotations

from typing import Any

from tsfm.data.frames import SeriesTable
from tsfm.data.user_warnings import warn_user
from tsfm.models import capabilities


def warn_stray_variates(est: Any, table: SeriesTable) -> None:
    """Warn (once per call: the frame is read once) when ``table`` holds variates the model
    was not fitted on beside fitted ones, and the model's forecasts mix variates."""
    traits = capabilities(est.model)
    if not traits.new_variates or traits.channel_independent or est.roles_.has_covariates:
        return  # forecast apart, or refused (a model with covariates: prepare)
    fitted = {str(c) for c in est.columns_}
    columns = [str(c) for c in table.columns]
    new = [c for c in columns if c not in fitted]
    kept = [c for c in columns if c in fitted]
    if not new or not kept:
        return  # the fitted variates, or only new ones: what the call asks for
    if table.layout is not None and table.layout.kind == "long":  # a joint model's series
        ids = table.layout.id_col
        warn_user(
            f"the frame has series {new} the model was not fitted on: '{est.model}' forecasts "
            "them jointly with the others as new variates, and since its variates attend to "
            f"each other they change the forecasts of the fitted series ({kept}) too. To "
            f"forecast the fitted series as fitted, drop their rows (pandas: "
            f"df[df['{ids}'].isin({kept})]), or forecast each series on its own with "
            "mode='independent'"
        )
        return
    warn_user(
        f"the frame has column(s) {new} the model was not fitted on: '{est.model}' forecasts "
        "them as new variates, and since its variates attend to each other they change the "
        f"forecasts of the fitted ones ({kept}) too. If they are not series to forecast, drop "
        f"them (df.drop(columns={new})), or fit with targets=[...] (the columns to forecast), "
        "after which other columns are left unread"
    )
