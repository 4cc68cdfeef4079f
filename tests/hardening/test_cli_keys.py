"""The command line's overrides of keys or configs the schema lacks end the command before
Hydra starts the run, with the nearest names and status 2; a search space given to
``python -m tsfm.run`` is refused pointing to ``python -m tsfm.tune``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers.data import REPO
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm.cli_errors import INPUT_ERROR_STATUS
from tsfm.errors import InputError


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["model.d_modle=64"], r"section 'model' has no setting 'd_modle' \(did you mean "
         r"'model.d_model'\?\)"),
        (["trainer.max_epoch=1"], r"did you mean 'trainer.max_epochs'"),
        (["callbacks.early_stopping.patiense=1"], r"did you mean 'callbacks.early_stopping."
         r"patience'"),
        (["+optim.lrr=5"], r"section 'optim' has no setting 'lrr' \(did you mean 'optim.lr'\?\)"),
        (["+trainer.foo=1"], r"section 'trainer' has no setting 'foo' \(its settings: accel"),
        (["model=itransfomer"], r"^model=itransfomer: no config 'itransfomer' in model/ \(did "
         r"you mean 'itransformer'\?\)$"),
        (["model=itransformer_schema"], r"no config 'itransformer_schema' in model/"),
        (["-m", "data=etth1,ettm1", "model.d_modle=8,16"], r"did you mean 'model.d_model'"),
        (["-m", "model=timesclip,itransformer", "model.d_model=8"], r"section 'model' has no "
         r"setting 'd_model'"),  # the first choice: TimesCLIP has no d_model
    ],
)  # fmt: skip
def test_an_override_the_schema_lacks_is_named_with_the_nearest(argv, message):
    from tsfm.cli_errors import override_error

    error = override_error(argv)
    assert error is not None and re.search(message, error), error


@pytest.mark.parametrize(
    "argv",
    [
        ["model.d_model=64", "trainer.max_epochs=1"],  # composes
        ["data=etth1,ettm1"],  # a sweep without -m: Hydra's own message
        ["--cfg", "job", "model.d_modle=1"],  # shows the config: Hydra's
        ["--config-name", "mine", "model.d_modle=1"],  # another config
        ["data.seq_len=twelve"],  # a wrong type: Hydra's message names the key and type
        [],
    ],
)
def test_other_command_lines_are_left_to_hydra(argv):
    from tsfm.cli_errors import override_error

    assert override_error(argv) is None


def test_the_cli_ends_on_a_misspelt_key_before_the_run_starts(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli("model.d_modle=64", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-2000:]
    assert "InputError: unknown key model.d_modle: section 'model' has no setting 'd_modle' " in (
        proc.stderr
    )
    assert "did you mean 'model.d_model'?" in proc.stderr
    assert "To append" not in proc.stderr and "HYDRA_FULL_ERROR" not in proc.stderr
    assert not run_dir.exists()


def test_the_cli_refuses_an_added_key_instead_of_ignoring_it(tmp_path):
    for override, near in (
        ("+callbacks.early_stopping.patiense=1", "callbacks.early_stopping.patience"),
        ("+optim.lrr=5", "optim.lr"),
    ):
        proc = run_cli(*TINY_ITRANSFORMER, *TINY_RUN, override, cwd=tmp_path)
        assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-2000:]
        assert f"did you mean '{near}'?" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("metrics.json"))


@pytest.mark.parametrize("multirun", [False, True])
def test_the_run_command_refuses_a_search_space(tmp_path, multirun):
    args = ["-m"] if multirun else []
    proc = run_cli(*args, *TINY_ITRANSFORMER, *TINY_RUN, "hparams_search=itransformer",
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-2000:]
    assert "hparams_search=itransformer is a search space" in proc.stderr
    assert "python -m tsfm.tune hparams_search=itransformer" in proc.stderr
    assert not list(tmp_path.rglob("metrics.json"))


def test_the_tuning_command_names_the_nearest_key(tmp_path):
    args = [sys.executable, "-m", "tsfm.tune", "hparams_search=itransformer"]
    args += ["trainer.max_epoch=1", f"tune.dir={tmp_path / 'study'}"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == INPUT_ERROR_STATUS, proc.stderr[-2000:]
    assert "did you mean 'trainer.max_epochs'" in proc.stderr
    assert not (tmp_path / "study").exists()


def test_a_preset_on_the_search_path_is_found_and_a_misspelt_one_named(tmp_path):
    from tsfm.cli_errors import override_error

    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "mine_tuned.yaml").write_text(
        "# @package _global_\ndefaults:\n  - /experiment/itransformer_etth1_96\n  - _self_\n"
    )
    searchpath = f"hydra.searchpath=[file://{tmp_path}]"
    assert override_error([searchpath, "experiment=mine_tuned"]) is None
    assert "did you mean 'mine_tuned'?" in override_error([searchpath, "experiment=mine_tune"])


def test_no_search_space_is_no_refusal():
    from tsfm.config import compose_config
    from tsfm.run import refuse_search_space

    refuse_search_space(compose_config("seed=1"), ["seed=1"])
    with pytest.raises(InputError, match=r"^tune.params is a search space \(model.d_model\)"):
        refuse_search_space(compose_config("+tune.params={model.d_model:'choice(8,16)'}"), [])
