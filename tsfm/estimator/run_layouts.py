"""What :func:`tsfm.estimator.from_run.from_run` takes from a run's data module, by layout:
a wide table (a custom file or a registered benchmark) is a joint Forecaster, a long file of
independent series (``data.mode=independent``) a ``mode="independent"`` one. Each gives the
Forecaster arguments that describe the data, its sampling and the fitted state;
:func:`check_supported` refuses the layouts a Forecaster cannot repeat."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from omegaconf import DictConfig

from tsfm.data.frames import is_integer_time
from tsfm.errors import InputError
from tsfm.estimator.fitted_record import fitted_rows
from tsfm.estimator.saved_files import refuse_yaml_aliases


def is_panel(cfg: DictConfig) -> bool:
    return cfg.data.mode == "independent"


def data_arguments(cfg: DictConfig, datamodule: Any) -> dict[str, Any]:
    """The Forecaster's arguments for the run's data: columns, roles, validation share."""
    roles = datamodule.roles
    covariates = {
        "future_covariates": list(roles.future) or None,
        "past_covariates": list(roles.past) or None,
        "missing": cfg.data.missing,
    }
    if is_panel(cfg):
        data = cfg.data
        validated = 1 - data.train_ratio - data.test_ratio  # of every series, from its end
        return {
            "mode": "independent",
            "id_col": data.id_col,
            "time_col": data.date_col,
            # several targets per series (data.targets), else the one value column
            **(
                {"targets": list(roles.targets)}
                if data.get("targets") is not None
                else {"target_col": data.target}
            ),
            "static_covariates": list(roles.static) or None,
            "val_size": round(validated / (1 - data.test_ratio), 6),
            **covariates,
        }
    borders = datamodule.borders
    start, end = borders.val[0] + cfg.data.seq_len, borders.val[1]  # its validation targets
    return {
        "date_col": cfg.data.date_col,
        "val_size": round((end - start) / end, 6) if end > start else None,
        "targets": list(roles.targets),
        **covariates,
    }


def sampling(cfg: DictConfig, datamodule: Any) -> tuple[Any, bool]:
    """The data's frequency (an integer step for integer time) and whether it has dates."""
    if is_panel(cfg):
        return datamodule.freq, not is_integer_time(datamodule.times[0])
    times = datamodule.table.times
    if datamodule.table.dates is not None:
        return datamodule.sampling, True
    return int(np.median(np.diff(times))), False


def keep_state(est: Any, cfg: DictConfig, datamodule: Any, freq: Any) -> None:
    """The fitted state ``fit`` would leave, from the run's data module."""
    est.freq_ = freq
    if is_panel(cfg):
        keep_panel_state(est, datamodule)
        return
    from tsfm.estimator.fitting import keep_data_state

    table = datamodule.table
    keep_data_state(est, datamodule)
    est.series_, est.static_encoder_, est.statics_ = None, None, {}
    est.layout_ = replace(table.layout, library="pandas")  # its time type, zone included
    est.history_ = replace(table.tail(est.lookback_), layout=est.layout_)  # predict() from it
    borders = datamodule.borders  # the run never trained on its test rows: backtest scores them
    end = max(borders.train[1], borders.val[1])
    est.trained_until_ = table.times[end - 1]
    first_val = borders.val[0] + cfg.data.seq_len  # its first validation target
    est.fitted_rows_ = fitted_rows([table.times], [first_val], borders.val[1] > first_val, [end])


