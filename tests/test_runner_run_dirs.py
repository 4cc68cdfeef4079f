"""The evidence runners' run directories (runners/cli_runs.py): ``--force`` (or a run that
stopped before its metrics.json) reruns into a clean directory, since ``python -m tsfm.run``
refuses one holding an earlier run; only a directory that a runner's run wrote is deleted."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from tests.helpers.data import REPO, synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.errors import InputError

sys.path.append(str(REPO / "runners"))
from cli_runs import QUIET, clear_run_dir, run_cli  # noqa: E402


def hydra_record(run_dir, task=QUIET):
    """The parts of Hydra's .hydra/hydra.yaml that show a runner's python -m tsfm.run run."""
    groups = ["model", "data", "trainer", "optim", "callbacks", "logger", "hydra/launcher"]
    return {
        "hydra": {
            "run": {"dir": str(run_dir)},
            "overrides": {"hydra": [f"hydra.run.dir={run_dir}", "hydra.mode=RUN"]}
            | {"task": ["data=custom", *task]},
            "job": {"name": "run", "chdir": False},
            "runtime": {"output_dir": str(run_dir), "choices": dict.fromkeys(groups, "x")},
        }
    }


def finished_run(run_dir, task=QUIET):
    """The files a finished run of a runner leaves (python -m tsfm.run: Hydra's record, the
    checkpoints, the csv logger's files, the results)."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 1\n")
    (run_dir / ".hydra" / "overrides.yaml").write_text("- data=custom\n")
    record = yaml.safe_dump(hydra_record(run_dir.resolve(), task))
    (run_dir / ".hydra" / "hydra.yaml").write_text(record)
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "metrics.csv").write_text("epoch,train/loss\n0,1.0\n")
    (run_dir / "logs" / "hparams.yaml").write_text("seed: 1\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "best.ckpt").write_bytes(b"weights")
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"weights")
    (run_dir / "config.yaml").write_text("seed: 1\n")
    (run_dir / "metrics.json").write_text('{"test/mse": 1.0}')
    (run_dir / "versions.json").write_text("{}")
    (run_dir / "run.log").write_text("a log line\n")
    return run_dir


def test_a_run_directory_with_its_marker_files_is_cleared(tmp_path):
    run_dir = finished_run(tmp_path / "runs" / "row")
    clear_run_dir(run_dir)
    assert not run_dir.exists() and (tmp_path / "runs").is_dir()
    clear_run_dir(run_dir)  # none there: nothing to do


def test_the_runners_own_log_alone_marks_a_run_directory(tmp_path):
    run_dir = tmp_path / "row"  # a run that failed before Hydra wrote its record
    run_dir.mkdir()
    command = f"{sys.executable} -m tsfm.run experiment=x hydra.run.dir={run_dir.resolve()}"
    (run_dir / "run.log").write_text(command + "\nInputError: ...\n")
    clear_run_dir(run_dir)
    assert not run_dir.exists()


@pytest.mark.parametrize(
    "files, named",
    [
        ({"logs/metrics.csv": "x", "checkpoints/a.ckpt": "x"}, "checkpoints/a.ckpt"),
        ({"run.log": "my own notes\n"}, "no record"),
        ({"config.yaml": "x", "metrics.json": "{}", "notes.txt": "x"}, "notes.txt"),
        ({"config.yaml": "x", "data/ETTh1.csv": "x"}, "data/"),
        # a user's own config (R19): a run's top-level name, no record of a run
        ({"config.yaml": "lr: 0.1\n"}, "no record of a runner's python -m tsfm.run run"),
        # another Hydra and Lightning app's folder (R19): names a run's, contents not
        (
            {".hydra/config.yaml": "x", "checkpoints/epoch=9.ckpt": "w", "logs/train.csv": "x"},
            "checkpoints/epoch=9.ckpt, logs/train.csv",
        ),
        ({".hydra/config.yaml": "x", "metrics.json": "{}"}, "no record"),
        # the runner's log of a run into another directory
        ({"run.log": f"{sys.executable} -m tsfm.run hydra.run.dir=/elsewhere x=1\n"}, "no record"),
    ],
)
def test_a_directory_that_is_not_a_run_is_refused_and_kept(tmp_path, files, named):
    run_dir = tmp_path / "row"
    for name, text in files.items():
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / name).write_text(text)
    with pytest.raises(InputError, match="not one of the runner's run directories") as refused:
        clear_run_dir(run_dir)
    assert named in str(refused.value) and "pick another --out" in str(refused.value)
    assert all((run_dir / name).is_file() for name in files)


