"""Quiet training: no progress bar, model summary, info logs or framework warnings by default."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LIGHTNING_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric")


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Silence Lightning's info lines ("GPU available: ...") and its advice warnings."""
    if verbose:
        yield
        return
    from lightning.fabric.utilities.warnings import PossibleUserWarning

    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PossibleUserWarning)
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*smaller than the logging interval.*")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def trainer_arguments(verbose: bool, validate: bool) -> dict[str, Any]:
    """Trainer overrides of an estimator fit (no validation loop when there is no split)."""
    args: dict[str, Any] = {"enable_progress_bar": verbose, "enable_model_summary": verbose}
    if not validate:
        args.update(limit_val_batches=0, num_sanity_val_steps=0)
    return args


@contextlib.contextmanager
def run_directory(work_dir: str | Path | None) -> Iterator[Path]:
    """``work_dir`` (kept), or a temporary folder removed afterwards."""
    if work_dir is not None:
        path = Path(work_dir)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="tsfm-fit-") as tmp:
        yield Path(tmp)