def keep_panel_state(est: Any, datamodule: Any) -> None:
    from tsfm.estimator.fitting import model_statics
    from tsfm.estimator.panel_history import history_of

    roles = datamodule.roles
    est.mode_, est.roles_, est.columns_ = "independent", roles, list(roles.targets)
    est.input_columns_, est.n_variates_ = list(roles.time_varying), len(roles.targets)
    est.series_ = list(datamodule.names)
    est.layout_ = replace(datamodule.layout, library="pandas")
    est.series_mean_, est.series_std_ = datamodule.series_mean, datamodule.series_std
    est.scaler_ = est.input_scaler_ = None
    est.static_encoder_, est.statics_ = datamodule.static_encoder, model_statics(datamodule.static)
    est.history_ = history_of(est, datamodule.values, datamodule.times)
    est.dims_ = datamodule.dims()
    fitted = [len(t) - n for t, n in zip(datamodule.times, datamodule.n_test, strict=True)]
    est.trained_until_ = np.array(  # each series' last training or validation row
        [t[n - 1] for t, n in zip(datamodule.times, fitted, strict=True)]
    )
    est.fitted_rows_ = fitted_rows(
        datamodule.times, datamodule.n_train, datamodule.validate, fitted, list(est.series_)
    )


def check_supported(path: Path) -> None:
    """Runs over one wide table (a custom file or a registered benchmark such as ETTh1) or a
    long file of independent series split from each series' own end (``data.cutoffs=shared``
    validates at one calendar timestamp, which a Forecaster's ``val_size`` cannot repeat),
    with a time column; read from the raw config before its schema is applied (M4's
    differs)."""
    raw = yaml.safe_load(refuse_yaml_aliases(path))
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        raise InputError(f"{path} does not hold a run config with a data section")
    name, id_col, mode = data.get("name"), data.get("id_col"), data.get("mode", "joint")
    if (id_col is not None and mode == "joint") or str(name).startswith("m4"):
        raise InputError(
            f"Forecaster.from_run reads runs on one wide table (data.path or a benchmark such "
            f"as etth1) or on a long file of independent series (data.mode=independent); "
            f"this run read {name!r} (data.id_col={id_col!r}, data.mode={mode}). Fit a "
            "Forecaster on the frame in Python with the run's settings instead"
        )
    if mode == "independent" and data.get("cutoffs") == "shared":
        raise InputError(shared_cutoffs_advice(data))
    if data.get("date_col") is None:
        raise InputError(
            "this run's data has no time column (data.date_col=null), and a Forecaster "
            "forecasts frames with one: add a time column (an integer step will do) to the "
            "file, run again and convert that run"
        )
    if data.get("allow_irregular"):
        raise InputError(
            "this run read irregular timestamps (data.allow_irregular=true), which a "
            "Forecaster refuses: its forecasts need a regular step to place their timestamps"
        )


def shared_cutoffs_advice(data: dict[str, Any]) -> str:
    """Why a run split at ``data.cutoffs=shared`` is not converted, and what does work: a
    panel fit takes no ``val_df``, so the nearest fit ends the frame at the run's test start
    and validates the rows the run validated as a number of rows."""
    horizon, train, test = (data.get(k, "?") for k in ("pred_len", "train_ratio", "test_ratio"))
    try:
        validated = f"{round(1 - train - test, 6):g}"
    except TypeError:
        validated = "1 - train_ratio - test_ratio"
    return (
        "this run split its panel at shared calendar cutoffs (data.cutoffs=shared: every "
        "series validates from one timestamp and is tested from another), which a "
        "Forecaster cannot repeat: a mode='independent' fit takes no val_df and validates "
        "each series on its own trailing val_size rows, so a refit of the converted run "
        "would train and validate on other rows than the run did. Of the panel's T "
        f"timestamps the run tested the last max({horizon}, {test} T) and validated the "
        f"max({horizon}, {validated} T) before them. The nearest in Python: "
        "Forecaster(..., mode='independent', val_size=<that number of validated "
        "timestamps>).fit(df[df[time_col] < <the first tested timestamp>]) validates every "
        "series that reaches the test start on the run's validation rows (one that ends "
        "before it on its own last val_size rows), and cross_validate(df, "
        "cutoffs='shared') scores folds cut at one timestamp for every series; or run again "
        "with data.cutoffs=per_series (each series split from its own end) and convert that "
        "run"
    )
