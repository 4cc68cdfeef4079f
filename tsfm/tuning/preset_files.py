"""Where an experiment preset's file is, and which keys it sets: the best preset of
``python -m tsfm.tune`` starts from them (:func:`tsfm.tuning.config_study.base_of_best`).

The folders are those Hydra read the configs from (``conf/``, ``--config-dir``,
``hydra.searchpath``), in its order, so the file found is the one Hydra composed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tsfm.config import CONF_DIR
from tsfm.errors import InputError


def config_folders(runtime: DictConfig) -> list[Path]:
    """The folders configs are read from, in Hydra's order (``conf/``, ``--config-dir``,
    ``hydra.searchpath``), from a composed config's ``hydra.runtime``."""
    return [Path(s.path) for s in runtime.config_sources if s.schema == "file"] or [CONF_DIR]


def preset_file(name: str, folders: Sequence[Path]) -> Path:
    """The file of ``experiment=<name>`` in the first of ``folders`` holding it; refused
    when none does (the best preset is written from it)."""
    path = _config_file(f"experiment/{name}", folders)
    if path is None:
        raise InputError(
            f"experiment={name}: no experiment/{name}.yaml in the config folders "
            f"({', '.join(map(str, folders))}), and the best preset is written from it: put "
            "the preset in a folder and pass it with --config-dir <folder> or "
            "hydra.searchpath=[file://<folder>]"
        )
    return path


def _config_file(config_path: str, folders: Sequence[Path]) -> Path | None:
    found = (f / f"{config_path}.yaml" for f in folders)
    return next((p for p in found if p.is_file()), None)


def preset_keys(path: Path, folders: Sequence[Path]) -> list[str]:
    """The keys an experiment file sets, with those of the bases it pulls in (its defaults
    entries that name a config, such as ``base/itransformer_etth1``), bases first."""
    preset = OmegaConf.load(path)
    keys: list[str] = []
    for entry in preset.pop("defaults", []):
        if isinstance(entry, str) and entry != "_self_":
            if entry.startswith("/"):  # absolute: from the search path, as Hydra reads it
                base = _config_file(entry[1:], folders) or CONF_DIR / f"{entry[1:]}.yaml"
            else:
                base = path.parent / f"{entry}.yaml"
            keys += preset_keys(base, folders)
    return keys + _leaf_keys(preset)


def _leaf_keys(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, DictConfig):
        return [leaf for key in node for leaf in _leaf_keys(node[key], f"{prefix}{key}.")]
    return [prefix.rstrip(".")]
