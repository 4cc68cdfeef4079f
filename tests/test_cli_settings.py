"""Settings of the run config that only the command line reads are refused when a Forecaster
is given them (as a parameter or an override), with what does that job in Python, instead of
being silently ignored; an M4 preset's own M4 loader settings are dropped from the config;
a key the config lacks or a value of the wrong type is refused with the settings near it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny, to_long
from tsfm import Forecaster

TINY = {"d_model": 8, "d_ff": 8, "n_layers": 1, "n_heads": 2, "max_epochs": 1, "verbose": 0}
M4_SETTINGS = {
    "data__lookback_multiple": (4.0, r"lookback=\.\.\."),
    "data__samples_per_series": (10, r"max_epochs=\.\.\., max_time=\.\.\. or trainer__limit"),
    "data__history_size": (1.0, r"last rows \(e\.g\. df\.groupby\('unique_id'\)\.tail\(n\)\)"),
    "data__validation": ("test", r"val_size=\.\.\."),
}
M4_LOADER = (
    r"a setting of the command line's M4 training loader \(python -m tsfm\.run "
    r"experiment=itransformer_m4_<group>\), which a Forecaster does not use: it trains on "
    r"every look-back \+ horizon window of every series"
)


def m4_like(n_series: int = 3, length: int = 90) -> pd.DataFrame:
    """A long frame of weekly-like series with integer time, as M4's files give them."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"W{i}" for i in range(n_series)], length),
            "ds": np.tile(np.arange(1, length + 1), n_series),
            "y": 100 + rng.standard_normal(n_series * length).cumsum(),
        }
    )


@pytest.mark.parametrize("name", sorted(M4_SETTINGS))
def test_the_m4_loader_settings_are_refused_with_what_the_forecaster_does(name):
    value, instead = M4_SETTINGS[name]
    key = name.replace("__", ".")
    preset = Forecaster.from_experiment(
        "itransformer_m4_weekly", mode="independent", **TINY, **{name: value}
    )
    with pytest.raises(ValueError, match=rf"parameter '{name}' sets {key}, {M4_LOADER}.*{instead}"):
        preset.fit(m4_like())  # was: fitted, the setting silently ignored
    with pytest.raises(ValueError, match=rf"{M4_LOADER}.*{instead}"):  # was: "cannot set ..."
        Forecaster(horizon=13, lookback=26, **{name: value}).fit(m4_like())
    with pytest.raises(ValueError, match=rf"override '{key}={value}' sets {key}, {M4_LOADER}"):
        Forecaster(horizon=13, overrides=[f"{key}={value}"]).fit(m4_like())
    with pytest.raises(ValueError, match=M4_LOADER):
        tiny().set_params(**{name: value})


def test_an_m4_preset_fits_without_its_loader_settings_in_either_mode():
    frame = m4_like()
    for mode in ("independent", "joint"):  # joint refused the M4 node's keys as unknown
        f = Forecaster.from_experiment("itransformer_m4_weekly", mode=mode, **TINY).fit(frame)
        data = f.config_.data
        assert (data.seq_len, data.pred_len, data.batch_size, data.scale) == (26, 13, 16, False)
        assert not {"lookback_multiple", "samples_per_series", "history_size"} & set(data)
    f = Forecaster.from_experiment("itransformer_m4_weekly", lookback=52, **TINY).fit(frame)
    assert f.config_.data.seq_len == 52  # the look-back of a multiple of 4: lookback=


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"output__plot": True}, r"sets output\.plot, which says what python -m tsfm\.run writes"),
        ({"output__forecasts": True}, r"f\.evaluate\(df, return_forecasts=True\)"),
        ({"tune__n_trials": 5}, r"python -m tsfm\.tune's study: pass it to f\.tune\(df, n_trials"),
        ({"data__id_col": "item"}, r"the Forecaster's 'id_col' argument controls; pass id_col="),
        ({"data__mode": "independent"}, r"'mode' argument controls; pass mode=\.\.\."),
        ({"data__allow_irregular": True}, r"a regular step .* missing='mask'"),
        ({"trainer__enable_progress_bar": True}, r"verbose sets it \(verbose=2 shows"),
        ({"trainer__limit_test_batches": 0.5}, r"a Forecaster's fit tests nothing"),
        ({"overrides": ["task_name=mine"]}, r"names a command-line run"),
        ({"overrides": ["output.plot_windows=2"]}, r"override 'output\.plot_windows=2' sets"),
        ({"overrides": ["data=m4_weekly"]}, r"picks a dataset .* Forecaster\.from_experiment"),
        ({"overrides": ["hparams_search=itransformer"]}, r"f\.tune\(df, search_space=\.\.\.\)"),
    ],
)
def test_settings_only_the_command_line_reads_are_refused(given, says):
    with pytest.raises(ValueError, match=says):  # each was accepted and ignored
        tiny(**given).fit(synthetic_frame(120))


@pytest.mark.parametrize(
    "given",
    [
        {"data__scale": False},
        {"data__features": "S"},
        {"data__channel_independent": True},
        {"overrides": ["data.train_variates=1"]},
    ],
)
def test_table_settings_are_refused_by_an_independent_fit(given):
    long = to_long(synthetic_frame(120))
    with pytest.raises(ValueError, match=r"not used by mode='independent', where each series"):
        tiny(mode="independent", **given).fit(long)  # each was accepted and ignored


def test_early_stopping_settings_without_validation_rows_are_named():
    frame = synthetic_frame(120)
    with pytest.warns(UserWarning, match=r"parameter 'patience' has no effect in this fit: early"):
        tiny(patience=2, verbose=0).fit(frame)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*has no effect in this fit.*")
        tiny(patience=2, verbose=0, val_size=0.25).fit(frame)


def test_a_key_the_config_lacks_or_a_wrong_value_is_refused_with_what_is_near():
    frame = synthetic_frame(120)
    near = r"section 'trainer' has no setting 'gradient_clip_vale' \(did you mean 'trainer\."
    with pytest.raises(ValueError, match=rf"'trainer__gradient_clip_vale' sets .*, but {near}"):
        tiny(trainer__gradient_clip_vale=1.0).fit(frame)
    with pytest.raises(ValueError, match=r"the settings of section 'optim': \[.*'lr'"):
        tiny(optim__zzz=1).fit(frame)
    with pytest.raises(ValueError, match=r"optim\.lr is a setting, not a section"):
        tiny(optim__lr__max=1).fit(frame)
    wrong = r"parameter 'batch_size' sets data\.batch_size='x', which the setting does not take"
    with pytest.raises(ValueError, match=rf"{wrong} \(.*Integer\); .* now, 32"):
        tiny(batch_size="x").fit(frame)
