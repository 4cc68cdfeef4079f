"""A SIGTERM (``kill``, ``timeout``, a job scheduler's notice) during training exits with
status 143 (128 + 15, the shell's convention for a process ended by SIGTERM).

Lightning notes the signal ("Received SIGTERM"), finishes the batch in progress (which, for a
large model on a CPU, can take minutes: the signal then looks ignored) and raises
``SIGTERMException``, a ``SystemExit`` without a code: the process exited with status 0, as if
the run had finished, and a scheduler or shell script took the stopped run for a finished one.
Checkpoints already written stay (a command-line run resumes from ``last.ckpt``).
"""

from __future__ import annotations

TERMINATED_STATUS = 143


def exit_status(err: SystemExit) -> SystemExit:
    """Lightning's ``SIGTERMException`` with status 143 where it has none; other exits as
    they are."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    if isinstance(err, SIGTERMException) and err.code is None:
        return SIGTERMException(TERMINATED_STATUS)
    return err
