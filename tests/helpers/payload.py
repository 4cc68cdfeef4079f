"""Hostile files for the hardening tests: a pickle that runs code when it is unpickled, and a
loopback HTTP server that serves a folder and records every request."""

from __future__ import annotations

import contextlib
import functools
import http.server
import pickle
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
