"""The trainer side of an estimator fit: what it shows (``verbose``), the trainer arguments
it overrides, and the folder the run writes to."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tsfm.estimator.guards import override_key
from tsfm.estimator.params import config_key


def lightning_output(verbose: int) -> bool:
    """``verbose=2`` shows Lightning's own output; 0 and 1 keep it quiet."""
    return int(verbose) >= 2


def display_callbacks(est: Any) -> list:
    """The epoch lines of ``verbose=1``, where a person is watching; with them (and at
    ``verbose=2``), the models' one-off notices (TimesCLIP's time to encode its images) and
    the one-time hint that this CPU has native bf16 when the fit runs fp32 and the user did
    not choose the precision."""
    from tsfm.training.progress import Bf16Hint, EpochProgress, Notices, watched

    verbose = int(est.verbose)
    shown = verbose == 2 or (verbose == 1 and watched())
    callbacks: list = [EpochProgress()] if verbose == 1 and shown else []
    callbacks += [Notices()] if shown else []
    return callbacks + ([Bf16Hint()] if shown and not chose_precision(est) else [])


def chose_precision(est: Any) -> bool:
    """Whether the user set ``trainer.precision``: a parameter (``precision``,
    ``trainer__precision``), an override of it, or a trainer preset (``trainer=cpu_bf16``)."""
    if any(config_key(est.model, name) == "trainer.precision" for name in est.extra_params()):
        return True
    keys = [override_key(o) for o in est.overrides or []]
    return any(key in ("trainer", "trainer.precision") for key in keys)


def trainer_arguments(verbose: int, validate: bool) -> dict[str, Any]:
    """Trainer overrides of an estimator fit (no validation loop when there is no split)."""
    shown = lightning_output(verbose)
    args: dict[str, Any] = {"enable_progress_bar": shown, "enable_model_summary": shown}
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
