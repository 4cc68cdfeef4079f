"""``--config-dir DIR --config-name config`` would silently run tsfm's own conf/config.yaml
(Hydra searches tsfm's configs first): refused before Hydra starts, naming the command line
that runs DIR's config, or repeats the run recorded there."""

from __future__ import annotations

import pytest

from tsfm.cli_errors import refuse_unknown_keys_first


@pytest.fixture
def run_dir(tmp_path):
    """A folder laid out as a run's: config.yaml and Hydra's record in .hydra/."""
    (tmp_path / ".hydra").mkdir()
    for path in (tmp_path / "config.yaml", tmp_path / ".hydra" / "config.yaml"):
        path.write_text("seed: 5\n")
    return tmp_path


def test_a_config_dir_whose_config_tsfms_own_would_shadow_is_refused(run_dir, capsys):
    with pytest.raises(SystemExit) as stop:
        refuse_unknown_keys_first(["--config-dir", str(run_dir), "--config-name", "config"])
    assert stop.value.code == 2
    said = capsys.readouterr().err
    assert said.startswith("InputError: --config-dir") and "would run tsfm's" in said
    assert f"--config-path {run_dir / '.hydra'} --config-name config" in said  # the rerun
    assert f"--config-path {run_dir} --config-name config" in said


def test_config_dir_presets_and_a_config_path_are_left_alone(run_dir):
    from tsfm.config_shadow import shadowed_config_error

    assert shadowed_config_error(["--config-dir", str(run_dir), "experiment=x"]) is None
    assert shadowed_config_error(["-cd", str(run_dir), "-cn", "mine"]) is None  # not tsfm's
    given = ["--config-path", str(run_dir / ".hydra"), "--config-name", "config"]
    assert shadowed_config_error(given) is None


def test_a_folder_without_that_config_is_left_alone(tmp_path):
    from tsfm.config_shadow import shadowed_config_error

    assert shadowed_config_error(["--config-dir", str(tmp_path), "--config-name", "config"]) is None


def test_the_short_flags_are_refused_too(run_dir):
    from tsfm.config_shadow import shadowed_config_error

    said = shadowed_config_error(["-cd", str(run_dir), "-cn", "config.yaml"])
    assert said is not None and "Hydra searches tsfm's own configs before --config-dir" in said


def test_tsfms_own_conf_folder_as_config_dir_is_left_alone():
    from tsfm.config import CONF_DIR
    from tsfm.config_shadow import shadowed_config_error

    assert shadowed_config_error(["--config-dir", str(CONF_DIR), "--config-name", "config"]) is None
