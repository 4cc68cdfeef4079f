"""Reading JSON as strict JSON: NaN and Infinity tokens are an error, as in other parsers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _refuse(token: str) -> Any:
    raise ValueError(f"non-standard JSON token {token}")


def read_strict_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(), parse_constant=_refuse)
