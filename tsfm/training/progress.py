"""A light progress display for people watching a fit: one line per epoch, counted 1..N.

::

    epoch 1/10 (estimated 41 s per epoch after 20 batches)
    epoch 1/10  39.8 s  train 0.412  val 0.398  ETA at most 6:00
    epoch 2/10  38.9 s  train 0.351  val 0.372  ETA at most 5:15

It replaces Lightning's progress bar, model summary and info lines in the Forecaster's
default ``verbose=1`` where a person is watching (a terminal or a notebook), and prints
nothing elsewhere (logs, CI, tests). Early stopping may end the fit before the ETA. "train"
is the epoch's mean training loss over its samples, as "val" is the validation loss's. Inside
:func:`labelled` (``cross_validate``'s folds) each line starts with the label (``fold 2/4``).

:class:`EpochLog` gives the same lines to ``logging`` for ``python -m tsfm.run``: into the run's
``run.log`` always, and onto the console where its progress bar is not shown (output piped or
redirected, or ``trainer.enable_progress_bar=false``).

:class:`NoticeLog` says the models' one-off notices of a command-line run (TimesCLIP's time to
encode its images) on stderr and into run.log.

:class:`Bf16Hint` adds one line, once per process, where a fit runs fp32 on a CPU that
computes bf16 natively.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, TextIO

import lightning as L
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.callbacks import Callback

from tsfm.models.notices import set_sink
from tsfm.training import runtime

ESTIMATE_AFTER = 20  # training batches timed before the epoch time is estimated
_LABEL: ContextVar[str] = ContextVar("tsfm_progress_label", default="")
log = logging.getLogger("tsfm.run")


@contextlib.contextmanager
def labelled(label: str) -> Iterator[None]:
    """Epoch lines printed inside start with ``label`` (``fold 2/4``)."""
    token = _LABEL.set(label)
    try:
        yield
    finally:
        _LABEL.reset(token)


def watched(stream: TextIO | None = None) -> bool:
    """Whether a person is likely watching ``stream`` (default stderr): a terminal or a
    Jupyter kernel."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or "ipykernel" in sys.modules


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class EpochProgress(Callback):
    """Prints to ``stream`` (default stderr); see the module docstring."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream
        self._epoch_start = 0.0
        self._durations: list[float] = []
        self._estimated = False

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def _line(self, text: str) -> None:
        label = _LABEL.get()
        self._print(f"{label}  {text}" if label else text)

    def _total(self, trainer: L.Trainer) -> str:
        return str(trainer.max_epochs) if trainer.max_epochs and trainer.max_epochs > 0 else "?"

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        batch = args[-1] if args else 0
        if self._estimated or self._durations or batch + 1 != ESTIMATE_AFTER:
            return
        self._estimated = True
        per_batch = (time.perf_counter() - self._epoch_start) / ESTIMATE_AFTER
        batches = trainer.num_training_batches
        if isinstance(batches, int | float) and batches != float("inf"):
            self._line(
                f"epoch {trainer.current_epoch + 1}/{self._total(trainer)} (estimated "
                f"{_clock(per_batch * batches)} per epoch after {ESTIMATE_AFTER} batches)"
            )

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        # Lightning runs the epoch's validation before this hook: its loss is known here
        self._durations.append(time.perf_counter() - self._epoch_start)
        self._report(trainer)

    def _report(self, trainer: L.Trainer) -> None:
        done = trainer.current_epoch + 1  # a resumed run's epochs before this process count
        metrics = trainer.callback_metrics
        parts = [f"epoch {done}/{self._total(trainer)}", f"{self._durations[-1]:.1f} s"]
        for label, key in (("train", "train/loss"), ("val", "val/loss")):
            if key in metrics:
                parts.append(f"{label} {float(metrics[key]):.4g}")
        if trainer.max_epochs and trainer.max_epochs > done:
            mean = sum(self._durations) / len(self._durations)
            parts.append(f"ETA at most {_clock(mean * (trainer.max_epochs - done))}")
        self._line("  ".join(parts))


class EpochLog(EpochProgress):
    """:class:`EpochProgress`'s lines as ``logging`` records of ``tsfm.run`` (on global rank
    0): to every handler of the root logger with ``console`` (the run's console and run.log),
    else to its file handlers only (run.log: a progress bar holds the console)."""

    def __init__(self, console: bool):
        super().__init__()
        self.console = console
        self._rank_zero = True

    def setup(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        self._rank_zero = trainer.is_global_zero

    def _print(self, text: str) -> None:
        if not self._rank_zero:
            return
        if self.console:
            log.info("%s", text)
            return
        to_run_log(text)


def to_run_log(text: str) -> None:
    """``text`` as an INFO record of ``tsfm.run`` to the root logger's file handlers only
    (a command-line run's run.log), not to its console."""
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, text, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def epoch_log(trainer_cfg: Any) -> EpochLog:
    """The epoch lines of a command-line run: on the console too unless its progress bar is
    shown there (``trainer.enable_progress_bar`` not false, and stdout a terminal)."""
    bar = trainer_cfg.get("enable_progress_bar") is not False
    return EpochLog(console=not (bar and watched(sys.stdout)))


class Notices(Callback):
    """Prints the models' one-off messages of this fit (:func:`tsfm.models.notices.notice`,
    e.g. TimesCLIP's estimate of its image-feature cache) to ``stream`` (default stderr)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def on_fit_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        set_sink(self._print)

    def teardown(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        set_sink(None)  # the fit is over (or failed): nothing more to say


class NoticeLog(Notices):
    """:class:`Notices` of ``python -m tsfm.run`` (global rank 0): each line on stderr, looked
    up when said, so that a progress bar's display puts it on a line of its own above the bar
    (a log record's console stream would write it onto the bar's line), and into run.log."""

    def __init__(self) -> None:
        super().__init__()
        self._rank_zero = True

    def setup(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        self._rank_zero = trainer.is_global_zero

    def _print(self, text: str) -> None:
        if self._rank_zero:
            super()._print(text)
            to_run_log(text)


BF16_HINT = (
    "tsfm: this CPU computes bf16 natively, and this fit runs in fp32 (the default: results "
    'that do not depend on the CPU). precision="bf16-mixed" (or "auto") trains faster '
    "here (1.3-1.6x for iTransformer, 2.5x and more for S2IP-LLM and TimesCLIP), accuracy "
    'within the seed-to-seed spread: README, "Mixed precision on CPU (bf16)".'
)


class Bf16Hint(Callback):
    """Says once per process, at the start of a fit that runs fp32 on a CPU with native bf16,
    that bf16 mixed precision is one setting away (given only where the user did not choose
    a precision; fp32 stays the default, as the README explains)."""

    shown = False  # once per process

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def on_fit_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        if Bf16Hint.shown or str(trainer.precision) not in ("32-true", "32"):
            return
        if isinstance(trainer.accelerator, CPUAccelerator) and runtime.cpu_has_native_bf16():
            Bf16Hint.shown = True
            print(BF16_HINT, file=self.stream or sys.stderr, flush=True)


def counting_progress_bar() -> Callback | None:
    """Lightning's rich progress bar, counting epochs 1..N (Lightning's counts 0..N-1);
    None where ``rich`` is not installed (Lightning then uses its tqdm bar)."""
    try:
        from lightning.pytorch.callbacks import RichProgressBar
    except ImportError:  # pragma: no cover - depends on the installation
        return None
    try:
        import rich  # noqa: F401
    except ImportError:  # pragma: no cover
        return None

    class CountingRichProgressBar(RichProgressBar):
        def _get_train_description(self, current_epoch: int) -> str:
            total = self.trainer.max_epochs
            text = f"Epoch {current_epoch + 1}" + (f"/{total}" if total and total > 0 else "")
            return f"{text:{len(self.validation_description)}}"

        def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
            metrics = super().get_metrics(trainer, pl_module)
            metrics.pop("v_num", None)  # the logger's version: noise on a console
            return metrics

    return CountingRichProgressBar()