@pytest.mark.parametrize(
    "record",
    [
        lambda run_dir: hydra_record(run_dir, task=()),  # a run not sent by a runner
        lambda run_dir: hydra_record(run_dir.parent / "elsewhere"),  # a record moved here
        lambda run_dir: {"hydra": {**hydra_record(run_dir)["hydra"], "job": {"name": "train"}}},
        lambda run_dir: "hydra: [not, a, record]",
    ],
)
def test_a_hydra_record_that_is_not_a_runners_tsfm_run_into_it_is_refused(tmp_path, record):
    run_dir = finished_run(tmp_path / "row")
    value = record(run_dir.resolve())
    text = value if isinstance(value, str) else yaml.safe_dump(value)
    (run_dir / ".hydra" / "hydra.yaml").write_text(text)
    with pytest.raises(InputError, match="no record of a runner's python -m tsfm.run run"):
        clear_run_dir(run_dir)
    assert (run_dir / "metrics.json").is_file()


def test_a_link_inside_a_run_directory_is_refused_and_its_target_kept(tmp_path):
    run_dir = finished_run(tmp_path / "row")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    (run_dir / "logs" / "checkpoints").symlink_to(tmp_path / "mine")
    with pytest.raises(InputError, match="logs/checkpoints/"):
        clear_run_dir(run_dir)
    assert (tmp_path / "mine" / "notes.txt").is_file() and run_dir.is_dir()


def test_a_file_or_a_link_in_place_of_the_run_directory_is_refused(tmp_path):
    path = tmp_path / "row"
    path.write_text("not a directory")
    with pytest.raises(InputError, match="not a plain directory"):
        clear_run_dir(path)
    target = finished_run(tmp_path / "elsewhere")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(InputError, match="not a plain directory"):
        clear_run_dir(link)
    assert path.is_file() and (target / "metrics.json").is_file()


@pytest.mark.slow
def test_a_second_run_into_the_same_run_directory_runs_afresh(tmp_path):
    # --force in epf_table.py and probabilistic_table.py ended in FileExistsError: the run
    # directory held the earlier run's checkpoints and metrics.json
    data = tmp_path / "data.csv"
    synthetic_frame(300).to_csv(data, index=False)
    run_dir, log = tmp_path / "runs" / "row", tmp_path / "runs" / "row.log"
    overrides = ["data=custom", f"data.path={data}", *TINY_ITRANSFORMER]
    overrides += [o for o in TINY_RUN if not o.startswith("logger=")]
    assert run_cli(overrides, run_dir, log)[0] == 0, log.read_text()[-3000:]
    (run_dir / "metrics.json").write_text(json.dumps({"test/mse": -1.0}))  # the earlier run's
    (run_dir / "checkpoints" / "epoch=9.ckpt").write_bytes(b"not tsfm's")
    with pytest.raises(InputError, match=r"checkpoints/epoch=9\.ckpt\), so it is not one"):
        run_cli(overrides, run_dir, log)
    (run_dir / "checkpoints" / "epoch=9.ckpt").unlink()
    code, _ = run_cli([*overrides, "seed=7"], run_dir, log)
    assert code == 0, log.read_text()[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["seed"] == 7 and metrics["test/mse"] > 0
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
