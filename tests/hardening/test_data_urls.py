"""tsfm reads data, saves and runs from local paths only: a URL given as one (``data.path``,
``data.root``, ``TSFM_DATA``, ``read_file``, ``Forecaster.load``, ``from_run``) is refused
with the fix (download it first), and no request is made. The URLs point at a loopback
server that serves a real CSV and records every request."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from tests.helpers.data import synthetic_frame
from tests.helpers.payload import serve
from tests.helpers.runs import TINY_ITRANSFORMER, TINY_RUN, run_cli
from tsfm import Forecaster
from tsfm.config import check_relative_data_path
from tsfm.data.frames import read_file
from tsfm.data.sources import data_roots, read_source
from tsfm.errors import InputError

LOCAL_ONLY = "is a URL; tsfm reads {} from local paths only"


@pytest.fixture
def served(tmp_path):
    """``(url of a served CSV, the requests made)`` while the test runs."""
    synthetic_frame(200).to_csv(tmp_path / "x.csv", index=False)
    with serve(tmp_path) as (base, requests):
        yield f"{base}/x.csv", requests


def test_a_custom_data_path_that_is_a_url_is_refused_unfetched(served):
    url, requests = served
    for chdir in (False, True):  # the command line's first check, with or without chdir
        with pytest.raises(
            InputError, match=f"data.path='{url}' {LOCAL_ONLY.format('data files')}"
        ):
            check_relative_data_path(OmegaConf.create({"path": url}), chdir, "/")
    cfg = OmegaConf.create({"name": "custom", "path": url, "root": None})
    with pytest.raises(InputError, match="Download it first.*pass data.path=/path/to/x.csv"):
        read_source(cfg)
    with pytest.raises(InputError, match=f"path='{url}' {LOCAL_ONLY.format('data files')}"):
        read_file(url)
    assert requests == []


def test_a_data_root_or_tsfm_data_folder_that_is_a_url_is_refused(served, monkeypatch):
    url, requests = served
    folder = url.rsplit("/", 1)[0]
    with pytest.raises(
        InputError, match=f"data.root='{folder}' {LOCAL_ONLY.format('data folders')}"
    ):
        data_roots(folder)
    with pytest.raises(InputError, match=f"data.root='{folder}' is a URL"):
        read_source(OmegaConf.create({"name": "etth1", "path": None, "root": folder}))
    monkeypatch.setenv("TSFM_DATA", f"/tmp:{folder}")
    with pytest.raises(InputError, match=f"TSFM_DATA='/tmp:{folder}' names a URL"):
        data_roots(None)
    assert requests == []


def test_saves_and_runs_given_as_urls_are_refused(served, tmp_path):
    url, requests = served
    folder = url.rsplit("/", 1)[0]
    with pytest.raises(
        InputError, match=f"path='{folder}/model' {LOCAL_ONLY.format('saved Forecasters')}"
    ):
        Forecaster.load(f"{folder}/model")
    with pytest.raises(InputError, match=f"run_dir='{folder}/run' is a URL"):
        Forecaster.from_run(f"{folder}/run")
    with pytest.raises(InputError, match=f"data_path='{url}' is a URL"):
        Forecaster.from_run(tmp_path, data_path=url)
    assert requests == []


def test_the_cli_refuses_a_data_url_without_fetching_it(served, tmp_path):
    url, requests = served
    proc = run_cli(
        "data=custom",
        f"data.path={url}",
        *TINY_ITRANSFORMER,
        *TINY_RUN,
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"data.path='{url}' is a URL; tsfm reads data files from local paths" in proc.stderr
    assert "Traceback" not in proc.stderr and requests == []
