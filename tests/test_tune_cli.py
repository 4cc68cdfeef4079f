"""``python -m tsfm.tune`` as a command: its exit status when every trial failed, Hydra's
flags beside the overrides, search-space entries changed or dropped from the command line,
and what it says of a study already done or of another problem."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import optuna
import pytest

from tests.helpers.data import REPO, synthetic_frame
from tests.helpers.estimator import tiny
from tests.test_tune import TINY, study_config
from tsfm.config import compose_config
from tsfm.tuning.config_study import tune
from tsfm.tuning.space import parse_space
from tsfm.tuning.study import run_trials


def test_a_study_whose_every_trial_failed_says_why_and_fails_the_command(tmp_path):
    args = [sys.executable, "-m", "tsfm.tune", *TINY, "+tune.params={optim.lr:'choice(1e6)'}"]
    args += ["tune.n_trials=1", "tune.pruner=none", f"tune.dir={tmp_path}"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "no trial of study 'itransformer_etth1_24_8' completed" in out
    assert "trial 0: DivergedError: training diverged" in out and "raise tune.n_trials" in out
    assert "Empty DataFrame" not in out and not (tmp_path / "experiment").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["experiment=itransformer_etth1_96", "hparams_search=itransformer", "--cfg", "job"],
        ["--cfg", "job", "experiment=itransformer_etth1_96"],
        ["experiment=itransformer_etth1_96", "--info"],
        ["--info"],
    ],
)
def test_the_study_folder_joins_the_overrides_wherever_the_flags_are(argv):
    from hydra._internal.utils import get_args_parser

    from tsfm.tune import _logs_in_the_study_folder

    parsed = get_args_parser().parse_args(_logs_in_the_study_folder(argv))
    users = [arg for arg in argv if "=" in arg]
    assert parsed.overrides == ["hydra.run.dir=${tune.dir}", *users] or parsed.overrides == [
        *users,
        "hydra.run.dir=${tune.dir}",
    ]


def test_a_null_entry_drops_it_from_the_search_space(tmp_path):
    from tsfm.tuning.space import searched_entries

    cfg = compose_config("hparams_search=itransformer", "tune.params={model.d_model:null}")
    assert "model.d_model" not in searched_entries(cfg.tune.params)
    assert "model.d_ff" in searched_entries(cfg.tune.params)  # the others stay
    overrides = [*TINY, "+tune.params={model.d_model:null}", f"tune.dir={tmp_path}"]
    with pytest.raises(ValueError, match=r"^no search space: .*'\+tune.params=\{model.d_mod"):
        tune(compose_config(*overrides), overrides)


def test_a_study_holding_enough_trials_says_how_many_it_holds(caplog):
    study = optuna.create_study()
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=3)
    with caplog.at_level(logging.WARNING, logger="tsfm.tuning.study"):
        run_trials(study, parse_space({"x": "interval(0.0, 1.0)"}), None, n_trials=2)
    assert "already holds 3 finished trials (2 asked)" in caplog.text


def test_another_problems_refusal_offers_only_what_names_a_new_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    other = '{"metric": "fit_seconds"}'  # a study of the same name, recorded for another metric
    cfg, overrides = study_config(tmp_path / "given", "tune.n_trials=1", f"tune.storage={url}")
    optuna.create_study(study_name=cfg.tune.study_name, storage=url).set_user_attr("problem", other)
    with pytest.raises(ValueError, match=r"Name a new study \(tune.study_name=\.\.\.\), or"):
        tune(cfg, overrides)  # another tune.dir would find the same storage, the same study
    cfg, overrides = study_config(tmp_path / "own", "tune.n_trials=1")
    (tmp_path / "own").mkdir()
    own = f"sqlite:///{tmp_path / 'own' / 'study.db'}"
    optuna.create_study(study_name=cfg.tune.study_name, storage=own).set_user_attr("problem", other)
    with pytest.raises(ValueError, match=r"\(tune.study_name=\.\.\. or tune.dir=\.\.\.\), or"):
        tune(cfg, overrides)
    optuna.create_study(study_name="py", storage=url).set_user_attr("problem", other)
    with pytest.raises(ValueError, match=r"Name a new study \(study_name=\.\.\.\), or"):
        tiny().tune(synthetic_frame(150, 2), n_trials=1, search_space={"d_model": [8]},
                    storage=url, study_name="py")  # fmt: skip


def test_a_presets_file_is_found_in_hydras_folder_order_or_refused_naming_them(tmp_path):
    from tsfm.config import CONF_DIR
    from tsfm.errors import InputError
    from tsfm.tuning.preset_files import preset_file

    (tmp_path / "experiment").mkdir()
    for name in ("mine", "itransformer_etth1_96"):
        (tmp_path / "experiment" / f"{name}.yaml").write_text("# @package _global_\n")
    folders = [CONF_DIR, tmp_path]
    assert preset_file("mine", folders) == tmp_path / "experiment" / "mine.yaml"
    shipped = CONF_DIR / "experiment" / "itransformer_etth1_96.yaml"
    assert preset_file("itransformer_etth1_96", folders) == shipped  # conf/ first, as Hydra
    with pytest.raises(
        InputError,
        match=rf"experiment=theirs: no experiment/theirs.yaml in the config folders \({CONF_DIR}, {tmp_path}\)",
    ):
        preset_file("theirs", folders)
