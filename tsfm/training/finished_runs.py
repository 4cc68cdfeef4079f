"""``resume=true`` in the directory of a run that already finished: nothing to resume.

A finished run (its metrics.json says ``"status": "ok"``: trained and tested) resumed with the
same stopping settings would train nothing (Lightning restores the epoch it stopped at, and
early stopping's count) and test the same weights again, appending a second copy of the test
rows to ``logs/metrics.csv``. So the command says that the run finished, shows its results
and leaves the directory as it was. Stopping settings that ask for more (a larger
``trainer.max_epochs``, ``max_steps`` or ``max_time``, other early stopping) continue the run
as an interrupted one would be continued; any other setting changed is resumed as usual too,
and refused there when the checkpoint does not fit it (another model, other data).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.training.artifacts import settle_levels
from tsfm.training.stopping import plural


def _read(path: Path, read: Any) -> Any:
    try:
        return read(path) if path.is_file() else None
    except (OSError, ValueError):  # unreadable: not a finished run's record
        return None


def finished_run(cfg: DictConfig, run_dir: Path) -> dict[str, Any] | None:
    """The metrics of the run that finished in ``run_dir`` when ``resume=true`` would train
    nothing more there (its metrics.json with status ``ok``, and its config.yaml with the
    same settings as ``cfg`` but ``resume``), else None: other settings (stopping settings
    asking for more training, another model, other data) are resumed as usual, where the
    checkpoint and data checks refuse a model or data the run's checkpoint does not fit."""
    if not cfg.get("resume", False):
        return None
    metrics = _read(run_dir / "metrics.json", lambda p: json.loads(p.read_text()))
    earlier = _read(run_dir / "config.yaml", OmegaConf.load)
    if not isinstance(metrics, dict) or metrics.get("status") != "ok" or earlier is None:
        return None
    now = copy.deepcopy(cfg)
    settle_levels(now)  # as the run's config.yaml holds them: the levels it scored
    then, now = _settings(earlier), _settings(now)
    if then != now:  # more training asked for, or another model or data: resumed as usual
        return None  # (where the checkpoint and data checks refuse what does not fit)
    return metrics


def _settings(cfg: Any) -> Any:
    """``cfg``'s settings as plain values, without ``resume`` (the one a resume changes)."""
    plain = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg
    if isinstance(plain, dict):
        plain = {key: value for key, value in plain.items() if key not in ("resume", "hydra")}
    return plain


def already_finished(run_dir: Path, metrics: dict[str, Any]) -> str:
    """What ``resume=true`` says of a run that already finished, and how to train further."""
    epochs = metrics.get("epochs")
    trained = f"{plural(epochs, 'epoch')}, " if isinstance(epochs, int) else ""
    return (
        f"resume=true: the run in {run_dir} already finished ({trained}trained and tested; "
        "metrics.json, status ok): nothing to resume, nothing was trained or tested again; "
        "its test results are in metrics.json. To train it further, resume with a larger "
        "trainer.max_epochs (or other stopping settings)"
    )
