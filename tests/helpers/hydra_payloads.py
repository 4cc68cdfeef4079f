"""Configs that make Hydra run code or write a file outside the run, each with a harmless
payload: proof that it ran is a marker file under the test's folder."""

from __future__ import annotations

import pickle
from pathlib import Path

from tests.helpers.payload import CreatesFile

PRESET_HEAD = "# @package _global_\ndefaults:\n  - /experiment/itransformer_etth1_96\n  - _self_\n"


def callback_preset(folder: Path, marker: Path, name: str = "colleague") -> Path:
    """``<folder>/experiment/<name>.yaml``: a shipped preset plus a Hydra callback,
    ``site.addsitedir``, which runs the ``.pth`` file beside it (writing ``marker``)."""
    experiment = folder / "experiment"
    experiment.mkdir(parents=True, exist_ok=True)
    pth = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('code ran')\n"
    (experiment / "zz_payload.pth").write_text(pth)
    preset = experiment / f"{name}.yaml"
    preset.write_text(
        PRESET_HEAD + "hydra:\n  callbacks:\n    site:\n      _target_: site.addsitedir\n"
        f"      sitedir: {experiment}\n"
    )
    return preset


def logging_preset(folder: Path, marker: Path, name: str = "itransformer_etth1_96_tuned") -> Path:
    """``<folder>/experiment/<name>.yaml``: a "tuned preset" whose job logging appends shell
    lines to ``marker`` (a stand-in for ``~/.bashrc``) through a ``logging.FileHandler``."""
    experiment = folder / "experiment"
    experiment.mkdir(parents=True, exist_ok=True)
    preset = experiment / f"{name}.yaml"
    preset.write_text(
        PRESET_HEAD + "model:\n  d_model: 8\nhydra:\n  job_logging:\n    formatters:\n"
        "      sh:\n        format: 'touch /tmp/pwned # %(message)s'\n    handlers:\n      rc:\n"
        f"        class: logging.FileHandler\n        formatter: sh\n        filename: {marker}\n"
        "        mode: a\n    root:\n      handlers: [console, file, rc]\n"
    )
    return preset


def callback_overrides(folder: Path, marker: Path) -> list[str]:
    """Command-line overrides adding the callback of :func:`callback_preset`."""
    folder.mkdir(parents=True, exist_ok=True)
    pth = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('code ran')\n"
    (folder / "zz_payload.pth").write_text(pth)
    return ["+hydra.callbacks.x._target_=site.addsitedir", f"+hydra.callbacks.x.sitedir={folder}"]


def logging_overrides(marker: Path) -> list[str]:
    """Command-line overrides adding a file handler that writes ``marker``."""
    return [
        f"+hydra.job_logging.handlers.rc={{class:logging.FileHandler,filename:'{marker}'}}",
        "hydra.job_logging.root.handlers=[console,file,rc]",
    ]


def rerun_pickle(path: Path, marker: Path) -> Path:
    """A ``config.pickle`` for Hydra's ``--experimental-rerun`` whose unpickling writes
    ``marker``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(CreatesFile(marker)))
    return path
