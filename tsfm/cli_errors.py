"""How the command-line front doors end on bad input: the message, no traceback, status 2.

An :class:`~tsfm.errors.InputError` (or a missing or existing file) already names the
problem and its fix; a traceback above it only buries the message. Any other exception is a
fault in tsfm or a library and keeps Hydra's report. In a multirun the exception is kept
for Hydra, which records the failed job and stops the sweep after its batch, as before.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from tsfm.errors import InputError

INPUT_ERRORS = (InputError, FileNotFoundError, FileExistsError)
INPUT_ERROR_STATUS = 2  # the usual status for a command given something it cannot use


@contextlib.contextmanager
def input_errors_end_the_command(log: logging.Logger) -> Iterator[None]:
    """Inside a Hydra job: an input error's message on stderr and in the job's log file
    (unless :func:`keep_out_of_log_files` marked it), and exit status 2."""
    try:
        yield
    except INPUT_ERRORS as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        message = f"{type(error).__name__}: {error}"
        print(message, file=sys.stderr, flush=True)
        if getattr(error, "tsfm_into_log_files", True):
            into_log_files(log, message)
        raise SystemExit(INPUT_ERROR_STATUS) from None


def keep_out_of_log_files(error: BaseException) -> None:
    """Have :func:`input_errors_end_the_command` print ``error`` on stderr only: a run
    refused in another run's directory leaves that run's ``run.log`` as it was."""
    error.tsfm_into_log_files = False


def into_log_files(log: logging.Logger, message: str) -> None:
    """``message`` into the job's log files (``run.log``, ``tune.log``) only: the console
    line went to stderr, where a traceback went before."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def refuse_unknown_keys_first(
    argv: Sequence[str],
    check: Callable[[DictConfig, Sequence[str]], None] | None = None,
    app: Callable | None = None,
) -> None:
    """Before Hydra composes the run config: a command line whose configs would make Hydra
    run code (``hydra.callbacks``, logging handlers, ``--experimental-rerun``, ...:
    :mod:`tsfm.hydra_guard`, for the Hydra app ``app``) ends the command with status 2, as
    an input error; so does an override of a key or config the schema lacks
    (``model.d_modle=64``, ``model=itransfomer``), with the nearest names (Hydra's own
    message names none, and suggests ``+key=...``, which would be refused too), and an
    :class:`InputError` of ``check(config, overrides)``, the command's own check of the
    composed config. So is ``--config-dir DIR --config-name NAME`` where tsfm's own NAME.yaml
    would shadow DIR's (:mod:`tsfm.config_shadow`)."""
    from tsfm.config_shadow import shadowed_config_error
    from tsfm.hydra_guard import code_in_configs_error

    message = (
        code_in_configs_error(argv, app)
        or shadowed_config_error(argv)
        or override_error(argv, check)
    )
    if message:
        print(f"{InputError.__name__}: {message}", file=sys.stderr, flush=True)
        raise SystemExit(INPUT_ERROR_STATUS)


def override_error(
    argv: Sequence[str], check: Callable[[DictConfig, Sequence[str]], None] | None = None
) -> str | None:
    """Why the command line ``argv`` cannot compose (None when it composes, or fails some
    other way: Hydra then reports it). A multirun's sweeps are tried with their first value;
    the command line of another config (``--config-dir``, ``--config-name``, ...), or one
    that only shows something (``--help``, ``--cfg``, ``--info``), is left to Hydra here (the
    check of ``hydra.*`` settings naming code, :mod:`tsfm.hydra_guard`, covers every one)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import ConfigCompositionException

    from tsfm.config import compose_config
    from tsfm.config_keys import composition_error

    args = hydra_args(argv)
    if args is None or not args.overrides:
        return None
    elsewhere = (args.config_path, args.config_name, args.config_dir, args.experimental_rerun)
    shows = (args.help, args.hydra_help, args.cfg, args.info, args.shell_completion)
    if any(elsewhere) or any(shows):
        return None
    try:
        parsed = OverridesParser.create().parse_overrides(list(args.overrides))
    except Exception:  # Hydra says what it cannot parse
        return None
    overrides = []
    for text, override in zip(args.overrides, parsed, strict=True):
        if not override.is_sweep_override():
            overrides.append(text)
        elif args.multirun and override.is_discrete_sweep() and not override.is_hydra_override():
            first = next(iter(override.sweep_string_iterator()), None)
            if first is None:
                return None
            overrides.append(f"{override.get_key_element()}={first}")
        else:
            return None
    try:
        cfg = compose_config(*overrides)
        if check is not None:
            check(cfg, overrides)
    except InputError as err:
        return str(err)
    except ConfigCompositionException as err:
        return composition_error(err)
    except Exception:
        return None
    return None


def hydra_args(argv: Sequence[str]) -> Any:
    """Hydra's reading of the command line (None if its parser refuses it)."""
    import io

    from hydra._internal.utils import get_args_parser

    quiet = io.StringIO()
    try:
        with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
            return get_args_parser().parse_args(list(argv))
    except SystemExit:  # a parse error, or --version, which prints and exits
        return None


def with_override(argv: Sequence[str], override: str) -> list[str]:
    """``argv`` with ``override`` where Hydra's argument parser takes it as one: beside the
    user's overrides (argparse takes one run of them, so not after a flag such as ``--cfg
    job`` that follows them), and not as the value of a flag (``--info``); ``argv`` as it is
    when no place works (an argument Hydra refuses anyway: its own message says which)."""
    argv = list(argv)
    for at in (len(argv), *range(len(argv))):  # at the end, unless a flag follows the overrides
        candidate = [*argv[:at], override, *argv[at:]]
        args = hydra_args(candidate)
        if args is not None and override in args.overrides:
            return candidate
    return argv
