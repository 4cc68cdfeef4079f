"""Which ``hydra.*`` settings a command may change: none that names code or a file outside the run.

Hydra turns parts of its own config into code before tsfm's ``main()`` runs: it calls every
``hydra.callbacks`` entry's ``_target_`` as the run starts, builds ``hydra.launcher`` and
``hydra.sweeper`` from their ``_target_``, hands ``hydra.job_logging`` and
``hydra.hydra_logging`` to :func:`logging.config.dictConfig` (whose ``class``, ``()`` and
``ext://`` values import and call code, and whose file handlers append to any file) and sets
``hydra.job.env_set`` in the job's environment (``LD_PRELOAD``, ``PYTHONPATH`` make programs
load code). :func:`refusal` compares a composed ``hydra`` node with the one tsfm ships (its
``conf/config.yaml`` with the same choices of Hydra's own ``hydra/*`` groups) and names the
first setting that differs where it may not:

- ``hydra.callbacks``: any entry tsfm does not ship (it ships none);
- logging: a handler tsfm does not ship, or any setting of its handlers (``class``,
  ``filename``, ``stream``, ``mode``, ...) but ``level``, ``formatter`` and ``filters``
  (``stream`` may also be ``ext://sys.stdout`` or ``ext://sys.stderr``). Formats, levels and
  loggers are free: every handler is then tsfm's own, writing to the console or to the
  run's log file, so a format changes only what the run's own log shows;
- anywhere under ``hydra``: a ``_target_``, ``()``, ``class``, ``factory`` or ``.`` key, or an
  ``ext://``/``cfg://`` value, other than tsfm's (launcher and sweeper: Hydra's basic ones);
  in the parts Hydra builds into objects (logging, callbacks, launcher, sweeper) also a
  ``${...}`` interpolation other than tsfm's, which the check (reading the config
  unresolved) could not see through: it may stand for a ``()`` factory;
- ``hydra.job.env_set``: a variable other than :data:`SAFE_ENV` (a variable listed in
  ``hydra.job.env_copy`` only copies the user's own environment, and is free);
- ``hydra.job.name`` (the log file's name) and ``hydra.output_subdir`` (the folder of
  Hydra's record), when they would lead out of the run directory.

``hydra.run.dir``, ``hydra.sweep.dir``, ``hydra.job.chdir``, ``hydra.mode``, ``hydra.verbose``
and the help texts are the user's to choose.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

CODE_KEYS = ("_target_", "()", "class", "factory", ".")
SAFE_STREAMS = ("ext://sys.stdout", "ext://sys.stderr")
HANDLER_FREE = ("level", "formatter", "filters")
LOGGING = ("job_logging", "hydra_logging")
BUILT = (*LOGGING, "callbacks", "launcher", "sweeper")  # what Hydra turns into objects
SAFE_ENV = (
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TOKENIZERS_PARALLELISM",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)
# Filled by Hydra as it composes (runtime, overrides), read before composing (searchpath:
# tsfm.hydra_guard checks it), or text only (help)
NOT_WALKED = ("runtime", "overrides", "searchpath", "help", "hydra_help")
_ABSENT = object()


def refusal(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    """``(key, why)`` for the first setting of the composed ``hydra`` node (a plain container,
    unresolved) that names code or a file outside the run where tsfm's own, ``shipped``,
    does not; None when there is none."""
    for check in (_callbacks, _logging, _environment, _paths, _code):
        found = check(hydra, shipped)
        if found is not None:
            return found
    return None


def _callbacks(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    ours = _dict(shipped.get("callbacks"))
    for name, entry in _dict(hydra.get("callbacks")).items():
        if entry != ours.get(name, _ABSENT):
            target = entry.get("_target_") if isinstance(entry, dict) else None
            named = f" ({target})" if target else ""
            return f"hydra.callbacks.{name}", (
                f"a Hydra callback: Hydra calls the code it names{named} as the run starts, "
                "before any of tsfm's checks (tsfm ships no Hydra callbacks)"
            )
    return None


def _logging(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    for section in LOGGING:
        ours = _dict(_dict(shipped.get(section)).get("handlers"))
        theirs = _dict(_dict(hydra.get(section)).get("handlers"))
        for name, handler in theirs.items():
            key = f"hydra.{section}.handlers.{name}"
            own = ours.get(name, _ABSENT)
            if handler == own:
                continue
            if not isinstance(own, dict) or not isinstance(handler, dict):
                return key, (
                    "a logging handler tsfm does not ship (its handlers here: "
                    f"{', '.join(ours) or 'none'}): a handler's class is code, and it writes "
                    "wherever its settings say"
                )
            for setting, value in handler.items():
                if setting in HANDLER_FREE or value == own.get(setting, _ABSENT):
                    continue
                if setting == "stream" and value in SAFE_STREAMS:
                    continue
                ours_is = repr(own[setting]) if setting in own else "none"
                return f"{key}.{setting}", (
                    f"{value!r} where tsfm's handler has {ours_is}: only a handler's level, "
                    "formatter and filters may change (its class is code, and its file or "
                    "stream is where it writes)"
                )
    return None


def _environment(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    job = _dict(hydra.get("job"))
    copied = set(job.get("env_copy") or ())  # the user's own environment, copied
    ours = _dict(_dict(shipped.get("job")).get("env_set"))
    for name, value in _dict(job.get("env_set")).items():
        if name in copied or name in SAFE_ENV or ours.get(name, _ABSENT) == value:
            continue
        return f"hydra.job.env_set.{name}", (
            "an environment variable for the job: variables such as LD_PRELOAD or PYTHONPATH "
            f"make programs load code, so a config may set only {', '.join(SAFE_ENV)} (set "
            "any other in your shell before the command)"
        )
    return None


def _paths(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    job, ours = _dict(hydra.get("job")), _dict(shipped.get("job"))
    name = job.get("name")
    if name != ours.get("name") and not _plain_name(name):
        return "hydra.job.name", (
            f"{name!r} names the job's log file (<name>.log in the run directory): a name with "
            "a path or an interpolation would put it elsewhere; use a plain name"
        )
    subdir = hydra.get("output_subdir")
    if subdir is not None and subdir != shipped.get("output_subdir"):
        relative = isinstance(subdir, str) and not PurePath(subdir).is_absolute()
        if not relative or ".." in PurePath(subdir).parts or "${" in subdir:
            return "hydra.output_subdir", (
                f"{subdir!r} is the folder of Hydra's record of the run, inside the run "
                "directory: give a relative path without '..' or interpolations (or null)"
            )
    return None


def _dict(node: Any) -> dict:
    """``node`` if it is a mapping, else an empty one (Hydra's schema, or logging's
    configuration, refuses anything else; the walk of :func:`_code` still sees it)."""
    return node if isinstance(node, dict) else {}


def _plain_name(name: Any) -> bool:
    text = name if isinstance(name, str) else ""
    return bool(text) and text not in (".", "..") and not any(c in text for c in "/\\$")


def _code(hydra: dict, shipped: dict) -> tuple[str, str] | None:
    for key, node in hydra.items():
        if key not in NOT_WALKED:
            found = _walk(node, shipped.get(key, _ABSENT), f"hydra.{key}")
            if found is not None:
                return found
    return None


def _walk(node: Any, ours: Any, key: str) -> tuple[str, str] | None:
    """The first code-naming key or ``ext://`` value under ``node`` that ``ours`` (tsfm's node
    at the same place) does not hold."""
    if isinstance(node, dict):
        for name, value in node.items():
            own = ours.get(name, _ABSENT) if isinstance(ours, dict) else _ABSENT
            where = f"{key}.{name}"
            if name in CODE_KEYS and value != own:
                return where, f"names code to run ({value!r}) where tsfm's config has " + (
                    "none" if own is _ABSENT else repr(own)
                )
            found = _walk(value, own, where)
            if found is not None:
                return found
    elif isinstance(node, list):
        for at, value in enumerate(node):
            own = ours[at] if isinstance(ours, list) and at < len(ours) else _ABSENT
            found = _walk(value, own, f"{key}[{at}]")
            if found is not None:
                return found
    elif _imports(node) and node != ours:
        return key, f"{node!r} makes Hydra's logging configuration import and use code"
    elif _interpolates(node, key) and node != ours:
        return key, (
            f"{node!r} is an interpolation, which Hydra resolves only as it builds the part: "
            "it may stand for settings that name code (a `()` factory, a handler's class), "
            "so write the value itself"
        )
    return None


def _interpolates(value: Any, key: str) -> bool:
    """A ``${...}`` value in a part Hydra builds into code (logging, callbacks, launcher,
    sweeper); elsewhere (the run's folders, the job's name) interpolations are text."""
    built = key.startswith(tuple(f"hydra.{part}" for part in BUILT))
    return built and isinstance(value, str) and "${" in value


def _imports(value: Any) -> bool:
    """An ``ext://``/``cfg://`` value other than the console's streams."""
    refers = isinstance(value, str) and value.startswith(("ext://", "cfg://"))
    return refers and value not in SAFE_STREAMS
