"""Before Hydra starts ``python -m tsfm.run`` or ``tsfm.tune``: configs never make it run code.

Hydra acts on its own settings before tsfm's ``main()`` is called (callbacks, logging,
launcher, the job's environment; :mod:`tsfm.hydra_rules`), and reads configs from any
search path, where ``pkg://name`` imports (runs) the package ``name``. So
:func:`code_in_configs_error` composes, with Hydra's own loader and the search path Hydra
builds from the command line (``--config-path``/``-cp``, ``--config-name``/``-cn``,
``--config-dir``/``-cd``, ``hydra.searchpath`` on the command line or in the primary config),
exactly what Hydra would run (in a multirun: the sweep's master config and every job's), and
compares its ``hydra`` node with tsfm's own. Search paths other than folders are refused
before anything is read from them; so is Hydra's ``--experimental-rerun``, which unpickles a
file. A command line that does not compose is left to Hydra, which refuses it before it acts
on any of these settings.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from tsfm.errors import InputError

RERUN_REFUSAL = (
    "--experimental-rerun: Hydra's rerun unpickles the file it is given, and unpickling runs "
    "code a file holds; tsfm never runs code named in what it reads (and writes no "
    "config.pickle): to repeat a run, give its overrides again (they are listed in "
    "<run directory>/.hydra/overrides.yaml)"
)
OWN_SEARCH_PATHS = ("pkg://hydra.conf", "structured://")
REFUSED_BECAUSE = "tsfm never runs code named in a config"


def code_in_configs_error(argv: Sequence[str], app: Callable | None = None) -> str | None:
    """Why the command line ``argv`` of the Hydra app ``app`` (``tsfm.run.main`` or
    ``tsfm.tune.main``; None: as ``tsfm.run``'s) is refused because a config it composes, or
    the command line itself, would make Hydra run code; None when none would."""
    from tsfm.cli_errors import hydra_args

    args = hydra_args(argv)
    if args is None:  # Hydra's parser refuses it too
        return None
    if args.experimental_rerun is not None:
        return RERUN_REFUSAL
    try:
        with warnings.catch_warnings():  # Hydra's own composition repeats them
            warnings.simplefilter("ignore")
            _check(args, app)
    except InputError as err:
        return str(err)
    return None


def _check(args: Any, app: Callable | None) -> None:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    from tsfm.config import CONF_DIR, register_configs

    register_configs()
    caller = _caller(app)
    config_path = str(CONF_DIR) if args.config_path is None else args.config_path
    search_path = _search_path(caller, config_path, args.config_dir)
    if search_path is None:  # Hydra refuses the command line itself
        return
    for element in search_path.get_path():
        flag = {"main": "--config-path", "command-line": "--config-dir"}.get(element.provider)
        _check_search_path(element.path, flag or "the config search path")
    loader = ConfigLoaderImpl(config_search_path=search_path)
    Hydra(caller[2], loader)  # Hydra's resolvers, and the job's name, as Hydra's start sets them
    config_name = "config" if args.config_name is None else args.config_name
    overrides = list(args.overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # noqa: BLE001 - Hydra says what it cannot parse
        return
    _check_hydra_searchpath(loader, config_name, parsed)
    try:
        master = loader.load_configuration(
            config_name, overrides, RunMode.MULTIRUN, validate_sweep_overrides=False
        )
    except Exception:  # noqa: BLE001 - Hydra's own composition fails the same way
        return  # it does not compose: Hydra refuses it before acting on any setting
    _check_config(master, loader, config_name, overrides, RunMode.MULTIRUN, caller)
    if args.multirun or master.hydra.mode == RunMode.MULTIRUN:
        for job in _jobs(master, loader):
            try:
                cfg = loader.load_configuration(config_name, job, RunMode.RUN)
            except Exception:  # noqa: BLE001 - as Hydra's composition of the job
                continue  # Hydra refuses this job before launching it
            _check_config(cfg, loader, config_name, job, RunMode.RUN, caller)


def _caller(app: Callable | None) -> tuple[str | None, str | None, str]:
    """``(calling file, calling module, task name)``, as Hydra detects them for ``app``."""
    from hydra._internal.utils import (
        detect_calling_file_or_module_from_task_function,
        detect_task_name,
    )

    if app is None:
        return str(Path(__file__).with_name("run.py")), None, "run"
    calling_file, calling_module = detect_calling_file_or_module_from_task_function(app)
    return calling_file, calling_module, detect_task_name(calling_file, calling_module)


def _search_path(caller: tuple, config_path: str, config_dir: str | None) -> Any:
    """The config search path Hydra builds for the command line (as ``_run_hydra`` does);
    None when Hydra refuses it."""
    import os

    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.core.config_search_path import SearchPathQuery

    search_path = create_automatic_config_search_path(caller[0], caller[1], config_path)
    if config_dir is not None:
        folder = os.path.abspath(config_dir)
        if not os.path.isdir(folder):
            return None
        query = SearchPathQuery(provider="schema")
        search_path.prepend(provider="command-line", path=f"file://{folder}", anchor=query)
    return search_path


def _check_search_path(path: str, given_as: str) -> None:
    """Refuse a search path Hydra would import code from: ``pkg://<package>`` (any scheme but
    a folder's), other than Hydra's own configs."""
    scheme = path.split("://", 1)[0] if "://" in path else "file"
    if scheme == "file" or path in OWN_SEARCH_PATHS:
        return
    raise InputError(
        f"{given_as} {path!r}: Hydra reads a {scheme}:// search path through Python code "
        "(pkg:// imports the package it names, which runs its code), and "
        f"{REFUSED_BECAUSE}: give the folder that holds the configs (file:///path/to/folder, "
        "or --config-dir /path/to/folder)"
    )


def _check_hydra_searchpath(loader: Any, config_name: str, parsed: list) -> None:
    """``hydra.searchpath`` as Hydra reads it, before Hydra adds it: the command line's first
    ``hydra.searchpath=[...]``, else the primary config's."""
    given = [o.value() for o in parsed if o.get_key_element() == "hydra.searchpath"]
    if given:
        entries = given[0]
    else:
        primary = loader.repository.load_config(config_name)
        entries = None if primary is None else OmegaConf.select(primary.config, "hydra.searchpath")
    if isinstance(entries, Sequence) and not isinstance(entries, str):
        for entry in entries:
            if isinstance(entry, str):
                _check_search_path(entry, "hydra.searchpath entry")


def _jobs(master: Any, loader: Any) -> list[list[str]]:
    """Each job's overrides, as Hydra's basic sweeper forms them (the sweep's parameters of
    ``hydra.sweeper.params`` and the command line), one job per distinct choice of configs
    (other values change no config that is read)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    params = [f"{k}={v}" for k, v in (master.hydra.sweeper.get("params") or {}).items()]
    task = OmegaConf.to_container(master.hydra.overrides.task, resolve=False)
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides([*params, *task])
        batches = BasicSweeper.split_arguments(parsed, None)
    except HydraException:
        return []  # the sweeper refuses the sweep before any job starts
    hydra_overrides = OmegaConf.to_container(master.hydra.overrides.hydra, resolve=False)
    jobs: dict[tuple, list[str]] = {}
    for job in (job for batch in batches for job in batch):
        choices = tuple(o for o in job if "." not in o.split("=", 1)[0].split("@", 1)[0])
        jobs.setdefault(choices, [*hydra_overrides, *job])
    return list(jobs.values())


def _check_config(
    cfg: Any, loader: Any, config_name: str, overrides: list[str], mode: Any, caller: tuple
) -> None:
    """Refuse ``cfg`` (composed from ``overrides``) if its ``hydra`` node names code or a file
    outside the run where tsfm's own does not, naming the key and where it was set."""
    from tsfm.hydra_rules import refusal

    hydra = OmegaConf.to_container(cfg.hydra, resolve=False)
    chosen = {g: c for g, c in hydra["runtime"]["choices"].items() if g.startswith("hydra/")}
    sources = hydra["runtime"]["config_sources"]
    own = _hydra_own_choices()
    for group, choice in chosen.items():
        if choice is not None and choice not in own.get(group, ()):
            where = _config_file(sources, f"{group}/{choice}")
            raise InputError(
                f"{group}={choice}{f' ({where})' if where else ''}: a config of Hydra's group "
                f"{group} that Hydra does not ship, and {REFUSED_BECAUSE} (Hydra's settings "
                "can name code): choose one of Hydra's own ("
                f"{', '.join(sorted(own.get(group, ()))) or 'none'})"
            )
    key_why = refusal(hydra, _shipped(tuple(sorted(chosen.items())), caller))
    if key_why is not None:
        key, why = key_why
        where, fix = _where(key, (loader, config_name, overrides, mode), sources)
        raise InputError(
            f"{key}{where}: {why}. {REFUSED_BECAUSE}, nor lets one write files outside the "
            f"run: {fix}"
        )


@functools.cache
def _hydra_own_choices() -> dict[str, frozenset[str]]:
    """The configs of each ``hydra/<group>`` Hydra ships (its launcher and sweeper: basic)."""
    from importlib.resources import files

    root = files("hydra.conf") / "hydra"
    own = {
        f"hydra/{group.name}": frozenset(
            f.name.removesuffix(".yaml") for f in group.iterdir() if f.name.endswith(".yaml")
        )
        for group in root.iterdir()
        if group.is_dir() and not group.name.startswith("_")
    }
    return {**own, "hydra/launcher": frozenset({"basic"}), "hydra/sweeper": frozenset({"basic"})}


@functools.cache
def _shipped(choices: tuple[tuple[str, str | None], ...], caller: tuple) -> dict:
    """tsfm's own ``hydra`` node: ``conf/config.yaml`` with these ``hydra/*`` choices only."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.types import RunMode

    from tsfm.config import CONF_DIR

    search_path = create_automatic_config_search_path(caller[0], caller[1], str(CONF_DIR))
    loader = ConfigLoaderImpl(config_search_path=search_path)
    overrides = [f"{group}={choice}" for group, choice in choices if choice is not None]
    cfg = loader.load_configuration("config", overrides, RunMode.MULTIRUN)
    return OmegaConf.to_container(cfg.hydra, resolve=False)


def _where(key: str, composition: tuple, sources: list[dict]) -> tuple[str, str]:
    """``(" (set in <file>)", the fix)`` for the dotted ``key`` of the config ``composition``
    (``(loader, config name, overrides, run mode)``) composed from the search path
    ``sources``: the command line's override that sets it, else the last config file of the
    defaults list that does."""
    loader, config_name, overrides, mode = composition

    def within(other: str) -> bool:  # one key inside the other
        return key == other or key.startswith(f"{other}.") or other.startswith(f"{key}.")

    generic = ("", f"remove {key} from the config that sets it")
    try:
        defaults = loader.compute_defaults_list(config_name, overrides, mode)
    except Exception:  # it composed a moment ago; name no file rather than fail here
        return generic
    for override in reversed(defaults.config_overrides):
        if within(override.key_or_group):
            return f" (set on the command line: {override.input_line})", (
                f"drop {override.input_line}"
            )
    for default in reversed(defaults.defaults):
        path = _config_file(sources, default.config_path)
        package = default.package or ""
        if path is None or not (package == "" or within(package)):
            continue
        inner = key[len(package) + 1 :] if package and key.startswith(f"{package}.") else key
        node = OmegaConf.load(path)  # YAML only: nothing runs
        if OmegaConf.is_dict(node):
            node.pop("defaults", None)
            if not package or key.startswith(f"{package}."):
                found = OmegaConf.select(node, inner, default=None) is not None
            else:  # the key holds this whole file
                found = bool(node)
            if found:
                return f" (set in {path})", f"remove it from {path}"
    return generic


def _config_file(sources: list[dict], config_path: str | None) -> Path | None:
    """The file ``<config_path>.yaml`` Hydra reads from the search path ``sources`` (a composed
    config's ``hydra.runtime.config_sources``); None for a config of Hydra's own or of the
    config store."""
    from importlib.resources import files

    if config_path is None:
        return None
    for source in sources:
        path = Path(source["path"]) / f"{config_path}.yaml"
        if source["schema"] == "file" and path.is_file():
            return path
        own = source["schema"] == "pkg" and source["path"] == "hydra.conf"
        if own and files("hydra.conf").joinpath(f"{config_path}.yaml").is_file():
            return None
    return None
