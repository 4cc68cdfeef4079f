"""Hostile files for the hardening tests: a pickle that runs code when it is unpickled, a
model folder that asks transformers to run code of its own, and a loopback HTTP server that
serves a folder and records every request."""

from __future__ import annotations

import builtins
import contextlib
import functools
import http.server
import json
import os
import pickle
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import torch


class CreatesFile:
    """Unpickling this creates ``marker`` (``open(marker, "w")``): proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class RunsCommand:
    """Unpickling this runs ``touch marker`` through ``os.system`` (pickled as
    ``posix.system``, a module torch's weights-only loading blocks outright)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def write_payload(path: Path, marker: Path, *, torch_format: bool = True) -> Path:
    """A checkpoint-looking file whose loading with full unpickling creates ``marker``."""
    content = {"state_dict": {}, "payload": CreatesFile(marker)}
    if torch_format:
        torch.save(content, path)
    else:
        path.write_bytes(pickle.dumps(content, protocol=2))
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """``(base URL, requested paths)`` of a server on 127.0.0.1 serving ``directory``,
    stopped when the block ends."""
    requests: list[str] = []

    class Recording(_QuietHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

    handler = functools.partial(Recording, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


AUTO_MAP = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}


def own_code_folder(
    tmp_path: Path, model_type: str = "gpt2", tokenizer: bool = False
) -> tuple[Path, Path]:
    """A tiny GPT-2 folder whose config.json (or tokenizer_config.json) names its evil.py in
    an auto_map: ``(folder, marker)``, the marker created when evil.py runs."""
    from tests.helpers.backbones import tiny_backbone_dir

    folder = tmp_path / f"own-code-{model_type}{'-tokenizer' if tokenizer else ''}"
    shutil.copytree(tiny_backbone_dir("gpt2"), folder)
    marker = tmp_path / "code-ran"
    (folder / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from transformers import GPT2Config, GPT2Model\n"
        "from transformers import PreTrainedTokenizerFast as EvilTokenizer\n"
        f"class EvilConfig(GPT2Config):\n    model_type = {model_type!r}\n"
        "class EvilModel(GPT2Model):\n    config_class = EvilConfig\n"
    )
    if tokenizer:
        auto_map = {"AutoTokenizer": ["evil.EvilTokenizer", None]}
        content = {"tokenizer_class": "EvilTokenizer", "auto_map": auto_map}
        (folder / "tokenizer_config.json").write_text(json.dumps(content))
    else:
        config = json.loads((folder / "config.json").read_text())
        config.update(model_type=model_type, auto_map=AUTO_MAP)
        (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


def questions_answered_yes(monkeypatch) -> list[str]:
    """The questions put on the terminal from now on (``input``), each answered "y", as a
    user might: code a library asks to run would then run."""
    questions: list[str] = []

    def answer(prompt: str = "") -> str:
        questions.append(prompt)
        return "y"

    monkeypatch.setattr(builtins, "input", answer)
    return questions
