"""Settings of the run config that a Forecaster's fit never reads, refused when given.

A Forecaster composes the same run config as ``python -m tsfm.run`` (a preset, overrides, its
parameters), but parts of it serve the command line only: the M4 training loader's settings
(a Forecaster trains on every window of the frame it is given), what a run writes after its
test, ``python -m tsfm.tune``'s study. Given as a parameter or an override, such a key would
change nothing; it is refused, with what does that job in Python. A preset's own values of
the M4 loader's settings are dropped when the config is composed (:func:`plain_data_node`).

:func:`unused` answers for a config key, :func:`check_panel_settings` for the ``data.``
settings a ``mode="independent"`` fit has no use for, and :func:`warn_unvalidated` for early
stopping and checkpoint settings of a fit without validation rows.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.data.config import DataConfig
from tsfm.data.user_warnings import warn_user
from tsfm.errors import InputError

M4_LOADER = (
    "a setting of the command line's M4 training loader (python -m tsfm.run "
    "experiment={model}_m4_<group>), which a Forecaster does not use: it trains on every "
    "look-back + horizon window of every series in the frame it is given, each epoch"
)
M4_INSTEAD = {
    "data.lookback_multiple": "the look-back is the lookback argument: pass lookback=... "
    "(lookback=4 * horizon for a multiple of 4)",
    "data.history_size": "to train on recent history only, fit on each series' last rows "
    "(e.g. df.groupby('unique_id').tail(n))",
    "data.samples_per_series": "to bound training, pass max_epochs=..., max_time=... or "
    "trainer__limit_train_batches=... (batches per epoch, of batch_size=... windows)",
    "data.validation": "early stopping and the best epoch follow the last val_size=... rows "
    "of each series (or val_df=..., mode='joint' only), never the test rows",
}
TESTS_NOTHING = "a Forecaster's fit tests nothing; evaluate and backtest score every window"
SHOWN_BY_VERBOSE = "verbose sets it (verbose=2 shows Lightning's progress bar and model summary)"
ELSEWHERE = {
    "data.allow_irregular": "a Forecaster needs a regular step to place its forecasts' "
    "timestamps: with missing='mask' absent steps become missing rows; else resample the frame",
    "data.cutoffs": "it places the command line's validation and test splits of a "
    "data.mode=independent file; a Forecaster's fit has no test split, and cross_validate "
    "and backtest take cutoffs='per_series' or 'shared' (f.cross_validate(df, cutoffs='shared'))",
    "task_name": "it names a command-line run, and a Forecaster is not one",
    "trainer.enable_progress_bar": SHOWN_BY_VERBOSE,
    "trainer.enable_model_summary": SHOWN_BY_VERBOSE,
    "trainer.limit_test_batches": TESTS_NOTHING,
    "trainer.limit_predict_batches": TESTS_NOTHING,
}
SECTIONS = {
    "output": "says what python -m tsfm.run writes after its test (forecast.png, the metrics "
    "table, forecasts.parquet), and a Forecaster's fit writes none of them: use f.plot(...), "
    "f.evaluate(df, return_forecasts=True) or f.backtest(df)",
    "tune": "configures python -m tsfm.tune's study: pass it to f.tune(df, n_trials=..., "
    "timeout=..., ...) as an argument",
}
GROUPS = {
    "data": "picks a dataset of the command line, and a Forecaster's data is the frame you "
    "fit: a preset's settings come with Forecaster.from_experiment(...), one setting with a "
    "data__<key>=... parameter",
    "hparams_search": "picks python -m tsfm.tune's search space; f.tune(df, search_space=...) "
    "takes one (default: the model's conf/hparams_search/<model>.yaml)",
}
# Settings of one table's variates, which a mode="independent" fit (each series its own
# sample, its targets standardised on its own training rows) has no use for.
PANEL_UNUSED = (
    "data.features",
    "data.channel_independent",
    "data.train_variates",
    "data.scale",
)
# Settings that act only when a fit validates (val_size or val_df).
VALIDATION_SECTIONS = ("callbacks.early_stopping.", "callbacks.checkpoint.")


def unused(what: str, key: str, model: str) -> str | None:
    """Why ``what`` (a parameter or an override) may not set ``key`` (a config key, or a
    config group for an override such as ``data=m4_hourly``); None if a fit uses it."""
    if key in M4_INSTEAD:
        return f"{what} sets {key}, {M4_LOADER.format(model=model)}; {M4_INSTEAD[key]}"
    if key in ELSEWHERE:
        return f"{what} sets {key}, which a Forecaster does not use: {ELSEWHERE[key]}"
    section = key.split(".", 1)[0]
    if section in SECTIONS:
        return f"{what} sets {key}, which {SECTIONS[section]}"
    if key in GROUPS:
        return f"{what} {GROUPS[key]}"
    return None


def check_panel_settings(est: Any, keys: dict[str, str]) -> None:
    """Refuse the :data:`PANEL_UNUSED` settings a ``mode="independent"`` fit was given;
    ``keys``: config key -> how the user gave it (a parameter or an override)."""
    given = [f"{keys[key]} ({key})" for key in PANEL_UNUSED if key in keys]
    if given and est.mode == "independent":
        raise InputError(
            f"{', '.join(given)}: not used by mode='independent', where each series is its own "
            "sample (its target_col, or the targets=[...] columns), standardised on its own "
            "training rows; drop it, or fit with "
            "mode='joint' (the series as the variates of one table)"
        )


def warn_unvalidated(keys: dict[str, str]) -> None:
    """Say that the early stopping and checkpoint settings given (``keys`` as for
    :func:`check_panel_settings`) do nothing in a fit without validation rows."""
    given = [keys[key] for key in keys if key.startswith(VALIDATION_SECTIONS)]
    if given:
        warn_user(
            f"{', '.join(given)} has no effect in this fit: early stopping and the best "
            "epoch need validation rows (val_size=... or val_df=...); it trains max_epochs"
        )


def plain_data_node(cfg: DictConfig) -> None:
    """Replace a preset's M4 ``data.`` node (``experiment=<model>_m4_<group>``) by the plain
    :class:`DataConfig` a Forecaster's data modules read, with the same values (look-back and
    horizon resolved, batch size, no scaling); the M4 loader's own settings go (and its
    ``cutoffs``, which places the command line's test split)."""
    if OmegaConf.get_type(cfg.data) is DataConfig:
        return
    own = {f.name for f in fields(DataConfig)}
    values = OmegaConf.to_container(cfg.data, resolve=True)
    kept = {key: value for key, value in values.items() if key in own and key != "cutoffs"}
    cfg.data = OmegaConf.merge(OmegaConf.structured(DataConfig), kept)
