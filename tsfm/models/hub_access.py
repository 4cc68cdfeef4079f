"""Reaching the Hugging Face Hub: one quick check before a pretrained backbone is fetched.

Where no connection can be made, huggingface_hub retries a download five times with
back-off before it gives up (about 25 s when the host name does not resolve, minutes behind
a firewall that drops packets), logging each retry. tsfm asks the Hub once instead: when it
answers, loading proceeds as usual, downloads included; when it does not, loading reads the
local Hugging Face cache only (as with ``HF_HUB_OFFLINE=1``) and a failure says the Hub could
not be reached. :func:`hub_access` does the same for libraries without a ``local_files_only``
option (open_clip) by switching huggingface_hub to offline mode while they load.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

OFFLINE_VALUES = ("1", "true", "yes", "on")


def offline_requested(local_files_only: bool = False) -> bool:
    """Whether loading must not touch the network (``local_files_only``, ``HF_HUB_OFFLINE``
    or ``TRANSFORMERS_OFFLINE``, read now rather than when huggingface_hub was imported)."""
    flag = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return local_files_only or flag.strip().lower() in OFFLINE_VALUES


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def unreachable_reason(timeout: float | None = None) -> str | None:
    """None when the Hub answers one request (any answer below HTTP 500), else why not.

    One request through huggingface_hub's own session (its proxies and settings), no retries,
    timing out after ``timeout`` seconds (default: ``HF_HUB_ETAG_TIMEOUT``, 10 s)."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    wait = timeout if timeout is not None else constants.HF_HUB_ETAG_TIMEOUT
    try:
        response = get_session().head(constants.ENDPOINT, timeout=wait)
    except Exception as error:  # refused, name not resolved, timed out, proxy failure
        lines = str(error).splitlines() or [""]
        return f"{type(error).__name__}: {lines[0]}".rstrip(": ")
    if response.status_code >= 500:
        return f"it answered HTTP {response.status_code}"
    return None


def unreachable_note(reason: str) -> str:
    """Why a pretrained download failed when the Hub could not be reached."""
    return (
        f"the Hugging Face Hub at {hub_endpoint()} cannot be reached ({reason}) and the "
        "local Hugging Face cache does not hold them"
    )


class _DownloadErrors(logging.Filter):
    """Drops the download errors open_clip logs on the root logger before it raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to download")


@contextlib.contextmanager
def quiet_hub_logs() -> Iterator[None]:
    """huggingface_hub's retry warnings and open_clip's download errors silenced meanwhile
    (tsfm's own error says what failed)."""
    noise, root, hub = _DownloadErrors(), logging.getLogger(), logging.getLogger("huggingface_hub")
    level = hub.level
    root.addFilter(noise)
    hub.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.removeFilter(noise)
        hub.setLevel(level)


@contextlib.contextmanager
def hub_access(local_files_only: bool = False) -> Iterator[str | None]:
    """Load from the Hub meanwhile only if it answers; yields why it cannot be reached (None
    when it answers, or when offline mode was asked for). While offline (asked for, or the
    Hub unreachable) huggingface_hub serves the local cache only, without retries."""
    from huggingface_hub import constants

    asked = offline_requested(local_files_only) or constants.HF_HUB_OFFLINE
    reason = None if asked else unreachable_reason()
    offline_before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = asked or reason is not None
    try:
        with quiet_hub_logs():
            yield reason
    finally:
        constants.HF_HUB_OFFLINE = offline_before
