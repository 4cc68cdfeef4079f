"""Optuna tuning: the search-space grammar, resuming, pruning, outputs, shared studies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pandas as pd
import pytest
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from tests.helpers.backbones import build_offline
from tests.helpers.data import REPO, SHARED_DATA, needs_shared, synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.runs import TINY_ITRANSFORMER
from tsfm import Forecaster
from tsfm.config import compose_config
from tsfm.tuning.config_study import base_of_best, tune
from tsfm.tuning.space import format_override, parse_space, suggest
from tsfm.tuning.study import open_study

TINY = [
    *TINY_ITRANSFORMER,
    "trainer.max_epochs=2",
    "trainer.limit_train_batches=4",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "logger=none",
]
SPACE = {"optim.lr": "tag(log, interval(1e-4, 1e-2))", "model.d_model": "choice(8, 16)"}
POSTGRES_URL = os.environ.get("TSFM_TEST_POSTGRES_URL")


def study_config(directory: Path, *extra: str):
    overrides = [*TINY, f"tune.dir={directory}", *extra]
    cfg = compose_config(*overrides)
    cfg.tune.params = SPACE
    return cfg, overrides


def test_the_sweeper_grammar_becomes_optuna_distributions():
    space = parse_space(
        {
            "a": "choice(1, 2)",
            "b": "interval(0.0, 0.5)",
            "c": "tag(log, interval(1e-5, 1e-2))",
            "d": "int(interval(1, 4))",
            "e": "range(16, 65, 16)",
            "f": "choice(adam, sgd)",
            "g": "7",
        }
    )
    assert space["a"] == CategoricalDistribution([1, 2])
    assert space["b"] == FloatDistribution(0.0, 0.5)
    assert space["c"] == FloatDistribution(1e-5, 1e-2, log=True)
    assert space["d"] == IntDistribution(1, 4)
    assert space["e"] == IntDistribution(16, 64, step=16)
    assert space["f"] == CategoricalDistribution(["adam", "sgd"]) and space["g"] == 7
    values = suggest(optuna.create_study().ask(), space)
    assert values["e"] in (16, 32, 48, 64) and 1e-5 <= values["c"] <= 1e-2 and values["g"] == 7
    composed = compose_config(format_override("optim.optimizer", "sgd"), "optim.lr=0.5")
    assert composed.optim.optimizer == "sgd"
    for bad, message in [
        ("interval(1)", "cannot parse"),
        ("tag(lin, interval(1, 2))", "unknown tag"),
        ("tag(log, interval(0.0, 1.0))", "low > 0"),
        ("interval(2.0, 1.0)", "empty"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_space({"x": bad})


def test_a_killed_study_resumes_keeping_its_finished_trials(tmp_path):
    cfg, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    first, _ = tune(cfg, overrides)
    kept = first.trials[0]
    assert kept.state == TrialState.COMPLETE
    # a worker killed in the middle of a trial leaves it RUNNING in the storage
    first.ask()
    cfg, overrides = study_config(tmp_path, "tune.n_trials=2", "trainer.max_epochs=1")
    resumed, outputs = tune(cfg, overrides)
    states = [t.state for t in resumed.trials]
    assert states == [TrialState.COMPLETE, TrialState.RUNNING, TrialState.COMPLETE]
    assert resumed.trials[0].params == kept.params and resumed.trials[0].value == kept.value
    assert resumed.trials[2].params != kept.params  # a new point, not a repeat of trial 0
    # outputs: a ready experiment file, a results table, plots
    best = min(resumed.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    preset = outputs["experiment"]
    assert preset.name == "itransformer_etth1_8_tuned.yaml"
    text = preset.read_text()
    assert text.startswith("# @package _global_") and "override /model: itransformer" in text
    tuned = compose_config(
        f"hydra.searchpath=[file://{preset.parent.parent}]", f"experiment={preset.stem}"
    )
    assert tuned.optim.lr == pytest.approx(best.params["optim.lr"])
    assert tuned.model.d_model == best.params["model.d_model"] and tuned.data.pred_len == 8
    assert "tune:" not in text
    # the quick-trial shortcuts are named in the header, not copied into the preset
    assert "shortcuts trainer.max_epochs=2, trainer.limit_train_batches=4" in text
    assert tuned.trainer.limit_train_batches is None and tuned.trainer.max_epochs == 10
    table = pd.read_csv(tmp_path / "trials.csv")
    assert table.trial.tolist() == [0, 1, 2] and "optim.lr" in table.columns
    assert "complete" in outputs["table"]
    for plot in ("history", "importance"):
        assert outputs[plot].stat().st_size > 5_000


def test_bad_trials_are_pruned_on_validation_loss(tmp_path):
    cfg, overrides = study_config(
        tmp_path,
        "tune.n_trials=2",
        "tune.pruner_startup_trials=1",
        "tune.pruner_warmup_epochs=0",
        "trainer.max_epochs=3",
        "trainer.limit_train_batches=8",
    )
    study = open_study(cfg.tune, f"sqlite:///{tmp_path / 'study.db'}", seed=0)
    study.enqueue_trial({"optim.lr": 5e-3, "model.d_model": 16})
    study.enqueue_trial({"optim.lr": 1e-4 * 1.0001, "model.d_model": 8})  # barely learns
    study, _ = tune(cfg, overrides)
    good, bad = study.trials
    assert good.state == TrialState.COMPLETE and len(good.intermediate_values) == 3
    assert bad.state == TrialState.PRUNED and len(bad.intermediate_values) < 3
    assert bad.intermediate_values[0] > good.intermediate_values[0]


def test_forecaster_tune_keeps_the_best_parameters_and_model(tmp_path):
    frame = synthetic_frame(200, 2)
    est = tiny(max_epochs=2).tune(
        frame, n_trials=2, search_space=SPACE, output_dir=tmp_path, pruner="none"
    )
    best = min(est.study_.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    assert est.best_params_ == {
        "model": "itransformer",
        "d_model": best.params["model.d_model"],
        "lr": best.params["optim.lr"],
    }
    again = Forecaster(**est.best_params_)  # a form the constructor takes
    assert again.get_params()["d_model"] == best.params["model.d_model"]
    assert est.get_params()["d_model"] == best.params["model.d_model"]
    assert est.get_params()["lr"] == pytest.approx(best.params["optim.lr"])
    assert est.config_.model.d_model == best.params["model.d_model"]
    assert est.fit_metrics_["val/best_loss"] == pytest.approx(best.value)
    assert len(est.predict()) == 8 and (tmp_path / "history.png").is_file()
    assert (tmp_path / "experiment" / "itransformer_custom_8_tuned.yaml").is_file()


@pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="TSFM_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server and sets it)",
)
def test_two_workers_share_one_postgresql_study(tmp_path):
    name = f"shared_{uuid.uuid4().hex[:8]}"
    args = [
        sys.executable,
        "-m",
        "tsfm.tune",
        *TINY,
        "trainer.max_epochs=1",
        "+tune.params={optim.lr:'tag(log, interval(1e-4, 1e-2))'}",
        "tune.n_trials=4",
        "tune.worker_trials=2",  # so that each worker must do its share
        f"tune.storage={POSTGRES_URL}",
        f"tune.study_name={name}",
        "tune.plots=false",
        "hydra.run.dir=.",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    workers = []
    for worker in ("a", "b"):
        (tmp_path / worker).mkdir()
        workers.append(
            subprocess.Popen(
                [*args, f"tune.dir={tmp_path / worker}"],
                cwd=tmp_path / worker,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], "\n".join(log[-2000:] for log in logs)
    study = optuna.load_study(study_name=name, storage=POSTGRES_URL)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 4
    workers = [t.user_attrs["worker"] for t in finished]
    assert len(set(workers)) == 2 and all(workers.count(w) == 2 for w in workers)
    assert len({t.params["optim.lr"] for t in finished}) == len(finished)  # no repeated point


@pytest.mark.slow
def test_a_study_killed_by_a_signal_resumes_from_the_command_line(tmp_path):
    args = [
        sys.executable,
        "-m",
        "tsfm.tune",
        *TINY,
        "+tune.params={optim.lr:'tag(log, interval(1e-4, 1e-2))'}",
        "tune.n_trials=3",
        f"tune.dir={tmp_path / 'study'}",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    (tmp_path / "cwd").mkdir()
    (tmp_path / "study").mkdir()
    worker = subprocess.Popen(args, cwd=tmp_path / "cwd", env=env)
    storage = f"sqlite:///{tmp_path / 'study' / 'study.db'}"
    deadline = time.time() + 300
    while time.time() < deadline and worker.poll() is None:
        time.sleep(0.5)
        try:
            study = optuna.load_study(study_name="itransformer_etth1_24_8", storage=storage)
        except KeyError:
            continue
        if study.get_trials(states=(TrialState.COMPLETE,)):
            break
    assert worker.poll() is None, "the worker ended before it could be killed"
    worker.kill()
    worker.wait()
    kept = optuna.load_study(study_name="itransformer_etth1_24_8", storage=storage).trials[0]
    done = subprocess.run(args, cwd=tmp_path / "cwd", env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not any((tmp_path / "cwd").iterdir())  # Hydra's files are in the study's folder
    assert (tmp_path / "study" / "tune.log").is_file()
    study = optuna.load_study(study_name="itransformer_etth1_24_8", storage=storage)
    assert len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))) >= 3
    assert study.trials[0].value == kept.value and study.trials[0].params == kept.params


@pytest.mark.slow
@needs_shared("ETTm1.csv.gz")
def test_hydra_multirun_runs_a_plain_grid(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tsfm.run",
            "-m",
            "model=itransformer",
            "data=etth1,ettm1",
            *TINY,
            "output.plot=false",
            f"data.root={SHARED_DATA}",
            f"hydra.sweep.dir={tmp_path}",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    runs = [json.loads((tmp_path / str(i) / "metrics.json").read_text()) for i in (0, 1)]
    assert [r["data"] for r in runs] == ["etth1", "ettm1"]
    assert all(r["test/mse"] > 0 for r in runs)


SEARCH_SPACES = sorted(p.stem for p in (REPO / "conf" / "hparams_search").glob("*.yaml"))


@pytest.mark.parametrize("space", SEARCH_SPACES)
def test_every_search_space_samples_configs_its_model_accepts(space):
    """Each shipped space parses, and a few sampled trials compose and build the model it
    names (with its ETTh1 preset where it has one: presets are optional)."""
    model = OmegaConf.load(REPO / "conf" / "hparams_search" / f"{space}.yaml").tune.model
    preset = REPO / "conf" / "experiment" / f"{model}_etth1_96.yaml"
    run = f"experiment={preset.stem}" if preset.is_file() else f"model={model}"
    base = [run, f"hparams_search={space}"]
    space = parse_space(compose_config(*base).tune.params)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        values = suggest(study.ask(), space)
        cfg = compose_config(*base, *(format_override(k, v) for k, v in values.items()))
        for key, value in values.items():
            assert OmegaConf.select(cfg, key) == value
        assert build_offline(cfg) is not None


def test_the_best_overrides_file_keeps_what_a_preset_takes_from_its_bases():
    """The tuned preset stands alone: it repeats the values of conf/experiment/base/ too."""
    overrides = ["experiment=itransformer_etth1_96"]
    groups, values = base_of_best(compose_config(*overrides), overrides)
    assert groups == {"data": "etth1", "model": "itransformer", "optim": "adam_halving"}
    assert values["model.n_heads"] == 8 and values["seed"] == 2023  # base/itransformer
    assert values["data.batch_size"] == 32  # base/itransformer_etth1
    assert values["data.pred_len"] == 96 and values["model.d_model"] == 256  # the preset


def test_forecaster_tune_without_an_output_dir_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny(max_epochs=1).tune(synthetic_frame(150, 2), n_trials=1, search_space=SPACE, pruner="none")
    assert list(tmp_path.iterdir()) == []


def test_a_study_refuses_to_resume_on_another_problem(tmp_path):
    cfg, overrides = study_config(tmp_path, "tune.n_trials=1", "trainer.max_epochs=1")
    study, _ = tune(cfg, overrides)
    assert '"data.features": "M"' in study.user_attrs["problem"]
    other, overrides = study_config(tmp_path, "tune.n_trials=1", "data.features=S")
    with pytest.raises(ValueError, match=r"run on another problem \(data.features: 'M' there, 'S'"):
        tune(other, overrides)  # same default study name and folder, other data: refused
    frame = synthetic_frame(150, 2)
    tiny(max_epochs=1).tune(frame, n_trials=1, search_space=SPACE, output_dir=tmp_path / "py")
    with pytest.raises(ValueError, match=r"run on other data \(SHA-256 [0-9a-f]{12}\.\.\. there"):
        tiny(max_epochs=1).tune(
            synthetic_frame(150, 2, seed=1), n_trials=1, search_space=SPACE,
            output_dir=tmp_path / "py",
        )  # fmt: skip
    resumed = tiny(max_epochs=1).tune(
        frame, n_trials=2, search_space=SPACE, output_dir=tmp_path / "py"
    )
    assert len(resumed.study_.trials) == 2  # the same frame resumes


def test_a_dead_workers_trial_is_failed_and_retried_when_no_new_trial_is_due(tmp_path):
    extra = ("tune.n_trials=1", "trainer.max_epochs=1", "tune.heartbeat_seconds=1")
    cfg, overrides = study_config(tmp_path, *extra)
    study, _ = tune(cfg, overrides)
    dead = study.ask()  # a worker that started a trial, sent one heartbeat and died
    study._storage.record_heartbeat(dead._trial_id)
    time.sleep(3.5)  # two missed heartbeats (SQLite keeps whole seconds)
    resumed, outputs = tune(*study_config(tmp_path, *extra))  # 1 finished already: none due
    states = [t.state for t in resumed.trials]
    assert (
        states[:2] == [TrialState.COMPLETE, TrialState.FAIL] and "running" not in outputs["table"]
    )
    assert states[2:] == [TrialState.WAITING]  # its retry, for a worker with trials left


def test_a_search_space_from_a_search_path_writes_its_preset(tmp_path):
    space = tmp_path / "conf" / "hparams_search"
    space.mkdir(parents=True)
    (space / "mine.yaml").write_text(
        "# @package _global_\ntune:\n  params:\n    model.d_model: choice(8, 16)\n"
        "    optim: choice(adam_halving, adamw_cosine)\n"  # a group: trials compose afresh
    )
    args = [sys.executable, "-m", "tsfm.tune", *TINY, "hparams_search=mine", "tune.n_trials=1"]
    args += [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", f"tune.dir={tmp_path / 'study'}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]  # the budget shortcuts composed again
    preset = tmp_path / "study" / "experiment" / "itransformer_etth1_8_tuned.yaml"
    assert "override /optim: adam" in preset.read_text()
    assert pd.read_csv(tmp_path / "study" / "trials.csv").state.tolist() == ["complete"]
    logged = (tmp_path / "study" / "tune.log").read_text()  # Optuna's lines and the results
    assert "Trial 0 finished" in logged and f"experiment: {preset}" in logged
