"""Every key of a composed run config checked against its typed schema, with the nearest keys.

Hydra refuses ``model.d_modle=64`` (a key the schema lacks) while composing, but a ``+key=...``
override adds keys to any section, and nothing would read them: ``+callbacks.early_stopping.
patiense=1`` trained with the default patience. :func:`check_known_keys` refuses such keys
right after composition (every section typed by a dataclass schema: the run config,
``data``, ``model`` (each model's own schema), ``optim``, ``trainer``, ``callbacks``,
``logger``, ``output``, ``conformal``, ``tune``); :func:`composition_error` turns Hydra's own
refusal into the same message with the nearest keys.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.errors import InputError

Describe = Callable[[str], str]
LISTED = 30  # names listed when none is near


def unknown_key(key: str, names: Iterable[str], subject: str | None = None) -> str:
    """Why ``key`` (dotted) is not a setting: its section's nearest settings, or all of them.
    ``subject`` names who set it (an override, a parameter; default: the key)."""
    section, _, name = key.rpartition(".")
    prefix = f"{section}." if section else ""
    hint = nearest(name, names, prefix, "its settings")
    where = f"section '{section}'" if section else "the run config"
    return f"{subject or f'unknown key {key}'}: {where} has no setting '{name}' ({hint})"


def nearest(name: str, names: Iterable[str], prefix: str = "", kind: str = "the choices") -> str:
    """``did you mean ...?`` with the names nearest to ``name``, or the names (at most
    :data:`LISTED`)."""
    names = sorted(str(n) for n in names)
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if near:
        return f"did you mean {' or '.join(repr(prefix + n) for n in near)}?"
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return f"{kind}: {', '.join(names[:LISTED])}{more}"


def schema_names(node: Any) -> list[str] | None:
    """The settings a config section's schema declares (None: the section is free-form)."""
    kind = OmegaConf.get_type(node) if OmegaConf.is_config(node) else None
    if kind is None or not dataclasses.is_dataclass(kind):
        return None
    return [f.name for f in dataclasses.fields(kind)]


def unknown_keys(node: DictConfig, where: str = "") -> list[tuple[str, list[str]]]:
    """``(key, the settings of its section)`` for every key a typed section does not declare."""
    found = []
    names = schema_names(node)
    if names is not None:
        own = ("hydra",) if not where else ()  # Hydra's node (return_hydra_config=True)
        found += [(f"{where}{key}", names) for key in node if key not in (*names, *own)]
    for key in node:
        if not where and key == "hydra":
            continue
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none() and not child._is_missing():
            found += unknown_keys(child, f"{where}{key}.")
    return found


def check_known_keys(cfg: DictConfig, describe: Describe = str) -> None:
    """Refuse a key (added with ``+key=...``, or in a config file) that its section's schema
    does not declare, since nothing would read it; ``describe`` names the key for the
    caller's user."""
    found = unknown_keys(cfg)
    if found:
        key, names = found[0]
        subject = describe(key)
        raise InputError(
            f"{unknown_key(key, names, None if subject == key else subject)}; nothing reads a "
            "key its section's schema does not declare"
        )


def composition_error(err: BaseException) -> str | None:
    """Hydra's refusal of an override naming a key or config its schema lacks, as a message
    with the nearest names (None for any other failure: Hydra's own message stands)."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    moved = _moved_schema(err)
    if moved is not None:
        return moved
    if isinstance(err, MissingConfigException) and err.options is not None:
        group, _, name = str(err.missing_cfg_file or "").rpartition("/")
        if not group:
            return None
        return f"{group}={name}: no config '{name}' in {group}/ ({nearest(name, err.options)})"
    cause = err.__cause__
    full_key = getattr(cause, "full_key", None)
    kind = getattr(cause, "object_type", None)
    if not isinstance(cause, (ConfigAttributeError, ConfigKeyError)) or not full_key:
        return None
    if kind is None or not dataclasses.is_dataclass(kind):
        return None
    names = [f.name for f in dataclasses.fields(kind)]
    return None if str(full_key).rpartition(".")[2] in names else unknown_key(full_key, names)


# The schemas' names before they moved to the group schema/<group>/ (then also choices of
# their group): a user's config copied from a shipped one may still extend them.
_OLD_SCHEMAS = {"data/data_schema": "data/data", "data/m4_data_schema": "data/m4"}


def _moved_schema(err: BaseException) -> str | None:
    """The fix for a config extending a schema by its old name (``- data_schema`` in its
    defaults list), else None."""
    match = re.search(r"In '([^']+)': Could not load '(\w+)/(\w+)_schema'", str(err))
    if match is None:
        return None
    where, group, name = match.groups()
    new = _OLD_SCHEMAS.get(f"{group}/{name}_schema", f"{group}/{name}")
    return (
        f"{where} extends '{name}_schema', a schema's name before it moved: in its defaults "
        f"list write '/schema/{new}@_here_' instead of '{name}_schema' (as conf/{group}/ does)"
    )
