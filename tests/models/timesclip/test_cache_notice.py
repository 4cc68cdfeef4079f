"""Before its first training step TimesCLIP encodes every training window through the frozen
vision tower (an hour on CPU with the default ViT-B/16): a fit shown to a person says so in
one line, with the number of images and an estimate timed on the first chunk, and on CPU with
a large tower points to the CPU-sized CLIP; ``verbose=0`` keeps it silent."""

from __future__ import annotations

import logging
import re

import pytest

from tests.helpers.data import synthetic_frame
from tests.helpers.estimator import tiny
from tests.helpers.models import TINY
from tests.helpers.runs import TINY_RUN
from tsfm.config import compose_config
from tsfm.models.timesclip import vision_view
from tsfm.run import run
from tsfm.training import progress

LINE = re.compile(
    r"TimesCLIP: encoding (\d+) images \((\d+) training windows x 2 variates\) through the "
    r"frozen vision tower once, before the first training step: about \d+ s here \(the first "
    r"\d+ took [\d.]+ s\)"
)


@pytest.fixture
def watched(monkeypatch):
    monkeypatch.setattr(progress, "watched", lambda stream=None: True)


def _fit(verbose: int, **settings) -> str:
    est = tiny("timesclip", verbose=verbose, threads=1, cache_chunk=16, **settings)
    est.fit(synthetic_frame(120, 2))
    return est


@pytest.mark.parametrize("verbose", [1, 2])
def test_a_shown_fit_says_how_many_images_it_encodes_first_and_about_how_long(
    watched, capsys, verbose
):
    _fit(verbose)
    err = capsys.readouterr().err
    found = LINE.findall(err)
    assert len(found) == 1, err  # one line, said once
    images, windows = map(int, found[0])
    assert images == 2 * windows > 0
    assert "tsfm-small-clip" not in err  # the tiny CLIP: nothing smaller to point to


def test_verbose_0_says_nothing(watched, capsys):
    _fit(0)
    assert "TimesCLIP: encoding" not in capsys.readouterr().err


def test_a_large_tower_on_cpu_is_pointed_to_the_small_clip(watched, capsys, monkeypatch):
    monkeypatch.setattr(vision_view, "SMALL_CLIP_TOWER", 0)  # the tiny tower counts as large
    _fit(1)
    err = capsys.readouterr().err
    assert LINE.search(err) and "On CPU, clip='tsfm-small-clip' (a CPU-sized CLIP" in err
    assert "feature_cache='disk'" in err


def test_the_command_line_says_it_on_the_console_and_in_run_log_once(capfd, tmp_path):
    """python -m tsfm.run: on stderr (where a progress bar's display puts it above the bar),
    and once into run.log (the root logger's file handler), not twice."""
    data = tmp_path / "series.csv"
    synthetic_frame(160, 2).to_csv(data, index=False)
    cfg = compose_config(
        "model=timesclip",
        *[f"model.{k}={v}" for k, v in TINY["timesclip"].items()],
        "model.cache_chunk=16",
        "data=custom",
        f"data.path={data}",
        "data.seq_len=24",
        "data.pred_len=8",
        *TINY_RUN,
    )
    root = logging.getLogger()
    handler = logging.FileHandler(tmp_path / "run.log")
    level, root.level = root.level, logging.INFO
    root.addHandler(handler)
    try:
        run(cfg, tmp_path / "run")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
    assert len(LINE.findall(capfd.readouterr().err)) == 1
    assert len(LINE.findall((tmp_path / "run.log").read_text())) == 1
