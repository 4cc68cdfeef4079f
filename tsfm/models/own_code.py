"""Model folders that ask to run their own code, refused before transformers reads them.

A transformers folder (or Hub repository) can ship Python files and name them in the
``auto_map`` of its ``config.json`` or ``tokenizer_config.json``; given a ``model_type`` it
does not know, transformers asks on the terminal whether to run them, and runs them on "y".
tsfm never runs code from what it reads: :func:`refuse_own_code` refuses such a folder (or
a Hub id whose config this machine holds) before transformers sees it; every
``from_pretrained`` tsfm calls passes ``trust_remote_code=False`` (:data:`NO_REMOTE_CODE`)
besides, and libraries that take no such option (open_clip, which builds Hugging Face text
towers) run under :func:`no_code_prompts`, so no question is ever asked and stdin is never
read. transformers' own refusal, where it comes first, reads as ours
(:func:`is_own_code_refusal`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tsfm.errors import InputError
from tsfm.models.hub_access import offline_requested

CONFIG_FILES = ("config.json", "tokenizer_config.json")
NO_REMOTE_CODE: dict[str, Any] = {"trust_remote_code": False}


def _code_files(auto_map: Any) -> list[str]:
    """The Python files an ``auto_map`` names (``evil.EvilModel`` -> ``evil.py``; a value may
    name another repository, ``repo--module.Class``, or be a list, as for tokenizers)."""
    values = auto_map.values() if isinstance(auto_map, dict) else [auto_map]
    files = set()
    for value in values:
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and "." in item:
                files.add(item.split("--")[-1].rsplit(".", 1)[0] + ".py")
    return sorted(files)


def own_code_reasons(config: Any, file: str) -> list[str]:
    """Why the content ``config`` of ``file`` (``config.json``, ``tokenizer_config.json``)
    asks to run code of its own; empty where it does not."""
    if not isinstance(config, dict):
        return []
    reasons = []
    if config.get("auto_map"):
        files = ", ".join(_code_files(config["auto_map"])) or "Python files"
        reasons.append(f"the auto_map of its {file} names {files}")
    if file == "config.json" and "model_type" in config:
        import transformers
        from transformers import CONFIG_MAPPING

        model_type = config["model_type"]
        if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
            reasons.append(
                f"its config.json's model_type {model_type!r} is no model transformers "
                f"{transformers.__version__} knows: its code would come with the model"
            )
    return reasons


def _config_files(source: str, download: bool) -> list[Path]:
    """The config files of ``source``: a local folder's, else a Hub repository's that the
    Hugging Face cache holds (fetched first with ``download``, unless offline)."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        return [folder / name for name in CONFIG_FILES if (folder / name).is_file()]
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    found = []
    for name in CONFIG_FILES:
        with contextlib.suppress(Exception):  # not a repository id, or not cached
            cached = try_to_load_from_cache(source, name)
            if isinstance(cached, str):
                found.append(Path(cached))
            elif download and cached is None and not offline_requested():
                found.append(Path(hf_hub_download(source, name)))
    return found


def refuse_own_code(
    source: str, setting: str, name: str | None = None, download: bool = False
) -> None:
    """Refuse ``setting=name`` (read from ``source``, a folder or a Hub id; ``name``: as the
    user gave it, default ``source``) when its config asks to run code of its own. A Hub id
    is checked from the local cache; ``download`` fetches its config files first (online),
    for a library that cannot be told to refuse such code."""
    reasons = []
    for path in _config_files(source, download):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # unreadable: transformers says so, running nothing
            continue
        reasons += own_code_reasons(content, path.name)
    if reasons:
        raise InputError(own_code_message(name or source, setting, "; ".join(reasons)))


def own_code_message(source: str | None, setting: str, why: str) -> str:
    """The refusal of ``setting=source`` (``setting`` alone where the source is not known),
    which asks to run code of its own (``why``)."""
    given = setting if source is None else f"{setting}='{source}'"
    return (
        f"{given} asks to run Python code of its own ({why}), which tsfm never "
        "does: it loads standard transformers architectures only, whose code ships with "
        "transformers. Use a folder of a standard architecture (GPT-2, BERT, RoBERTa, "
        'MiniLM), e.g. saved with save_pretrained from a stock model: python -c "from '
        "transformers import AutoModel; AutoModel.from_pretrained('gpt2')"
        ".save_pretrained('DIR')\", and pass that DIR"
    )


def is_own_code_refusal(error: BaseException) -> bool:
    """Whether ``error`` is transformers refusing a model's own code (``trust_remote_code``)."""
    return isinstance(error, ValueError) and "trust_remote_code" in str(error)


TRANSFORMERS_SAYS = "transformers found code of its own named in a config it read"


@contextlib.contextmanager
def no_code_prompts(setting: str) -> Iterator[None]:
    """transformers refuses a model's own code without asking, for code that cannot pass it
    ``trust_remote_code=False`` (open_clip): its question on the terminal is skipped, as in
    its CI setting, and its refusal is tsfm's, naming ``setting``."""
    try:
        from transformers import dynamic_module_utils as modules
    except ImportError:  # no transformers: nothing can ask
        modules = None
    asks = modules is not None and hasattr(modules, "TIME_OUT_REMOTE_CODE")
    if asks:
        before, modules.TIME_OUT_REMOTE_CODE = modules.TIME_OUT_REMOTE_CODE, 0
    try:
        yield
    except ValueError as error:
        if is_own_code_refusal(error):
            raise InputError(own_code_message(None, setting, TRANSFORMERS_SAYS)) from None
        raise
    finally:
        if asks:
            modules.TIME_OUT_REMOTE_CODE = before
