"""Each shipped search space names its model (``tune.model``): ``python -m tsfm.tune`` refuses a
space of another model before the first trial (it searched iTransformer silently for a space
of another model, its ``model.*`` entries dropped with a warning, or refused it without
saying to add ``model=``), and ``Forecaster.tune`` finds its model's space by the same key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from tests.helpers.data import REPO
from tests.test_tune import TINY
from tsfm.config import CONF_DIR, compose_config
from tsfm.errors import InputError
from tsfm.models import REGISTRY
from tsfm.tuning.config_study import tune

SPACES = sorted((CONF_DIR / "hparams_search").glob("*.yaml"))


@pytest.mark.parametrize("path", SPACES, ids=lambda p: p.stem)
def test_every_shipped_search_space_names_its_registered_model(path):
    named = OmegaConf.load(path).tune.get("model")
    assert named in REGISTRY and named == path.stem


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["hparams_search=s2ip_llm"],
            "hparams_search=s2ip_llm is a search space for model s2ip_llm, but the run's model "
            "is itransformer: add model=s2ip_llm (or experiment=s2ip_llm_",
        ),
        (
            ["model=timesclip", "hparams_search=itransformer"],
            "hparams_search=itransformer is a search space for model itransformer, but the "
            "run's model is timesclip: add model=itransformer (or experiment=itransformer_",
        ),
    ],
)
def test_a_search_space_of_another_model_is_refused_before_the_first_trial(
    tmp_path, overrides, message
):
    overrides = [*overrides, f"tune.dir={tmp_path}"]
    with pytest.raises(InputError) as refused:
        tune(compose_config(*overrides), overrides)
    assert str(refused.value).startswith(message)
    assert not list(tmp_path.iterdir())  # no study opened


def test_a_search_space_naming_an_unknown_model_says_so(tmp_path):
    overrides = ["hparams_search=itransformer", "tune.model=itransformr", f"tune.dir={tmp_path}"]
    with pytest.raises(InputError, match="model 'itransformr', which is not a registered model"):
        tune(compose_config(*overrides), overrides)


def test_a_space_written_for_the_run_names_no_model(tmp_path):
    overrides = [*TINY, '+tune.params={optim.lr:"choice(0.001)"}', f"tune.dir={tmp_path}"]
    cfg = compose_config(*overrides)
    assert cfg.tune.get("model") is None
    from tsfm.tuning import space_models

    space_models.check_space_model(cfg, overrides)  # nothing to refuse


def test_the_forecasters_default_space_is_the_one_naming_its_model(monkeypatch):
    from tsfm.tuning import space_models

    shipped = {"itransformer": None, "shared": "itransformer", "s2ip_llm": "s2ip_llm"}
    monkeypatch.setattr(space_models, "space_models", lambda: shipped)
    assert space_models.space_for("itransformer") == "shared"
    assert space_models.space_for("s2ip_llm") == "s2ip_llm"
    with pytest.raises(InputError) as refused:
        space_models.space_for("timesclip")
    assert "no conf/hparams_search/*.yaml names it (tune.model: timesclip)" in str(refused.value)
    assert "pass search_space={'model.<setting>': 'choice(...)', ...} to tune" in str(refused.value)


@pytest.mark.slow  # one trial in a fresh process
def test_the_dropped_choices_warning_goes_into_tune_log(tmp_path):
    """n_heads 3 divides none of the shipped d_model choices (128, 256, 512): the entry is not
    searched, and the warning saying so is in the study folder's tune.log as on the console."""
    args = [sys.executable, "-m", "tsfm.tune", *TINY, "hparams_search=itransformer"]
    args += ["model.n_heads=3", "model.d_model=24", "tune.n_trials=1", "tune.plots=false"]
    args += ["tune.params={model.n_layers:null,model.d_ff:null}", f"tune.dir={tmp_path}"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    log = (tmp_path / "tune.log").read_text()
    assert "model.d_model: dropped 128, 256, 512, not searched" in log
