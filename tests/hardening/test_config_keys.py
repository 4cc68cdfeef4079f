"""Every key of a composed run config against its typed schema: a key added with ``+key=...``
that nothing would read is refused right after composition (with the nearest key and its
section), in every front door; the schemas themselves are no choice of their group."""

from __future__ import annotations

import pytest
from omegaconf import open_dict

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm import Forecaster
from tsfm.config import CONF_DIR, compose_config
from tsfm.errors import InputError
from tsfm.pipeline import fit_and_test
from tsfm.training.preflight import check_run
from tsfm.tuning.config_study import compose as compose_trial

# a data file that does not exist: a refusal that comes first never gets to read it
NO_DATA = ["data=custom", "data.path=/nonexistent/data.csv"]
ADDED = [
    ("+callbacks.early_stopping.patiense=1", "callbacks.early_stopping", "patience"),
    ("+callbacks.checkpoint.monitr=x", "callbacks.checkpoint", "monitor"),
    ("+conformal.window=3", "conformal", "windows"),
    ("+output.plot_window=2", "output", "plot_windows"),
    ("+logger.nam=csv", "logger", "name"),
    ("+optim.lrr=5", "optim", "lr"),
    ("+trainer.max_epoch=1", "trainer", "max_epochs"),
    ("+model.d_modle=8", "model", "d_model"),
    ("+data.pred_lenn=5", "data", "pred_len"),
    ("+tune.n_trial=3", "tune", "n_trials"),
]


def _nearest(section: str, near: str) -> str:
    name = f"{section}.{near}" if section else near
    return rf"section '{section}' has no setting .*did you mean '{name}'"


@pytest.mark.parametrize(("override", "section", "near"), ADDED)
def test_an_added_key_no_schema_declares_is_refused_with_the_nearest(override, section, near):
    with pytest.raises(InputError, match=_nearest(section, near)):
        compose_config(*TINY_ITRANSFORMER, override)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("+seeed=1", r"the run config has no setting 'seeed' \(did you mean 'seed'\?\)"),
        ("+new.key=1", r"the run config has no setting 'new' \(its settings: callbacks, "),
        ("+logger.foo=1", r"section 'logger' has no setting 'foo' \(its settings: name\)"),
    ],
)
def test_a_new_section_or_top_level_key_is_refused_too(override, message):
    with pytest.raises(InputError, match=message):
        compose_config(override)


def test_the_run_refuses_one_before_reading_data(tmp_path):
    """A config composed elsewhere (a trial's values set on a copy) meets the same check."""
    cfg = compose_config(*TINY_ITRANSFORMER, *TINY_RUN, *NO_DATA)
    with open_dict(cfg.callbacks.early_stopping):
        cfg.callbacks.early_stopping.patiense = 1
    with pytest.raises(InputError, match=_nearest("callbacks.early_stopping", "patience")):
        fit_and_test(cfg, tmp_path)
    with pytest.raises(InputError, match="patiense"):
        check_run(cfg)


def test_a_tuning_trials_config_is_checked_when_composed():
    with pytest.raises(InputError, match=_nearest("conformal", "windows")):
        compose_trial(["+conformal.window=3"])


def test_the_forecaster_refuses_an_added_key_at_fit_naming_the_override():
    est = tiny(overrides=["+callbacks.early_stopping.patiance=1"], val_size=0.2)
    message = r"override '\+callbacks.early_stopping.patiance=1': section 'callbacks.early_"
    with pytest.raises(InputError, match=message + r"stopping' has no setting 'patiance'"):
        est.fit(synthetic_frame(200, 2))
    assert not hasattr(est, "config_")  # never trained, so never saved to fail loading
    with pytest.raises(InputError, match=_nearest("callbacks.early_stopping", "patience")):
        Forecaster.from_experiment(
            "itransformer_etth1_96", overrides=["+callbacks.early_stopping.patiance=1"]
        ).fit(synthetic_frame(300, 2))


def test_a_misspelt_section_in_a_parameter_is_named_as_a_section():
    with pytest.raises(InputError) as refused:
        tiny(callbacks__early_stoping__patience=5).fit(synthetic_frame(200, 2))
    message = str(refused.value)
    assert "section 'callbacks' has no setting 'early_stoping'" in message
    assert "did you mean 'callbacks.early_stopping'?" in message
    assert "is a setting, not a section" not in message


@pytest.mark.parametrize("group", ["model", "data", "optim", "trainer"])
def test_no_schema_is_a_choice_of_its_group(group):
    stored = {"model": "itransformer_schema", "data": "data_schema"}.get(group, f"{group}_schema")
    with pytest.raises(Exception, match=f"Could not find '{group}/{stored}'") as refused:
        compose_config(f"{group}={stored}")
    assert "_schema" not in str(refused.value).split("Available options", 1)[1].split("Config")[0]


def test_every_shipped_search_space_composes_with_declared_keys_only():
    for space in sorted(p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml")):
        cfg = compose_config(f"hparams_search={space}", f"model={space}")
        assert cfg.tune.params, space


def test_a_user_config_extending_a_schema_by_its_old_name_is_told_the_new_one(tmp_path):
    from tsfm.cli_errors import override_error

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mydata.yaml").write_text(
        "defaults:\n  - data_schema\n  - _self_\nname: custom\npath: /tmp/x.csv\n"
    )
    message = override_error([f"hydra.searchpath=[file://{tmp_path}]", "data=mydata"])
    assert message is not None and "'/schema/data/data@_here_' instead of 'data_schema'" in message
