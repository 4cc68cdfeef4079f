"""Which tsfm saved a folder, to say so when the folder does not load.

``versions.json`` (written by :mod:`tsfm.estimator.saving`) is read as strict JSON and used
for one thing only: naming the version in a load error, and, when it is newer than this
tsfm, saying to upgrade (a newer tsfm may write parameters, keys or formats this one does
not know, which would otherwise read as a file not saved by tsfm). Nothing else trusts it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

from tsfm.errors import InputError

MAX_BYTES = 1 << 16  # versions.json is a few lines
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!_-]{0,63}$")


def _no_constants(token: str) -> None:
    raise ValueError(f"non-standard JSON number {token}")


def saved_by(folder: Path) -> str | None:
    """The tsfm version ``folder/versions.json`` names (None: absent, unreadable, or not a
    version number)."""
    path = folder / "versions.json"
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        record = json.loads(path.read_text(), parse_constant=_no_constants)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    version = record.get("tsfm") if isinstance(record, dict) else None
    return version if isinstance(version, str) and VERSION.match(version) else None


def newer_than_this(version: str) -> bool:
    """Whether ``version`` is a later release than the tsfm running (False if either does
    not parse)."""
    import tsfm

    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with lightning
        return False
    try:
        return Version(version) > Version(tsfm.__version__)
    except InvalidVersion:
        return False


def version_note(folder: Path) -> str:
    """What a load error of ``folder`` adds: which tsfm saved it, and to upgrade when that
    one is newer ('' when versions.json names none)."""
    import tsfm

    version = saved_by(folder)
    if version is None:
        return ""
    if newer_than_this(version):
        return (
            f". It was saved by tsfm {version} (its versions.json), newer than this tsfm "
            f"{tsfm.__version__}, which may not know what that version writes: upgrade tsfm to "
            f"{version} or later to load it"
        )
    return f" (saved by tsfm {version}, its versions.json says; this is tsfm {tsfm.__version__})"


@contextlib.contextmanager
def naming_the_saving_version(folder: Path) -> Iterator[None]:
    """A refusal to load ``folder`` (an input error or a missing file) says which tsfm saved
    it (:func:`version_note`)."""
    try:
        yield
    except (InputError, FileNotFoundError) as err:
        note = version_note(folder)
        if not note:
            raise
        try:
            noted = type(err)(f"{err}{note}")
        except Exception:  # an error type built otherwise: as it was
            raise err from None
        raise noted from None
