"""The evidence runners' run directories (runners/cli_runs.py): ``--force`` (or a run that
stopped before its metrics.json) reruns into a clean directory, since ``python -m tsfm.run``
refuses one holding an earlier run; only what looks like a run directory is deleted."""

from __future__ import annotations

import json
import sys

import pytest

from tests.helpers.data import REPO, synthetic_frame
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN
from tsfm.errors import InputError

sys.path.append(str(REPO / "runners"))
from cli_runs import clear_run_dir, run_cli  # noqa: E402


def finished_run(run_dir):
    """The files a finished run leaves (their contents do not matter here)."""
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 1\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "best.ckpt").write_bytes(b"weights")
    (run_dir / "config.yaml").write_text("seed: 1\n")
    (run_dir / "metrics.json").write_text('{"test/mse": 1.0}')
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
    command = f"{sys.executable} -m tsfm.run experiment=x hydra.run.dir={run_dir}"
    (run_dir / "run.log").write_text(command + "\nInputError: ...\n")
    clear_run_dir(run_dir)
    assert not run_dir.exists()


@pytest.mark.parametrize(
    "files, named",
    [
        ({"logs/metrics.csv": "x", "checkpoints/a.ckpt": "x"}, "none of a run's files"),
        ({"run.log": "my own notes\n"}, "none of a run's files"),
        ({"config.yaml": "x", "metrics.json": "{}", "notes.txt": "x"}, "notes.txt"),
        ({"config.yaml": "x", "data/ETTh1.csv": "x"}, "data"),
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
    code, _ = run_cli([*overrides, "seed=7"], run_dir, log)
    assert code == 0, log.read_text()[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["seed"] == 7 and metrics["test/mse"] > 0
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
